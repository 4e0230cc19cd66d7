# 例題 counter_pp の配布プログラム (starter): counter_mp.py をパイプによるプロセス間通信で正しく集計する
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
    # TODO: 更新後のcnt_dctをパイプppを通して送信し (pp.send)、パイプを閉じる (pp.close)
    print(f"{type_}を追加", cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    processes = list()
    for type_lst in types[:9]:
        for type_ in type_lst:
            # TODO: multiprocessing.Pipe()で2つで1組のパイプ(pp1, pp2)を生成
            pr = multiprocessing.Process(
                target=counter,
                args=(cnt_dct, type_, None)  # TODO: Noneの代わりにパイプの片方(pp1)を渡す
            )
            pr.start()
            # TODO: もう片方(pp2)のrecv()でサブプロセスから辞書を受け取り、cnt_dctを最新の状態にする
            processes.append(pr)
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
