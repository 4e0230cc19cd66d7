# タイプごとに属性で数える（getattr / setattr）
import random
import threading
import time


class Tally:
    pass


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(tally, type_, lck):
    now = getattr(tally, type_, 0)
    time.sleep(random.randint(1, 5))
    setattr(tally, type_, now + 1)
    print(f"{type_}を追加")


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    tally = Tally()
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(tally, type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", vars(tally))
