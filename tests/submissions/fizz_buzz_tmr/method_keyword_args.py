import time
import threading


class FB:
    def fizz_buzz(self, num, bgn0):
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
    fb = FB()
    bgn0 = time.time()
    for t, num in enumerate([i*10000000 for i in range(5, 0, -1)], 1):
        threading.Timer(t, fb.fizz_buzz, kwargs={"num": num, "bgn0": bgn0}).start()
    print("start")
