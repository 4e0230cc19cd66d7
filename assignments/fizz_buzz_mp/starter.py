# 練習問題 fizz_buzz_mp の配布プログラム (starter): fizz_buzz_mt.py のスレッドを、multiprocessingのプロセスに置き換えて並列に実行する
# TODO: threading.Thread の代わりに multiprocessing.Process を使う (from multiprocessing import Process)
from threading import Thread
import time


def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}")
    result_lst = list()
    for i in range(1, num+1):
        if i % 15 == 0:
            result_lst.append("FizzBuzz")
        elif i % 3 == 0:
            result_lst.append("Fizz")
        elif i % 5 == 0:
            result_lst.append("Buzz")
        else:
            result_lst.append(i)
    end = time.time()
    print(f"fizz_buzz end: {num}\t所要時間: {end-bgn:.2f}秒\t累積時間: {end-bgn0:.2f}秒")
    return result_lst


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    for num in num_lst:
        # TODO: Threadオブジェクトの代わりにProcessオブジェクトを生成し、プロセスの実行を開始する (pr.start())
        th = Thread(
            target=fizz_buzz,
            args=(num, bgn0)
        )
        th.start()
    print("start")
