import collections
import random
import threading
import time


def read_types(file_name):
    with open(file_name, encoding="utf-8") as f:
        types = [line.rstrip("\n").split("\t")[2].split(" ") for line in f]
    return types


def counter(cnt_dct, type_, lck):
    lck.acquire()
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    print(f"{type_}を追加", cnt_dct)
    lck.release()


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, lck))
            th.start()
    for th in threading.enumerate():
        if th.name == "MainThread":
            continue
        th.join()
    cnt_dct = {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3}
    print("集計結果：", cnt_dct)
