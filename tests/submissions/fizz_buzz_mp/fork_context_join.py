import time
import multiprocessing as mp

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
    ctx = mp.get_context("fork")
    ps = [ctx.Process(target=fizz_buzz, args=(n * 10000000, bgn0)) for n in range(5, 0, -1)]
    for p in ps:
        p.start()
    print("start")
    for p in ps:
        p.join()
