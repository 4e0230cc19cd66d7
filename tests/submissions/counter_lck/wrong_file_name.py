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


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    types = read_types("lec11/data/pokemon_names.txt")  # ファイル名の打ち間違い
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for lst in types[:9] for t in lst]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
