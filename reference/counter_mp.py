# 講義デモ counter_mp.py: マルチプロセスでは辞書が共有されない (multiprocessing without sharing: the tally stays empty)
import collections
import multiprocessing
import random
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_):
    now = cnt_dct[type_]
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    cnt_dct[type_] = now+1
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    processes = list()
    for type_lst in types[:9]:
        for type_ in type_lst:
            pr = multiprocessing.Process(
                target=counter,
                args=(cnt_dct, type_)
            )
            pr.start()
            processes.append(pr)
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
