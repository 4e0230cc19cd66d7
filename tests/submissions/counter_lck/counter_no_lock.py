import collections
import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            types.append(row.rstrip().split("\t")[2].split())
    return types


def counter(cnt, type_):
    time.sleep(random.randint(1, 5))
    cnt[type_] += 1  # Counter なら0から足せるので安全だと思った


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt = collections.Counter()
    ths = [threading.Thread(target=counter, args=(cnt, t)) for lst in types[:9] for t in lst]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt)
