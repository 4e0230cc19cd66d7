from threading import Thread, Lock
import time
import random


class Counter(Thread):
    lock = Lock()

    def __init__(self, cnt_dct, type_):
        super().__init__()
        self.cnt_dct = cnt_dct
        self.type_ = type_

    def run(self):
        with Counter.lock:
            now = self.cnt_dct.get(self.type_, 0)
            time.sleep(random.randint(1, 5))
            self.cnt_dct[self.type_] = now + 1


def main():
    with open("../data/poke_names.txt", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    cnt_dct = {}
    ths = [Counter(cnt_dct, t) for row in rows[:9] for t in row[2].split(" ")]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)


if __name__ == "__main__":
    main()
