# A Lock held around an unrelated dict; the counts are updated outside it.
import collections
import random
import threading
import time


def read_types(file_name):
    with open(file_name, encoding="utf-8") as f:
        return [row.rstrip().split("\t")[2].split() for row in f]


seen = {}


def counter(cnt_dct, type_, lck):
    with lck:
        seen[type_] = seen.get(type_, 0) + 1
    now = cnt_dct[type_]
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] = now + 1


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
