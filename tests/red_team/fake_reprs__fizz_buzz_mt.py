# Thread listings printed from made-up text, not from the threads that ran.
import threading
import time


def fizz_buzz(num, bgn0):
    result = []
    for i in range(1, num + 1):
        if i % 15 == 0:
            result.append("FizzBuzz")
        elif i % 3 == 0:
            result.append("Fizz")
        elif i % 5 == 0:
            result.append("Buzz")
        else:
            result.append(i)
    n = num // 10000000
    print(f"<Thread(Thread-{6 - n} (fizz_buzz), started 1)>", f"Thread-{6 - n} (fizz_buzz)")
    return result


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i * 10000000 for i in range(5, 0, -1)]
    for num in num_lst:
        threading.Thread(target=fizz_buzz, args=(num, bgn0)).start()
    print("start")
    print("<_MainThread(MainThread, started 1)>", "MainThread")
    for k in range(1, 6):
        print(f"<Thread(Thread-{k} (fizz_buzz), started 1)>", f"Thread-{k} (fizz_buzz)")
