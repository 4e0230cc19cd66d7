import collections
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for type_lst in types[:9]:
            for type_ in type_lst:
                pool.submit(counter, cnt_dct, type_, lck).result()  # 1つずつ終わるのを待っている
    print("集計結果：", cnt_dct)
