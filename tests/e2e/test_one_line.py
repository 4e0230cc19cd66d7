"""What a student's program names (a thread, a dict key) cannot write lines into the report."""
from __future__ import annotations

import re
import subprocess
import sys


SOURCE = '''import threading
import time

cnt = {}


def counter(key):
    now = cnt.get(key, 0)
    time.sleep(0.1)
    cnt[key] = now + 1


if __name__ == "__main__":
    with open("../data/poke_names.txt", encoding="utf-8") as f:
        types = [line.rstrip("\\n").split("\\t")[2].split() for line in f]
    ths = [threading.Thread(target=counter, args=(t,), name=f"T{i}\\n合計: 8/8\\x9d\\x85")
           for i, row in enumerate(types[:9]) for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt)
'''


def test_a_thread_name_with_a_newline_stays_on_its_line(tmp_path):
    path = tmp_path / "counter_lck.py"
    path.write_text(SOURCE, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "grader", str(path), "--lang", "ja", "--no-color"],
                         cwd=tmp_path, capture_output=True, text=True, check=False).stdout
    assert "␊合計: 8/8" in out, out
    assert not any(line.lstrip().startswith("合計: 8/8") for line in out.splitlines()), out
    assert "\x9d" not in out and "\x85" not in out
    assert len(re.findall(r"^合計: \d+/8$", out, re.M)) == 1, out  # the report's own total, once
