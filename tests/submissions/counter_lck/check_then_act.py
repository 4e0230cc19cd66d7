import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for line in f:
            types.append(line.strip().split("\t")[2].split())
    return types


def counter(cnt_dct, type_, lck):
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    if type_ in cnt_dct:
        cnt_dct[type_] += 1
    else:
        cnt_dct[type_] = 1
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}  # defaultdictを使わずに普通の辞書で
    lck = threading.Lock()
    threads = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            threads.append(threading.Thread(target=counter, args=(cnt_dct, type_, lck)))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print("集計結果：", cnt_dct)
