import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


class CountThread(threading.Thread):
    def __init__(self, cnt_dct, type_, lck):
        super().__init__()
        self.cnt_dct = cnt_dct
        self.type_ = type_
        self.lck = lck

    def run(self):
        time.sleep(random.randint(1, 5))
        self.cnt_dct.update({self.type_: self.cnt_dct.get(self.type_, 0) + 1})
        print(f"{self.type_}を追加")


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}
    lck = threading.Lock()
    ths = [CountThread(cnt_dct, t, lck) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
