"""``grade FILE --events PATH`` end to end (the real command): the document validates against the
shipped schema, holds exactly the records the checks see, is the same bytes for the same file and
seed, shows a racy program's lost update in its records, and a path that cannot be written is one
line and exit status 2.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import observe
from grader.sources.submission import load_submission

jsonschema = pytest.importorskip("jsonschema")
pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
GRADE = Path(sys.executable).with_name("grade")
SCHEMA = json.loads(files("grader.reports").joinpath("events.schema.json").read_text(encoding="utf-8"))
RACY = ROOT / "tests" / "submissions" / "counter_lck" / "augassign_no_lock.py"


def grade(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_DEBUG", "LANGUAGE")}
    env.update(NO_COLOR="1")
    cmd = [str(GRADE)] if GRADE.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run([*cmd, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=200)


def load(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return doc


def as_the_checks_see_them(path: Path, exercise: str) -> list:
    obs, _, _ = observe(load_submission(str(path)), catalog.get(exercise), [1])
    return obs[1].runs


def test_model_answer_every_run_and_the_records_the_checks_see(tmp_path):
    out = tmp_path / "run.json"
    proc = grade(ROOT / "reference" / "counter_lck.py", "--lang", "en", "--events", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load(out)
    assert (doc["schema"], doc["exercise"], doc["seed"], doc["not_run"]) == (1, "counter_lck", 1, None)
    assert doc["runs"] and all(r["ended"] == "normally" and r["omitted"] is None for r in doc["runs"])
    assert [r["data"] for r in doc["runs"][:3]] == ["course", "shuffled", "rotated"]
    # exactly what obs.runs[i].events holds (pid: the run's process number, not the OS's)
    runs = as_the_checks_see_them(ROOT / "reference" / "counter_lck.py", "counter_lck")
    assert len(runs) == len(doc["runs"])
    for run, written in zip(runs, doc["runs"]):
        assert written["records"] == len(run.events)
        same = [{**e, "pid": e["proc"], **({"ppid": None} if "ppid" in e else {})} for e in run.events]
        assert written["events"] == same
        assert written["output"] == run.all_output()
    # every update of the dict is made holding the Lock: acq, read, write, rel by one thread
    first = doc["runs"][0]["events"]
    write = next(e for e in first if e["k"] == "write" and e["lbl"] == "cnt_dct")
    mine = [e["k"] for e in first if e["th"] == write["th"] and e["k"] in ("acq", "read", "write", "rel")]
    assert mine == ["acq", "read", "write", "rel"]
    # same file, same seed: the same bytes
    again = tmp_path / "again.json"
    assert grade(ROOT / "reference" / "counter_lck.py", "--events", again, cwd=tmp_path).returncode == 0
    assert again.read_bytes() == out.read_bytes()


def test_racy_submission_the_lost_update_is_in_the_records(tmp_path):
    out = tmp_path / "racy.json"
    proc = grade(RACY, "--exercise", "counter_lck", "--lang", "en", "--events", out, cwd=tmp_path)
    assert proc.returncode == 1 and "one update was lost" in proc.stdout, proc.stdout
    doc = load(out)
    directed = [r for r in doc["runs"] if r["directed"]]
    assert directed and all(r["origin"] is not None and r["directions"] for r in directed)
    # a run in which two threads read the same key of cnt_dct, then both wrote it: a lost update
    found = None
    for run in doc["runs"]:
        accesses = [e for e in run["events"] if e["k"] in ("read", "write") and e["lbl"] == "cnt_dct"]
        for a, b, c, d in zip(accesses, accesses[1:], accesses[2:], accesses[3:]):
            if ([x["k"] for x in (a, b, c, d)] == ["read", "read", "write", "write"] and a["th"] != b["th"]
                    and len({x["key"] for x in (a, b, c, d)}) == 1 and a["val"] == b["val"] and c["val"] == d["val"]):
                found = (run, a, b, c, d)
                break
        if found:
            break
    assert found is not None
    run, a, b, c, d = found
    assert run["directed"] and a["ln"] == b["ln"] == c["ln"] == d["ln"] == 18  # cnt_dct[type_] += 1
    assert a["ty"] == "defaultdict" and not any(e["k"] == "acq" for e in run["events"])
    again = tmp_path / "again.json"
    assert grade(RACY, "--exercise", "counter_lck", "--events", again, cwd=tmp_path).returncode == 1
    assert again.read_bytes() == out.read_bytes()


def test_processes_the_same_bytes_every_time(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert grade(ROOT / "reference" / "counter_pp.py", "--events", path, cwd=tmp_path).returncode == 0
    doc = load(a)
    assert a.read_bytes() == b.read_bytes()
    assert {r["start_method"] for r in doc["runs"]} == {"fork", "spawn"}
    sent = [e for e in doc["runs"][0]["events"] if e["k"] == "send"]
    assert len(sent) == 13 and all(e["proc"] != 0 for e in sent)
    assert all(e["pid"] == e["proc"] for r in doc["runs"] for e in r["events"])


def test_a_file_that_cannot_run_and_a_path_that_cannot_be_written(tmp_path):
    bad = tmp_path / "counter_lck.py"
    bad.write_text("x = (\n", encoding="utf-8")
    out = tmp_path / "e.json"
    proc = grade(bad, "--lang", "en", "--events", out, cwd=tmp_path)
    assert proc.returncode == 1
    doc = load(out)
    assert doc["runs"] == [] and "syntax error" in doc["not_run"]
    proc = grade(bad, "--lang", "en", "--events", tmp_path / "no" / "such" / "dir.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_help_in_both_languages(tmp_path):
    en = grade("--help", "--lang", "en", cwd=tmp_path).stdout
    ja = grade("--help", "--lang", "ja", cwd=tmp_path).stdout
    assert "--events PATH" in en and "what each run recorded" in en
    assert "--events PATH" in ja and "各実行が記録したイベント" in ja
