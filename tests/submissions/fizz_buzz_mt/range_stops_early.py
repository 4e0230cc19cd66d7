import threading
import time


def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}")
    res = []
    for i in range(1, num):
        s = ""
        if i % 3 == 0:
            s += "Fizz"
        if i % 5 == 0:
            s += "Buzz"
        res.append(s if s else i)
    end = time.time()
    th = threading.current_thread()
    print(th, th.name)
    print(f"fizz_buzz end: {num}\t所要時間: {end-bgn:.2f}秒\t累積時間: {end-bgn0:.2f}秒")
    return res


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    for num in num_lst:
        th = threading.Thread(target=fizz_buzz, args=(num, bgn0))
        th.start()
    print("start")
    for th in threading.enumerate():
        print(th, th.name)
