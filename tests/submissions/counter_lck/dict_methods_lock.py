from threading import Thread, Lock
import random
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_, lck):
    lck.acquire()
    try:
        now = dict.get(cnt_dct, type_, 0)
        time.sleep(random.randint(1, 5))
        dict.__setitem__(cnt_dct, type_, now + 1)
        print(f"{type_}を追加", cnt_dct)
    finally:
        lck.release()


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}
    lck = Lock()
    ths = [Thread(target=counter, args=(cnt_dct, t, lck)) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
