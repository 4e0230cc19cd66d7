import threading, time, random
from collections import defaultdict

total = defaultdict(int)
guard = threading.Lock()

def counter(kind):
    global total
    guard.acquire()
    try:
        v = total[kind]
        time.sleep(random.randint(1, 5))
        total[kind] = v + 1
    finally:
        guard.release()

if __name__ == "__main__":
    kinds = []
    for line in open("../data/poke_names.txt", encoding="utf-8").read().splitlines()[:9]:
        kinds += line.split("\t")[2].split()
    workers = [threading.Thread(target=counter, args=(k,)) for k in kinds]
    [w.start() for w in workers]
    [w.join() for w in workers]
    print("集計結果：", dict(total))
