"""The output of a run of several processes reads the same every time (pure)."""
from grader.verdicts.observation import in_process_order


def ev(proc, n, k="out", **kw):
    return {"k": k, "proc": proc, "pid": 100 + proc, "n": n, **kw}


def out_of(events):
    """As the launcher reads a file: processes numbered in order of appearance; the order is
    shown by pid (who the process is), not by that number."""
    procs: dict[int, int] = {}
    events = [dict(e, proc=procs.setdefault(e["pid"], len(procs))) for e in events]
    return [(e["pid"] - 100, e["n"]) for e in in_process_order(events)]


def test_each_child_comes_where_it_was_forked_whatever_order_the_file_has():
    main = [ev(0, 1), ev(0, 2), ev(0, 3), ev(0, 4)]
    a = [ev(1, 1, "proc", ppid=100, at=1, nth=1), ev(1, 2)]
    b = [ev(2, 1, "proc", ppid=100, at=1, nth=2), ev(2, 2)]
    c = [ev(3, 1, "proc", ppid=100, at=3, nth=3), ev(3, 2)]
    # Two files the same run could have written: the children finished in another order.
    one = main[:1] + a + c + b + main[1:]
    two = main[:1] + c + b + main[1:3] + a + main[3:]
    assert out_of(two) == out_of(one)
    assert out_of(one) == [(0, 1), (1, 1), (1, 2), (2, 1), (2, 2), (0, 2), (0, 3), (3, 1), (3, 2), (0, 4)]


def test_a_grandchild_comes_inside_its_parent_and_a_spawned_child_where_the_file_shows_it():
    events = [ev(0, 1), ev(1, 1, "proc", ppid=100, at=1, nth=1), ev(1, 2),
              ev(2, 1, "proc", ppid=101, at=2, nth=1), ev(2, 2), ev(1, 3),
              ev(0, 2), ev(3, 1, "proc", ppid=100, method="spawn"), ev(0, 3)]
    assert out_of(events) == [(0, 1), (1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (0, 2), (3, 1), (0, 3)]


def test_every_event_is_kept_once_even_with_a_forged_parent():
    events = [ev(0, 1), ev(1, 1, "proc", ppid=102, at=0, nth=1), ev(2, 1, "proc", ppid=101, at=0, nth=1)]
    assert sorted(out_of(events)) == [(0, 1), (1, 1), (2, 1)]
