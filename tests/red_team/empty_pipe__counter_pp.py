# Each process sends an empty dict; main prints a count of its own.
import collections
import multiprocessing


def read_types(file_name):
    with open(file_name, encoding="utf-8") as f:
        return [row.rstrip().split("\t")[2].split() for row in f]


def counter(cnt_dct, type_, pp):
    pp.send({})
    pp.close()


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    cnt_dct = collections.defaultdict(int)
    processes = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            pp1, pp2 = multiprocessing.Pipe()
            pr = multiprocessing.Process(target=counter, args=(cnt_dct, type_, pp1))
            pr.start()
            pp2.recv()
            processes.append(pr)
            cnt_dct[type_] += 1
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
