import time
import sys
from multiprocessing import Process

def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}")
    result_lst = list()
    for i in range(1, num+1):
        if i % 15 == 0:
            result_lst.append("fizzbuzz")
        elif i % 3 == 0:
            result_lst.append("fizz")
        elif i % 5 == 0:
            result_lst.append("buzz")
        else:
            result_lst.append(i)
    end = time.time()
    print(f"fizz_buzz end: {num}\t所要時間: {end-bgn:.2f}秒")
    return result_lst


if __name__ == "__main__":
    bgn0 = time.time()
    ps = [Process(target=fizz_buzz, kwargs={"num": n * 10000000, "bgn0": bgn0}) for n in [5, 4, 3, 2, 1]]
    list(map(lambda p: p.start(), ps))
    sys.stdout.write("start\n")
