"""The parent's screen of a run's records: what the engine writes passes, anything else is tampering."""
import pytest

from grader.runner.validate import MAX_THREADS, screen, well_formed

BASE = {"n": 3, "pid": 4000, "th": 1, "tn": "Thread-1 (counter)", "t": 2.5}
GOOD = [
    {"k": "read", "obj": 1, "key": "くさ", "val": 0, "si": 3, "st": 9, "sb": 0, "op": "[]", "missing": True, "ln": 16},
    {"k": "write", "obj": 1, "key": ["a", 1], "val": "{'くさ': 1}", "si": None, "st": 9, "sb": 1, "op": "[]=", "sp": "g"},
    {"k": "obj", "obj": 1, "ty": "defaultdict"},
    {"k": "proc", "ppid": 1, "method": "fork", "at": 4, "nth": 1},
    {"k": "spawn", "child": 2, "cn": "Thread-2 (counter)", "ln": 30},
    {"k": "begin", "cls": "Thread", "daemon": False, "ident": 2001, "target": None},
    {"k": "new", "obj": 7, "kind": "Lock", "value": 1, "ln": 12},
    {"k": "acq", "obj": 7, "kind": "RLock", "depth": 2, "ln": 13},
    {"k": "out", "stream": "out", "s": "集計結果： {}\n", "ln": 40},
    {"k": "exc", "type": "KeyError", "msg": "'x'", "tb": [["/w/s.py", 3, "counter"]]},
    {"k": "limit", "what": "steps", "detail": {"steps": 100001}, "blocked": [{"th": 1, "tn": "T", "on": "Lock #1", "ln": None}]},
    {"k": "enum", "threads": [{"tn": "MainThread", "repr": "<_MainThread(MainThread, started 1000)>", "ident": 1000}]},
    {"k": "recv", "type": "dict", "val": {"くさ": 3}, "ln": 20},
    {"k": "exit", "code": 0},
    {"k": "xmem", "x": "mgr:/tmp/x:7f01", "ty": "DictProxy", "op": "read", "how": "get", "key": "くさ", "val": 0,
     "pn": "Process-3", "lbl": "cnt_dct", "ln": 13},
    {"k": "xsync", "x": "sem:/mp-abc", "kind": "Lock", "op": "acq", "pn": "Process-3", "value": 1, "ln": 12},
    {"k": "xmsg", "x": "q:12:140", "ty": "Queue", "op": "put", "val": {"くさ": 1}, "pn": "Process-2", "ln": 9},
]
BAD = [
    {"k": "read", "obj": "dict", "key": "x", "val": 0, "st": 1, "sb": 0, "op": "[]"},        # an object id that is text
    {"k": "read", "obj": 1, "key": "x", "val": 0, "st": [1], "sb": 0, "op": "[]"},           # a position that is a list
    {"k": "write", "obj": 1, "key": "x", "val": 0, "st": 1, "sb": 0, "op": "[]", "evil": 1},  # a field the engine never writes
    {"k": "write", "obj": 1, "key": "x", "val": 0, "st": 1, "sb": 0},                         # a field missing
    {"k": "begin", "cls": 3, "daemon": "no", "ident": "x"},
    {"k": "deadlock", "blocked": "everyone"},
    {"k": "spawn", "child": 10**9, "cn": "x"},                                                # past any thread number
    {"k": "teleport"},                                                                       # a kind the engine has not
    {"k": "out", "stream": "out", "s": "x" * (2 << 20)},                                      # 2 MiB in one record
    {"k": "xmem", "x": "m" * 5000, "ty": "DictProxy", "op": "read", "how": "get", "key": 1, "val": 0},  # an identity of 5000
    {"k": "xmem", "x": 3, "ty": "DictProxy", "op": "read", "how": "get", "key": 1, "val": 0},   # numbered by the parent only
    {"k": "xsync", "x": "sem:a", "kind": "Lock", "op": "steal"},                              # an op the engine has not
]


@pytest.mark.parametrize("fields", GOOD, ids=[g["k"] for g in GOOD])
def test_what_the_engine_writes_is_well_formed(fields):
    assert well_formed({**BASE, **fields})


@pytest.mark.parametrize("fields", BAD)
def test_anything_else_is_not(fields):
    assert not well_formed({**BASE, **fields})


@pytest.mark.parametrize("common", [{"tn": 12345}, {"th": "x"}, {"th": 10**9}, {"t": float("nan")}, {"n": -1}])
def test_the_common_fields_are_checked_too(common):
    assert not well_formed({**BASE, **GOOD[0], **common})


def test_a_record_without_its_common_fields_is_not_well_formed():
    assert not well_formed({"k": "exit", "code": 0})
    assert not well_formed(["exit"]) and not well_formed(None)


def test_the_screen_counts_what_it_drops_and_bounds_the_threads():
    good = [{**BASE, **GOOD[0], "th": th} for th in range(MAX_THREADS + 5)]
    kept, bad = screen(good + [{**BASE, **BAD[0]}])
    assert len(kept) == MAX_THREADS and bad == 6


def test_a_deep_value_is_refused_without_recursing_far():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert not well_formed({**BASE, **GOOD[0], "val": deep})
