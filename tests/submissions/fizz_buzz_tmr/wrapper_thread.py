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


def later(t, num, bgn0):
    time.sleep(t)
    fizz_buzz(num, bgn0)


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    for t, num in enumerate(num_lst, 1):
        threading.Thread(target=later, args=(t, num, bgn0)).start()
    print("start")
