# 各スレッドが自分の進み具合 self.done を数え、メインが途中で眺める（書くのは1スレッドだけ）
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


class Counter(threading.Thread):
    def __init__(self, cnt_dct, type_, lck):
        super().__init__()
        self.cnt_dct, self.type_, self.lck = cnt_dct, type_, lck
        self.done = 0

    def run(self):
        for _ in range(3):
            self.done += 1
            time.sleep(random.randint(1, 2))
        with self.lck:
            now = self.cnt_dct.get(self.type_, 0)
            time.sleep(random.randint(1, 5))
            self.cnt_dct[self.type_] = now + 1


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {}
    lck = threading.Lock()
    ths = [Counter(cnt_dct, t, lck) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    time.sleep(3)
    print("途中:", sum(th.done for th in ths))
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
