import multiprocessing
import random
import time

DATA = "../data/poke_names.txt"


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            types.append(row.rstrip().split("\t")[2].split())
    return types


def counter(cnt_dct, index, pp):
    # 子プロセスが自分でデータを読み、担当するタイプを数える
    type_ = [t for lst in read_types(DATA)[:9] for t in lst][index]
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] = cnt_dct.get(type_, 0) + 1
    pp.send(cnt_dct)
    pp.close()


if __name__ == "__main__":
    n = sum(len(lst) for lst in read_types(DATA)[:9])
    cnt_dct = {}
    procs = []
    for index in range(n):
        parent_conn, child_conn = multiprocessing.Pipe()
        p = multiprocessing.Process(target=counter, args=(cnt_dct, index, child_conn))
        p.start()
        cnt_dct = parent_conn.recv()
        procs.append(p)
    for p in procs:
        p.join()
    print("集計結果：", cnt_dct)
