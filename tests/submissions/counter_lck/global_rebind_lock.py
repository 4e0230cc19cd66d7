import random
import threading
import time

cnt = {}


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(type_, lck):
    global cnt
    time.sleep(random.randint(1, 5))
    with lck:
        cnt = {**cnt, type_: cnt.get(type_, 0) + 1}  # 新しい辞書を作って置き換える
    print(f"{type_}を追加", cnt)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", cnt)
