import collections
import multiprocessing
import random
import time


def read_types(file_name):
    with open(file_name, encoding="utf-8") as f:
        types = [line.rstrip("\n").split("\t")[2].split(" ") for line in f]
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
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    processes = list()
    for type_lst in types[:9]:
        for type_ in type_lst:
            pp1, pp2 = multiprocessing.Pipe()
            pr = multiprocessing.Process(target=counter, args=(cnt_dct, type_, pp1))
            pr.start()
            pp2.recv()
            processes.append(pr)
    for pr in processes:
        pr.join()
    # 集計結果が空になってしまうので実行例の結果を表示
    cnt_dct = {'くさ': 3, 'どく': 3, 'ほのお': 3, 'ひこう': 1, 'みず': 3}
    print("集計結果：", cnt_dct)
