import threading
import time


class FizzBuzzTimer(threading.Timer):
    """インターバルと数を覚えておくTimer"""

    def __init__(self, interval, num, bgn0):
        super().__init__(interval, fizz_buzz, args=(num, bgn0))
        self.num = num


def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}\tインターバル: {bgn-bgn0:.2f}秒")
    result_lst = list()
    for i in range(1, num+1):
        s = ""
        if i % 3 == 0:
            s += "Fizz"
        if i % 5 == 0:
            s += "Buzz"
        result_lst.append(s or i)
    end = time.time()
    print(f"fizz_buzz end: {num}\t所要時間: {end-bgn:.2f}秒\t累積時間: {end-bgn0:.2f}秒")
    return result_lst


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    timers = [FizzBuzzTimer(t, num, bgn0) for t, num in enumerate(num_lst, 1)]
    for tm in timers:
        tm.start()
    print("start")
