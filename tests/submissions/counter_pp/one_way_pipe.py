import multiprocessing
import random
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for line in f:
            types.append(line.strip().split("\t")[2].split())
    return types


def counter(cnt_dct, type_, conn):
    now = cnt_dct.get(type_, 0)
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    cnt_dct[type_] = now + 1
    conn.send(cnt_dct)
    conn.close()
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}
    procs = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            r, w = multiprocessing.Pipe(False)  # 受信用, 送信用
            p = multiprocessing.Process(target=counter, args=(cnt_dct, type_, w))
            p.start()
            cnt_dct = r.recv()
            r.close()
            procs.append(p)
    for p in procs:
        p.join()
    print("集計結果：", cnt_dct)
