# 型の名前と数を2つのリストで数える（Lockあり）
import random
import threading
import time

NAMES = []
COUNTS = []


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(type_, lck):
    time.sleep(random.randint(1, 5))
    with lck:
        if type_ not in NAMES:
            NAMES.append(type_)
            COUNTS.append(0)
        i = NAMES.index(type_)
        COUNTS[i] += 1
    print(f"{type_}を追加")


if __name__ == "__main__":
    types = read_types("../data/poke_names.txt")
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", dict(zip(NAMES, COUNTS)))
