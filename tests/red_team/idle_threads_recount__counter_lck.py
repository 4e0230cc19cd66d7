# Threads that take a decoy Lock and do nothing; main counts the data itself and prints the exact
# tally. The counting is not the threads' work: tally must fail (and lock: nothing to guard).
import collections
import threading

lck = threading.Lock()


def counter(type_):
    with lck:
        pass


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        rows = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in rows[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", dict(collections.Counter(t for row in rows[:9] for t in row)))
