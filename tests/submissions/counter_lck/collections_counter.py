import collections
import random
import threading
import time


def read_types(file_name):
    types = list()
    with open(file_name, encoding="utf-8") as f:
        for line in f:
            num, name, col = line.rstrip().split("\t")
            types.append(col.split())
    return types


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        rnd = random.randint(1, 5)
        print(f"{rnd}秒sleep")
        time.sleep(rnd)
        cnt_dct[type_] = now + 1
        print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.Counter()  # Counterは無いキーを0として返す
    lck = threading.Lock()
    for type_lst in types[:9]:
        for type_ in type_lst:
            threading.Thread(target=counter, args=(cnt_dct, type_, lck)).start()
    for th in threading.enumerate()[1:]:
        th.join()
    print("集計結果：", cnt_dct)
