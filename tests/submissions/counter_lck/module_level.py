import random
import threading
import time

cnt_dct = {}
lck = threading.Lock()


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(type_):
    global cnt_dct
    lck.acquire()
    if type_ not in cnt_dct:
        cnt_dct[type_] = 0
    now = cnt_dct[type_]
    time.sleep(random.randint(1, 5))
    cnt_dct[type_] = now + 1
    print(f"{type_}を追加", cnt_dct)
    lck.release()


types = read_types("lec11/data/poke_names.txt")
for type_lst in types[:9]:
    for type_ in type_lst:
        threading.Thread(target=counter, args=(type_,)).start()
for th in threading.enumerate():
    if th is not threading.main_thread():
        th.join()
print("集計結果：", cnt_dct)
