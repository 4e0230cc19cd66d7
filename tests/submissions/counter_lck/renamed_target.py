import random
import threading
import time
from threading import Thread


def read_types(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t")[2].split(" ") for line in f if line.strip()]


def count_type(counts, kind, lock):
    # counter という名前はやめて count_type にした
    lock.acquire()
    try:
        now = counts.get(kind, 0)
        time.sleep(random.randint(1, 5))
        counts[kind] = now + 1
        print(f"{kind}を追加", counts)
    finally:
        lock.release()


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    counts = {}
    lock = threading.Lock()
    workers = []
    for lst in types[:9]:
        for kind in lst:
            w = Thread(target=count_type, args=(counts, kind, lock))
            w.start()
            workers.append(w)
    for w in workers:
        w.join()
    print("集計結果：", counts)
