import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, "r", encoding="utf-8") as f:
        for row in f.readlines():
            items = row.strip().split("\t")
            types.append(items[2].split(" "))
    return types


def counter(cnt_dct, type_, lck):
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    with lck:
        # 読み出しと書き込みをまとめてロックする
        cnt_dct[type_] = cnt_dct.get(type_, 0) + 1
        print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}
    lck = threading.Lock()
    threads = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            threads.append(threading.Thread(target=counter, args=(cnt_dct, type_, lck)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("集計結果：", cnt_dct)
