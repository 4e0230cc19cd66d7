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


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct.get(type_, 0)
        rnd = random.randint(1, 5)
        print(f"{rnd}秒sleep")
        time.sleep(rnd)
        cnt_dct[type_] = now + 1
        print(f"{type_}を追加")


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    with multiprocessing.Manager() as manager:
        cnt_dct = manager.dict()
        lck = multiprocessing.Lock()
        procs = []
        for type_lst in types[:9]:
            for type_ in type_lst:
                p = multiprocessing.Process(target=counter, args=(cnt_dct, type_, lck))
                p.start()
                procs.append(p)
        for p in procs:
            p.join()
        print("集計結果：", dict(cnt_dct))
