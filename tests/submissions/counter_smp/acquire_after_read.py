import collections
import random
import threading
import time


def read_types(file_name):
    with open(file_name, encoding="utf-8") as f:
        types = [line.rstrip("\n").split("\t")[2].split(" ") for line in f]
    return types


def counter(cnt_dct, type_, smp):
    now = cnt_dct[type_]  # 読むだけならセマフォはいらない？
    with smp:
        rnd = random.randint(1, 5)
        print(f"{rnd}秒sleep")
        time.sleep(rnd)
        cnt_dct[type_] = now+1
        print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    smp = threading.Semaphore(2)
    th_lst = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, smp))
            th_lst.append(th)
            th.start()
    for th in th_lst:
        th.join()
    print("集計結果：", cnt_dct)
