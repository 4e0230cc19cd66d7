# 13 threads, each adding 1 to its type's count 600 times with no lock: a student making the race
# visible. Every increment is a read and a write of the shared dict that the grader records.
import threading

def read_types(path):
    types = []
    with open(path, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types

def counter(cnt_dct, type_, lck):
    for _ in range(600):
        cnt_dct[type_] += 1
    print(f"{type_}を追加")

if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = {t: 0 for row in types[:9] for t in row}
    lck = threading.Lock()
    ths = []
    for row in types[:9]:
        for t in row:
            th = threading.Thread(target=counter, args=(cnt_dct, t, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", {k: v // 600 for k, v in cnt_dct.items()})
