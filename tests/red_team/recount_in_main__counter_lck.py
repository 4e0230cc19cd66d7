# The lecture's racy counter (no lock), and a tally recounted in main and printed as the result.
import collections
import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_, lck):
    now = cnt_dct[type_]
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] = now + 1
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
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
    recount = collections.defaultdict(int)
    for type_lst in types[:9]:
        for type_ in type_lst:
            recount[type_] += 1
    print("集計結果：", recount)
