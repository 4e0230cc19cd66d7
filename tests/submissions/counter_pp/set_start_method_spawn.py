# counter_pp with set_start_method("spawn"): 例題 counter_pp の模範解答 (model answer: each process sends the dict back through a Pipe)
import collections
import multiprocessing
import random
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_, pp):
    now = cnt_dct[type_]
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    cnt_dct[type_] = now+1
    pp.send(cnt_dct)
    pp.close()
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # macOS と同じにした
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    processes = list()
    for type_lst in types[:9]:
        for type_ in type_lst:
            pp1, pp2 = multiprocessing.Pipe()
            pr = multiprocessing.Process(
                target=counter,
                args=(cnt_dct, type_, pp1)
            )
            pr.start()
            cnt_dct = pp2.recv()
            processes.append(pr)
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
