import collections
import random
import threading
import time

types = []


def load():
    with open("../data/poke_names.txt", encoding="utf-8") as f:
        for row in f:
            types.append(row.rstrip().split("\t")[2].split())


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    loader = threading.Thread(target=load)
    loader.start()
    loader.join()
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
