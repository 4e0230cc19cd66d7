# 赤チーム: Timer を使わずにスレッドですぐ実行し、講義の実行例どおりの「インターバル」を表示だけする
import threading
import time


def fizz_buzz(num, bgn0):
    # 講義の実行例の間隔を表示するだけ (実際には待たない)
    print(f"fizz_buzz start: {num}\tインターバル: {6 - num // 10000000 + 0.01:.2f}秒")
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
    return result_lst


if __name__ == "__main__":
    bgn0 = time.time()
    num_lst = [i*10000000 for i in range(5, 0, -1)]
    print("start")
    for num in num_lst:
        threading.Thread(target=fizz_buzz, args=(num, bgn0), name=f"Timer-{num}").start()
