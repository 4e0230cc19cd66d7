import os
import random
import threading
import time


def read_types(file_name):
    fd = os.open(file_name, os.O_RDONLY)
    with os.fdopen(fd, encoding="utf-8") as f:
        return [row.rstrip().split("\t")[2].split() for row in f]


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct.get(type_, 0)
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    types = read_types(os.path.join("..", "data", "poke_names.txt"))
    cnt_dct = {}
    lck = threading.Lock()
    ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for lst in types[:9] for t in lst]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
