"""A program runs under the grader as under ``python file.py < /dev/null``."""
from __future__ import annotations

from grader.exercises import catalog
from grader.grading import grade_seeds
from grader.sources.submission import load_submission

COUNTER = '''import threading
from collections import defaultdict

cnt = defaultdict(int)
lck = threading.Lock()


def counter(t):
    with lck:
        cnt[t] += 1


if __name__ == "__main__":
{before}
    with open("../data/poke_names.txt", encoding="utf-8") as f:
        types = [line.rstrip("\\n").split("\\t")[2].split() for line in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", dict(cnt))
'''


def _grade(tmp_path, before: str):
    path = tmp_path / "counter_lck.py"
    path.write_text(COUNTER.format(before=before), encoding="utf-8")
    [result] = grade_seeds(load_submission(str(path)), catalog.get("counter_lck"), [1])
    return {c.id: c for c in result.checks}


def test_a_print_error_the_program_catches_is_no_crash(tmp_path):
    checks = _grade(tmp_path, '''    try:
        print("\\udcff cannot be encoded")
    except UnicodeEncodeError:
        print("could not print that")
    print("\\udcff", file=__import__("sys").stderr)  # stderr escapes it, as Python's does''')
    assert all(c.passed for c in checks.values()), {i: c.failure.text("en") for i, c in checks.items() if not c.passed}


def test_input_reads_end_of_file_and_the_report_says_why(tmp_path):
    checks = _grade(tmp_path, '''    try:
        name = input("name? ")
    except EOFError:
        name = "nobody"''')
    assert all(c.passed for c in checks.values())
    checks = _grade(tmp_path, '''    name = input("name? ")''')
    text = checks["runs"].failure.text("en")
    assert "EOFError" in text and "no keyboard input" in text, text
    assert "キーボード入力はありません" in checks["runs"].failure.text("ja")
