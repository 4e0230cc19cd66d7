"""A run's accesses made whole in the parent: sequence order, names from the site table, the budget."""
from grader.engine.instrument import Site
from grader.runner.accesses import annotate, in_sequence, within_budget


def _ev(k, n, pid=1, **fields):
    return {"k": k, "n": n, "pid": pid, **fields}


def test_late_written_accesses_go_back_to_their_place_in_their_own_process():
    events = [_ev("spawn", 1), _ev("out", 1, pid=2), _ev("read", 5), _ev("read", 2), _ev("write", 3), _ev("out", 2, pid=2)]
    ordered = in_sequence(events)
    assert [(e["pid"], e["n"]) for e in ordered] == [(1, 1), (2, 1), (1, 2), (1, 3), (1, 5), (2, 2)]
    in_order = [_ev("read", 1), _ev("write", 2)]
    assert in_sequence(in_order) is in_order  # nothing to do: the same list


def test_accesses_are_named_from_the_parents_table_not_the_childs_word():
    sites = [Site(19, 4, "item", "cnt_dct"), Site(23, 8, "attr", "src")]
    events = [_ev("obj", 1, obj=3, ty="defaultdict"), _ev("read", 2, obj=3, si=0, ln=999, lbl="forged"),
              _ev("write", 3, obj=4, si=1, sp="a"), _ev("write", 4, obj=3, si=7), _ev("read", 5, obj=3, si="0")]
    annotate(events, sites)
    assert (events[1]["ln"], events[1]["lbl"], events[1]["ty"]) == (19, "cnt_dct", "defaultdict")
    assert (events[2]["ln"], events[2]["lbl"], events[2]["ty"]) == (23, "src", "")
    assert (events[3]["ln"], events[3]["lbl"]) == (None, None)  # a site the program does not have
    assert (events[4]["ln"], events[4]["lbl"]) == (None, None)  # not a site number at all


def test_accesses_past_the_budget_are_left_out_and_counted():
    events = [_ev("read", i) for i in range(10)] + [_ev("out", 11)] + [_ev("write", 12 + i) for i in range(5)]
    kept, cut = within_budget(events, budget=8)
    assert cut == 7 and sum(e["k"] in ("read", "write") for e in kept) == 8
    assert kept[-1]["k"] == "out"  # what the program printed is kept whole
    assert within_budget(events, budget=100) == (events, 0)
