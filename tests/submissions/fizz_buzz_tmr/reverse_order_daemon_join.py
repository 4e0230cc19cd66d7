import threading
import time


def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}\tインターバル: {bgn-bgn0:.2f}秒")
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
    timers = []
    # 5秒後のタイマーから先に作る (10000000が5秒後, 50000000が1秒後)
    for t in range(5, 0, -1):
        tm = threading.Timer(t, fizz_buzz, args=((6 - t) * 10000000, bgn0))
        tm.daemon = True
        tm.start()
        timers.append(tm)
    print("start")
    for tm in timers:
        tm.join()
