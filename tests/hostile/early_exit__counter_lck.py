# HOSTILE: prints a correct-looking 集計結果 (the course data's, hard-coded) and leaves with
# os._exit(0): no thread, no cleanup. Safety bound: SIGALRM after 60 s.
import os
import signal
import sys

signal.alarm(60)
print("集計結果： defaultdict(<class 'int'>, {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3})")
sys.stdout.flush()
os._exit(0)
