import collections
import random
import threading
import time


def read_types(file_name):
    types = list()
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt, type_, lck):
    rnd = random.randint(1, 5)
    time.sleep(rnd)
    cnt.update([type_])  # Counter.update なら1行で数えられる
    print(f"{type_}を追加", cnt)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt = collections.Counter()
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            ths.append(threading.Thread(target=counter, args=(cnt, type_, lck)))
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt)
