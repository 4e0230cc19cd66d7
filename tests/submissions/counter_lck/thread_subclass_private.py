import collections
import random
import threading
import time


def read_types(file_name):
    types = []
    with open(file_name, encoding="utf-8") as f:
        for row in f:
            col = row.rstrip().split("\t")
            types.append(col[2].split())
    return types


class CountThread(threading.Thread):
    """1つのタイプを数えるスレッド（カウント処理は run() の中）"""

    def __init__(self, cnt_dct, type_, lck):
        super().__init__()
        self.__cnt_dct = cnt_dct
        self.__type = type_
        self.__lck = lck

    def run(self):
        with self.__lck:
            now = self.__cnt_dct[self.__type]
            rnd = random.randint(1, 5)
            print(f"{rnd}秒sleep")
            time.sleep(rnd)
            self.__cnt_dct[self.__type] = now + 1
            print(f"{self.__type}を追加", self.__cnt_dct)


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    lck = threading.Lock()
    ths = [CountThread(cnt_dct, t, lck) for lst in types[:9] for t in lst]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print("集計結果：", cnt_dct)
