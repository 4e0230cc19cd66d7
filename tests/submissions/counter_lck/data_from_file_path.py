import collections
import pathlib
import random
import threading
import time

DATA = pathlib.Path(__file__).resolve().parent / "data" / "poke_names.txt"


def read_types(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[2].split(" ") for line in lines if line]


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1
        print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types(DATA)
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(cnt_dct, type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
