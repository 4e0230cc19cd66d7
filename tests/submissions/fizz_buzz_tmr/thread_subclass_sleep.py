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


class MyTimer(threading.Thread):
    # Timerと同じように、interval秒待ってから関数を実行するスレッド
    def __init__(self, interval, function, args):
        super().__init__()
        self.interval = interval
        self.function = function
        self.args = args

    def run(self):
        time.sleep(self.interval)
        self.result = self.function(*self.args)


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    ths = []
    for t, num in enumerate(num_lst, 1):
        th = MyTimer(t, fizz_buzz, (num, bgn0))
        th.start()
        ths.append(th)
    print("start")
    for th in ths:
        th.join()
    print(f"全体の所要時間: {time.time()-bgn0:.2f}秒")
