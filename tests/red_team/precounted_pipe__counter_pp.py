# counter_pp: the parent counts the data before it forks, and each child sends that finished dict
# back unchanged. It comes through the Pipe, but no child counted anything: pipe must fail.
import collections
import multiprocessing


def counter(cnt_dct, type_, pp):
    pp.send(cnt_dct)
    pp.close()


if __name__ == "__main__":
    with open("lec11/data/poke_names.txt", encoding="utf-8") as f:
        types = [row.rstrip().split("\t")[2].split() for row in f]
    final = dict(collections.Counter(t for row in types[:9] for t in row))
    processes = []
    cnt_dct = {}
    for type_lst in types[:9]:
        for type_ in type_lst:
            pp1, pp2 = multiprocessing.Pipe()
            pr = multiprocessing.Process(target=counter, args=(final, type_, pp1))
            pr.start()
            cnt_dct = pp2.recv()
            processes.append(pr)
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
