# A Thread subclass per type keeps its own count (self.n += 1); main sums them after the joins.
import threading


class Counter(threading.Thread):
    def __init__(self, type_):
        super().__init__()
        self.type_ = type_
        self.n = 0

    def run(self):
        self.n += 1


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        rows = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [Counter(t) for row in rows[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    cnt_dct = {}
    for th in ths:
        cnt_dct[th.type_] = cnt_dct.get(th.type_, 0) + th.n
    print("集計結果：", cnt_dct)
