import codecs
import collections
import os
import random
import threading
import time

PATH = r"C:\Users\taro\Desktop\ProA2\lec11\data\poke_names.txt"


def read_types(file_name):
    if not os.path.exists(file_name):
        raise SystemExit(f"{file_name} がありません")
    types = []
    with codecs.open(file_name, "r", "utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_, lck):
    lck.acquire()
    now = cnt_dct[type_]
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    cnt_dct[type_] = now + 1
    print(f"{type_}を追加", cnt_dct)
    lck.release()


if __name__ == "__main__":
    types = read_types(PATH)
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    for type_lst in types[:9]:
        for type_ in type_lst:
            threading.Thread(target=counter, args=(cnt_dct, type_, lck)).start()
    for th in threading.enumerate():
        if th.name != "MainThread":
            th.join()
    print("集計結果：", cnt_dct)
