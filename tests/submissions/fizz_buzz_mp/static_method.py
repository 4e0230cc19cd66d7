import time
from multiprocessing import Process


class FB:
    @staticmethod
    def fizz_buzz(num, bgn0):
        result_lst = []
        for i in range(1, num + 1):
            if i % 15 == 0:
                result_lst.append("FizzBuzz")
            elif i % 3 == 0:
                result_lst.append("Fizz")
            elif i % 5 == 0:
                result_lst.append("Buzz")
            else:
                result_lst.append(i)
        print(f"fizz_buzz end: {num}")
        return result_lst

if __name__ == "__main__":
    bgn0 = time.time()
    fb = FB()
    for num in [i*10000000 for i in range(5, 0, -1)]:
        Process(target=fb.fizz_buzz, args=(num, bgn0)).start()
    print("start")
