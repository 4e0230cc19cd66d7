# タイプごとの箱オブジェクトの n を増やす
import random
import threading
import time


class Box:
    def __init__(self):
        self.n = 0


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(boxes, type_, lck):
    box = boxes[type_]
    now = box.n
    time.sleep(random.randint(1, 5))
    box.n = now + 1
    print(f"{type_}を追加")


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    boxes = {}
    for type_lst in types[:9]:
        for type_ in type_lst:
            boxes.setdefault(type_, Box())
    lck = threading.Lock()
    ths = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            th = threading.Thread(target=counter, args=(boxes, type_, lck))
            th.start()
            ths.append(th)
    for th in ths:
        th.join()
    print("集計結果：", {t: b.n for t, b in boxes.items()})
