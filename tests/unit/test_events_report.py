"""``grade --events``: the pure conversion of an observation into the documented JSON (no process).

The document must validate against the schema shipped beside it, say exactly what the checks see
(``obs.runs[i].events``), be the same bytes for the same observation, stay within its bounds
whatever a run floods, and its schema must know every record kind the parent accepts.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.engine import events as engine_events
from grader.reports import events as report
from grader.runner import validate
from grader.verdicts.observation import Observation, RunRecord, Schedule

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_PATH = Path(report.__file__).with_name("events.schema.json")
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def ev(k: str, n: int, th: int = 0, proc: int = 0, pid: int = 4, **fields) -> dict:
    return {"k": k, "n": n, "pid": pid, "th": th, "tn": "MainThread" if th == 0 else f"Thread-{th} (counter)",
            "t": 0.0, **fields, "proc": proc}


def access(k: str, n: int, th: int, val: int) -> dict:
    return ev(k, n, th, obj=2, key="くさ", val=val, si=1, st=n, sb=0, op="[]" if k == "read" else "[]=",
              ln=19 if k == "read" else 23, lbl="cnt_dct", ty="defaultdict")


def lost_update_events() -> list[dict]:
    return [
        ev("proc", 1, ppid=2, method="main"),
        ev("spawn", 2, child=1, cn="Thread-1 (counter)", ln=30),
        ev("spawn", 3, child=2, cn="Thread-2 (counter)", ln=30),
        ev("begin", 4, 1, cls="Thread", daemon=False, ident=80001, target="__main__.counter"),
        ev("begin", 5, 2, cls="Thread", daemon=False, ident=80002, target="__main__.counter"),
        access("read", 6, 1, 0), access("read", 7, 2, 0),
        access("write", 8, 1, 1), access("write", 9, 2, 1),
        ev("end", 10, 1), ev("end", 11, 2),
        ev("out", 12, stream="out", s="集計結果： {'くさ': 1}\n", ln=33),
        ev("exit", 13, code=0),
    ]


def run_of(events: list[dict], index: int = 0, **kw) -> RunRecord:
    schedule = Schedule(index=index, group="explore", seed=7 + index, strategy="pct", time_mode="timed",
                        variant="course")
    return RunRecord(schedule=schedule, data_lines=["1\tフシギダネ\tくさ どく"], events=events,
                     exit_code=kw.pop("exit_code", 0), **kw)


def obs_of(*runs: RunRecord) -> Observation:
    return Observation(exercise="counter_lck", source="", filename="counter_lck.py", runs=list(runs),
                       replay="grade counter_lck.py --seed 1", planned=len(runs))


def render(obs) -> dict:
    data = report.render_events(obs, exercise="counter_lck", submission="counter_lck.py", seed=1, version="9.9")
    doc = json.loads(data.decode("utf-8"))
    errors = sorted(VALIDATOR.iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return doc


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_records_are_what_the_checks_see():
    run = run_of(lost_update_events())
    doc = render(obs_of(run))
    assert doc["schema"] == report.SCHEMA == 1
    assert doc["replay"] == "grade counter_lck.py --seed 1" and doc["not_run"] is None
    (r,) = doc["runs"]
    assert (r["index"], r["group"], r["seed"], r["strategy"], r["time_mode"], r["data"]) == (
        0, "explore", 7, "pct", "timed", "course")
    assert r["ended"] == "normally" and r["ended_normally"] and r["directed"] is False
    assert r["records"] == len(run.events) and r["omitted"] is None
    assert r["output"] == "集計結果： {'くさ': 1}\n"
    # the same records, in the same order; only pid (ppid) is the run's process number
    same = [{**e, "pid": e["proc"], **({"ppid": None} if "ppid" in e else {})} for e in run.events]
    assert same == r["events"]
    writes = [e for e in r["events"] if e["k"] == "write"]
    assert [(e["th"], e["key"], e["val"], e["lbl"]) for e in writes] == [(1, "くさ", 1, "cnt_dct"), (2, "くさ", 1, "cnt_dct")]


def test_same_observation_same_bytes_and_one_record_a_line():
    a = report.render_events(obs_of(run_of(lost_update_events())), exercise="x", submission="x.py", seed=1)
    b = report.render_events(obs_of(run_of(lost_update_events())), exercise="x", submission="x.py", seed=1)
    assert a == b and a.endswith(b"\n")
    lines = a.decode("utf-8").splitlines()
    assert sum(1 for line in lines if line.lstrip().startswith('{"k":')) == len(lost_update_events())


def test_os_process_ids_become_the_runs_own_numbers():
    events = [ev("proc", 1, pid=4000, ppid=3999, method="main"),
              ev("proc", 1, pid=4017, proc=1, ppid=4000, method="fork", at=2, nth=1),
              ev("exit", 2, pid=4017, proc=1, code=0),
              ev("xjoin", 3, pid=4000, cpid=4017, done=True, ln=12),
              ev("exit", 4, pid=4000, code=0)]
    doc = render(obs_of(run_of(events)))
    got = {(e["k"], e["proc"]): e for e in doc["runs"][0]["events"]}
    assert got[("proc", 0)]["pid"] == 0 and got[("proc", 0)]["ppid"] is None  # the grader's own process
    assert got[("proc", 1)]["pid"] == 1 and got[("proc", 1)]["ppid"] == 0
    assert got[("xjoin", 0)]["cpid"] == 1
    # the forked child's records come where it was forked (after the parent's record n=1)
    assert [(e["k"], e["proc"]) for e in doc["runs"][0]["events"]][:3] == [("proc", 0), ("proc", 1), ("exit", 1)]


def test_a_spawned_process_comes_after_and_numbers_its_addresses_apart():
    events = [ev("proc", 1, pid=10, method="main"),
              ev("out", 2, pid=10, stream="out", s="<A object at 0x7f0000001000>\n"),
              ev("proc", 1, pid=11, proc=1, method="spawn"),
              ev("out", 2, pid=11, proc=1, stream="out", s="<B object at 0x7f0000001040>\n"),
              ev("exit", 3, pid=10, code=0)]
    doc = render(obs_of(run_of(events)))
    got = [(e["proc"], e.get("s")) for e in doc["runs"][0]["events"]]
    assert got == [(0, None), (0, "<A object at 0x7f0000001000>\n"), (0, None),
                   (1, None), (1, "<B object at 0x7f0000101000>\n")]
    assert doc["runs"][0]["output"] == "<A object at 0x7f0000001000>\n<B object at 0x7f0000101000>\n"


@pytest.mark.parametrize("kw,extra,word", [
    ({}, [ev("exc", 9, 1, type="KeyError", msg="'くさ'", tb=[["counter_lck.py", 19, "counter"]])], "exception"),
    ({"exit_code": 97}, [ev("deadlock", 9, blocked=[{"th": 0, "tn": "MainThread", "on": "join Thread-1", "ln": 3}])],
     "deadlock"),
    ({"exit_code": 98}, [ev("limit", 9, what="vtime", detail={"vtime": 3601.0})], "limit"),
    ({"exit_code": None, "timed_out": True}, [], "timeout"),
    ({"exit_code": None, "signal": 9}, [], "signal"),
    ({"exit_code": 3}, [], "exit_status"),
    ({"tampered": 2}, [], "tampered"),
])
def test_how_a_run_ended(kw, extra, word):
    events = lost_update_events()[:-1] + extra
    if kw.get("exit_code", 0) == 0:
        events.append(ev("exit", 20, code=0))
    doc = render(obs_of(run_of(events, **kw)))
    assert doc["runs"][0]["ended"] == word and doc["runs"][0]["ended_normally"] is False


def test_a_flood_is_bounded_head_and_tail_kept(monkeypatch):
    monkeypatch.setattr(report, "RUN_RECORDS", 400)
    flood = [ev("proc", 1, method="main")] + [ev("sleep", n, d=1.0, ln=3) for n in range(2, 5000)]
    flood.append(ev("limit", 5000, what="vtime", detail={"vtime": 3601.0}))
    doc = render(obs_of(run_of(flood, exit_code=98)))
    r = doc["runs"][0]
    assert r["records"] == 5000 and len(r["events"]) == 400
    assert r["omitted"] == {"first": 300, "count": 4600}
    assert r["events"][0]["k"] == "proc" and r["events"][-1]["k"] == "limit"  # where it ended is kept
    assert r["events"][300]["n"] == flood[4900]["n"]


def test_bytes_bounds_per_run_and_in_all(monkeypatch):
    monkeypatch.setattr(report, "RUN_BYTES", 20_000)
    monkeypatch.setattr(report, "TOTAL_BYTES", 30_000)
    runs = [run_of([ev("sleep", n, d=1.0) for n in range(1, 1000)], index=i) for i in range(3)]
    data = report.render_events(obs_of(*runs), exercise="x", submission="x.py", seed=1)
    doc = render(obs_of(*runs))
    kept = [sum(len(json.dumps(e, ensure_ascii=False, separators=(",", ":"))) + 2 for e in r["events"])
            for r in doc["runs"]]
    assert kept[0] <= 20_000 and sum(kept) <= 30_000 and kept[2] == 0
    assert doc["runs"][2]["omitted"] == {"first": 0, "count": 999}
    assert len(data) < 40_000


def test_long_texts_and_lists_are_cut_and_marked(monkeypatch):
    events = [ev("proc", 1, method="main"),
              ev("out", 2, stream="out", s="x" * 20_000),
              ev("call", 3, fn="f", cid=1, args=[list(range(5000)), float("nan")]),
              ev("out", 4, stream="out", s="ok \ud800\n"),
              ev("exit", 5, code=0)]
    doc = render(obs_of(run_of(events)))
    out, call, odd = doc["runs"][0]["events"][1:4]
    assert len(out["s"]) == report.TEXT + 1 and out["s"].endswith("…") and out["cut"] is True
    assert len(call["args"][0]) == report.ITEMS and call["args"][1] == "nan" and call["cut"] is True
    assert odd["s"] == "ok ?\n" and odd["cut"] is True
    assert "cut" not in doc["runs"][0]["events"][0]
    output = doc["runs"][0]["output"]
    assert len(output) < report.OUTPUT + 100 and "characters left out" in output
    assert doc["runs"][0]["output_truncated"] is True


def test_a_grading_without_runs():
    data = report.render_events(None, exercise="counter_lck", submission="bad.py", seed=3,
                                not_run="cannot run: syntax error")
    doc = json.loads(data)
    assert not list(VALIDATOR.iter_errors(doc))
    assert doc["runs"] == [] and doc["not_run"] == "cannot run: syntax error" and doc["seed"] == 3


def _kind_rules() -> dict[str, dict]:
    rules = {}
    for rule in SCHEMA["$defs"]["event"]["allOf"]:
        kind = rule["if"]["properties"]["k"]["const"]
        rules[kind] = rule["then"]
    return rules


def test_the_schema_knows_every_kind_the_parent_accepts():
    """A new record kind (``validate.KINDS``) must be added to the schema and to docs/events.md."""
    rules = _kind_rules()
    assert set(rules) == set(validate.KINDS) == set(engine_events.KINDS)
    assert set(SCHEMA["$defs"]["event"]["properties"]["k"]["enum"]) == set(validate.KINDS)
    parent_added = {"read": {"lbl", "ty"}, "write": {"lbl", "ty"}}
    common = set(validate.COMMON) | {"proc", "cut"}
    for kind, (required, optional) in validate.KINDS.items():
        rule = rules[kind]
        assert set(rule["required"]) == set(required) | parent_added.get(kind, set()), kind
        assert set(rule["propertyNames"]["enum"]) == common | set(required) | set(optional) | parent_added.get(kind, set()), kind


def test_docs_describe_every_kind():
    text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    for kind in validate.KINDS:
        assert any(f"`{kind}`" in h for h in headings), f"docs/events.md has no section for {kind}"
