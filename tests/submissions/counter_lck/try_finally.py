import collections
import random
import threading
import time


def read_types(path):
    types = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            types.append(line.strip().split("\t")[2].split())
    return types


def counter(cnt_dct, type_, lck):
    lck.acquire()  # ロック
    try:
        now = cnt_dct[type_]
        rnd = random.randint(1, 5)
        print(f"{rnd}秒sleep")
        time.sleep(rnd)
        cnt_dct[type_] = now + 1
        print(f"{type_}を追加", cnt_dct)
    finally:
        lck.release()  # 例外が起きても必ずアンロック


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    th_lst = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, lck))
            th.start()
            th_lst.append(th)
    for th in th_lst:
        th.join()
    print("集計結果：", cnt_dct)
