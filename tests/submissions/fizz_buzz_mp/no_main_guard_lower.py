from multiprocessing import Process
import time


def fizz_buzz(num, bgn0):
    bgn = time.time()
    print(f"fizz_buzz start: {num}")
    result_lst = []
    for i in range(1, num + 1):
        if i % 15 == 0:
            result_lst.append("fizzbuzz")
        elif i % 3 == 0:
            result_lst.append("fizz")
        elif i % 5 == 0:
            result_lst.append("buzz")
        else:
            result_lst.append(str(i))
    end = time.time()
    print(f"fizz_buzz end: {num}\t所要時間: {end-bgn:.2f}秒\t累積時間: {end-bgn0:.2f}秒")
    return result_lst


bgn0 = time.time()
num_lst = [i*10000000 for i in range(5, 0, -1)]
for num in num_lst:
    pr = Process(target=fizz_buzz, args=(num, bgn0))
    pr.start()
print("start")
