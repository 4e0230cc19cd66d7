import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            types.append(row.rstrip().split("\t")[2].split())
    return types


class Tally:
    def __init__(self):
        self.counts = {}
        self.lock = threading.Lock()

    def add(self, type_):
        with self.lock:
            now = self.counts.get(type_, 0)
            rnd = random.randint(1, 5)
            print(f"{rnd}秒sleep")
            time.sleep(rnd)
            self.counts[type_] = now + 1
            print(f"{type_}を追加", self.counts)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    tally = Tally()
    threads = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=tally.add, args=(type_,))
            th.start()
            threads.append(th)
    for th in threads:
        th.join()
    print("集計結果：", tally.counts)
