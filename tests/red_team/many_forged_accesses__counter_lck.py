# 40,000 forged accesses from 300 made-up threads: the analysis must stay bounded.
import collections
import threading

import sys


def _recorder():
    f = sys._getframe()
    while f is not None:
        if "rec" in f.f_locals:
            return f.f_locals["rec"]
        f = f.f_back
    return None

cnt_dct = collections.defaultdict(int)
lck = threading.Lock()


def counter(type_):
    with lck:
        cnt_dct[type_] += 1


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        types = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    rec = _recorder()
    for i in range(20_000):
        rec._write("read", {"obj": 1, "key": "くさ", "val": i, "si": 0, "st": i, "sb": 0, "op": "[]"},
                   (i % 300 + 1, f"Thread-{i % 300}", 0.0))
        rec._write("write", {"obj": 1, "key": "くさ", "val": i + 1, "si": 0, "st": i, "sb": 1, "op": "[]="},
                   ((i + 7) % 300 + 1, f"Thread-{i % 300}", 0.0))
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
