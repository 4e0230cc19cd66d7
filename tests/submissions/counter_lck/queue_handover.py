# Each thread puts its type on a queue.Queue; main drains it after the joins and counts.
import queue
import threading

q = queue.Queue()


def counter(type_):
    q.put(type_)


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        rows = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in rows[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    cnt_dct = {}
    while not q.empty():
        t = q.get()
        cnt_dct[t] = cnt_dct.get(t, 0) + 1
    print("集計結果：", cnt_dct)
