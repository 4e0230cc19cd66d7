import collections
import random
import threading
import time

smp = threading.Semaphore(2)


def read_types(file_name):
    types = list()
    with open(file_name, encoding="utf-8") as f:
        for line in f:
            lst = line.rstrip().split("\t")
            types.append(lst[2].split(" "))
    return types


def counter(cnt_dct, type_):
    with smp:
        now = cnt_dct[type_]
        rnd = random.randint(1, 5)
        print(f"{rnd}秒sleep")
        time.sleep(rnd)
        cnt_dct[type_] = now+1
    print(f"{type_}を追加", cnt_dct)  # printはwithの外


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    threads = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            threads.append(threading.Thread(target=counter, args=(cnt_dct, type_)))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print("集計結果：", cnt_dct)
