# 講義サンプル counter.py: タイプの出現回数を逐次処理で数える (sequential type counter, exact tally, ~40 s of sleep)
import collections
import random
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


def counter(cnt_dct, type_):
    now = cnt_dct[type_]
    rnd = random.randint(1, 5)
    print(f"{rnd}秒sleep")
    time.sleep(rnd)
    cnt_dct[type_] = now+1
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    for type_lst in types[:9]:
        for type_ in type_lst:
            counter(cnt_dct, type_)
    print("集計結果：", cnt_dct)
