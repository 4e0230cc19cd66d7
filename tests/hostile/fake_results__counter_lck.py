# HOSTILE: fakes its results: prints the grader's success lines, writes a fake junit.xml and
# results.json into its working directory, and prints the course data's exact 集計結果 without
# counting anything. Safety bound: SIGALRM after 60 s.
import json
import signal

signal.alarm(60)
for line in ("  ✓ runs        runs to its end                          1/1",
             "  ✓ tally       exact tally                              3/3",
             "  ✓ tally 3/3", "total: 8/8", "All checks passed."):
    print(line)
with open("junit.xml", "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0"?><testsuites name="FAKE-JUNIT" tests="5" failures="0" errors="0">'
            '<testsuite name="counter_lck" tests="5" failures="0" errors="0"><testcase name="tally" '
            'classname="counter_lck"/></testsuite></testsuites>\n')
with open("results.json", "w", encoding="utf-8") as f:
    json.dump({"score": 8, "output": "FAKE-RESULTS", "tests": [
        {"name": "tally", "score": 3, "max_score": 3, "status": "passed"}]}, f)
print("集計結果： defaultdict(<class 'int'>, {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3})")
