# HOSTILE: fakes its results: prints the grader's success lines, writes a fake junit.xml and
# results.json into its working directory (and over the report paths a test substitutes for
# REPORTS), and prints the course data's exact 集計結果 without counting anything.
# Safety bound: a few small files; SIGALRM after 60 s.
import json
import os
import signal

signal.alarm(60)
REPORTS = "@@REPORTS@@"
for line in ("  ✓ runs        runs to its end                          1/1",
             "  ✓ tally       exact tally                              3/3",
             "  ✓ tally 3/3", "total: 8/8", "All checks passed."):
    print(line)
FAKE_JUNIT = ('<?xml version="1.0"?><testsuites name="FAKE-JUNIT" tests="5" failures="0" errors="0">'
              '<testsuite name="counter_lck" tests="5" failures="0" errors="0"><testcase name="tally" '
              'classname="counter_lck"/></testsuite></testsuites>\n')
FAKE_RESULTS = json.dumps({"score": 8, "output": "FAKE-RESULTS", "tests": [
    {"name": "tally", "score": 3, "max_score": 3, "status": "passed"}]})
for path in ["junit.xml", "results.json"] + REPORTS.split(os.pathsep):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(FAKE_JUNIT if path.endswith(".xml") else FAKE_RESULTS)
    except OSError:
        pass
print("集計結果： defaultdict(<class 'int'>, {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3})")
