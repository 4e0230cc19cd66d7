"""``grade batch`` and ``grade merge`` end to end, on exports built here (Moodle, Canvas, folders, zip)."""
import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "reference"
SCHEMA = ROOT / "tests" / "schemas" / "junit-10.xsd"
GRADE = Path(sys.executable).with_name("grade")

CORRECT = (REF / "counter_lck.py").read_text(encoding="utf-8")
RACY = (REF / "counter_mt.py").read_text(encoding="utf-8")
HANG = "while True:\n    pass\n"
NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5, "metadata": {},
    "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "id": "a1",
               "source": (REF / "fizz_buzz_mt.py").read_text(encoding="utf-8")}],
})


def grade(*args, cwd=None, env=None):
    cmd = [str(GRADE)] if GRADE.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=280,
                          env=env)


def scratch_env(tmp_path: Path) -> tuple[dict, Path]:
    """An environment whose temporary folder is ``tmp_path/tmp``: what a batch leaves there shows."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {**os.environ, "TMPDIR": str(tmp)}, tmp


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no BOM (Excel would garble Japanese)"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def validate_junit(path: Path) -> None:
    import xmlschema
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(path))


def moodle_export(root: Path) -> Path:
    files = {
        "山田 太郎_123456_assignsubmission_file_/counter_lck.py": CORRECT,
        "佐藤 花子_123457_assignsubmission_file_/第11回/counter_lck.py": RACY,
        "鈴木 一郎_123458_assignsubmission_file_/counter_lck.py": HANG,
        "高橋 次郎_123459_assignsubmission_file_/report.pdf": "%PDF-1.4",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def moodle_run(tmp_path_factory):
    src = moodle_export(tmp_path_factory.mktemp("moodle"))
    out = tmp_path_factory.mktemp("out")
    p = grade("batch", src, "--out", out, "--lang", "en", "--jobs", "2")
    return src, out, p


def test_moodle_export_is_graded_with_one_hostile_student_not_stopping_it(moodle_run):
    src, out, p = moodle_run
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    rows = read_csv(out / "grades.csv")
    by_key = {r[0]: r for r in rows[1:]}
    header = rows[0]
    assert header[:2] == ["student_key", "name"] and "counter_lck" in header and header[-1] == "total"
    col = header.index("counter_lck")
    assert by_key["123456"][1] == "山田 太郎" and by_key["123456"][col] == "8"
    assert by_key["123457"][col] == "3"   # racy: runs, concurrent, join pass
    assert by_key["123458"][col] == "0"   # the endless loop fails everything, and the batch went on
    assert by_key["123459"][col] == ""    # nothing handed in: empty, not 0


def test_moodle_worksheet_is_keyed_on_participant_ids(moodle_run):
    _, out, _ = moodle_run
    rows = read_csv(out / "moodle_grading_worksheet.csv")
    assert rows[0][:5] == ["Identifier", "Full name", "Email address", "Status", "Grade"]
    graded = {r[0]: r for r in rows[1:]}
    assert graded["Participant 123456"][4] == "8" and graded["Participant 123457"][4] == "3"
    assert "Participant 123459" not in graded  # handed in nothing: no row to upload


def test_junit_has_one_suite_per_student_and_exercise(moodle_run):
    _, out, _ = moodle_run
    validate_junit(out / "junit.xml")
    import xml.etree.ElementTree as ET
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert sorted(s.get("name") for s in suites) == ["123456.counter_lck", "123457.counter_lck", "123458.counter_lck"]
    hang = next(s for s in suites if s.get("name") == "123458.counter_lck")
    runs = next(tc for tc in hang.findall("testcase") if tc.get("name") == "runs")
    assert "time limit" in runs.find("failure").get("message")


def test_feedback_results_and_summary(moodle_run):
    _, out, _ = moodle_run
    sato = (out / "feedback" / "123457.txt").read_text(encoding="utf-8")
    assert "佐藤 花子" in sato and "✗ tally" in sato and "interleaving" in sato
    result = json.loads((out / "results" / "123456" / "counter_lck.json").read_text(encoding="utf-8"))
    assert result["score"] == 8 and all(t["status"] == "passed" for t in result["tests"])
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "report.pdf" in summary  # what could not be matched is listed
    assert "tally" in summary and "2/3 failed" in summary.replace(" ", " ")
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data and isinstance(data, dict)


def test_running_again_grades_only_what_changed(moodle_run):
    src, out, _ = moodle_run
    p = grade("batch", src, "--out", out, "--lang", "en")
    assert "0 graded, 3 from cache" in p.stderr
    (src / "山田 太郎_123456_assignsubmission_file_" / "counter_lck.py").write_text(CORRECT + "\n# v2\n", encoding="utf-8")
    p = grade("batch", src, "--out", out, "--lang", "en")
    assert "1 graded, 2 from cache" in p.stderr
    p = grade("batch", src, "--out", out, "--lang", "en", "--force")
    assert "3 graded, 0 from cache" in p.stderr


def test_shards_merge_into_the_same_gradebook(moodle_run, tmp_path):
    src, out, _ = moodle_run
    parts = []
    for k in (1, 2):
        part = tmp_path / f"part{k}"
        p = grade("batch", src, "--out", part, "--lang", "en", "--shard", f"{k}/2")
        assert p.returncode == 0, p.stderr
        parts.append(part)
    keys = [{r[0] for r in read_csv(part / "grades.csv")[1:]} for part in parts]
    assert not keys[0] & keys[1] and keys[0] | keys[1] == {"123456", "123457", "123458", "123459"}
    merged = tmp_path / "merged"
    p = grade("merge", *parts, "--out", merged, "--lang", "en")
    assert p.returncode == 0, p.stderr
    assert read_csv(merged / "grades.csv") == read_csv(grade_full := out / "grades.csv"), grade_full
    validate_junit(merged / "junit.xml")


def test_canvas_zip_with_japanese_cp932_names_late_marks_and_a_notebook(tmp_path):
    zpath = tmp_path / "submissions.zip"
    memo = "第11回メモ.txt".encode("cp932")
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("yamadataro_2001_9001_counter_lck.py", CORRECT)
        z.writestr("satohanako_late_2002_9002_counter_lck-1.py", RACY)
        z.writestr("suzukiichiro_2003_9003_fizz_buzz_mt.ipynb", NOTEBOOK)
        z.writestr("#" * len(memo), "memo")  # placeholder: zipfile would store a non-ASCII name as UTF-8
    # As Windows Explorer in Japan writes it: CP932 name bytes and no UTF-8 flag.
    zpath.write_bytes(zpath.read_bytes().replace(b"#" * len(memo), memo))
    out = tmp_path / "out"
    p = grade("batch", zpath, "--out", out, "--lang", "ja")
    assert p.returncode == 0, p.stderr
    rows = read_csv(out / "canvas_gradebook.csv")
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0].startswith("Points Possible")
    by_id = {r[1]: r for r in rows[2:]}
    lck = next(i for i, h in enumerate(rows[0]) if "counter_lck" in h)
    fb = next(i for i, h in enumerate(rows[0]) if "fizz_buzz_mt" in h)
    assert by_id["2001"][lck] == "8" and by_id["2002"][lck] == "3" and by_id["2003"][fb] == "8"
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "第11回メモ.txt" in summary  # the CP932 name survived, listed as not matched
    # In Japanese (--lang ja): the racy student's tally is counted as failed, 1 of the 2 graded.
    assert re.search(r"tally\s+1/2 不合格", summary), summary


def test_folder_per_student_and_dask_executor_agree(tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster
    src = tmp_path / "class"
    for key, text in [("s2212345", CORRECT), ("s2212346", RACY)]:
        (src / key).mkdir(parents=True)
        (src / key / "counter_lck.py").write_text(text, encoding="utf-8")
    local = tmp_path / "local"
    env, tmp = scratch_env(tmp_path)
    assert grade("batch", src, "--out", local, "--lang", "en", "--jobs", "2", env=env).returncode == 0
    # Every engine child and scratch tree of the batch goes with it.
    assert not list(tmp.glob("grader-*")), "the batch left scratch trees behind"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask_out = tmp_path / "dask"
        p = grade("batch", src, "--out", dask_out, "--lang", "en", "--executor", "dask",
                  "--scheduler", cluster.scheduler_address)
        assert p.returncode == 0, p.stderr
    assert read_csv(dask_out / "grades.csv") == read_csv(local / "grades.csv")
    assert [r[0] for r in read_csv(local / "grades.csv")[1:]] == ["s2212345", "s2212346"]


def test_batch_bad_input_is_one_line_exit_2(tmp_path):
    p = grade("batch", tmp_path / "nope", "--out", tmp_path / "out")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    p = grade("batch", "--shard", "3/2", tmp_path, "--out", tmp_path / "out")
    assert p.returncode == 2 and "shard" in p.stderr


def test_ctrl_c_keeps_what_is_done(tmp_path):
    import signal
    import time
    src = tmp_path / "class"
    for n in range(8):
        (src / f"s22{n:05d}").mkdir(parents=True)
        (src / f"s22{n:05d}" / "counter_lck.py").write_text(CORRECT + f"\n# {n}\n", encoding="utf-8")
    out = tmp_path / "out"
    env, tmp = scratch_env(tmp_path)
    cmd = [str(GRADE)] if GRADE.exists() else [sys.executable, "-m", "grader"]
    proc = subprocess.Popen([*cmd, "batch", str(src), "--out", str(out), "--jobs", "1", "--lang", "en"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / ".cache").glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not list(tmp.glob("grader-*")), "an interrupted batch left scratch trees (a spare engine's?)"
    p = grade("batch", src, "--out", out, "--lang", "en")
    fresh, cached = map(int, re.search(r"(\d+) graded, (\d+) from cache", p.stderr).groups())
    assert p.returncode == 0 and cached >= 2 and fresh + cached == 8


def test_a_class_with_red_team_students_gets_every_output_and_a_list_to_review(tmp_path):
    """One student goes after the grader's objects, one forges records of types the engine never
    writes, one is honest: every output is written for all three, and the TA's page lists the
    first under "Programs to review"."""
    red = ROOT / "tests" / "red_team"
    root = tmp_path / "class"
    for key, src in (("s2212501", REF / "counter_lck.py"), ("s2212502", red / "via_frames__counter_lck.py"),
                     ("s2212503", red / "odd_types__counter_lck.py")):
        (root / key).mkdir(parents=True)
        (root / key / "counter_lck.py").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    proc = grade("batch", root, "--out", out, "--lang", "en", "--jobs", "2")
    assert proc.returncode in (0, 1), proc.stderr
    for name in ("junit.xml", "grades.csv", "summary.json", "summary.txt", "index.html"):
        assert (out / name).is_file(), name
    for key in ("s2212501", "s2212502", "s2212503"):
        assert (out / "feedback" / f"{key}.html").is_file() and (out / "results" / key / "counter_lck.json").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    review = index.split('id="review"', 1)[1].split("</section>", 1)[0]
    assert 'data-review="s2212502"' in review and 'data-review="s2212501"' not in review
    assert "reads the frames of running functions" in review
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "integrity" in json.dumps(summary)
    validate_junit(out / "junit.xml")


def test_cp932_names_its_own_output_inside_and_one_id_with_two_names(tmp_path):
    """What Linux unzip makes of a Japanese Windows zip (names in CP932 bytes), an --out inside the
    input, and an export where one participant id comes with two names."""
    klass = tmp_path / "class"
    klass.mkdir()
    for name, file in (("山田太郎_12345_assignsubmission_file_", "counter_lck.py"),
                       ("佐藤花子_23456_assignsubmission_file_", "counter_lck.py"),
                       ("佐藤花美_23456_assignsubmission_file_", "counter_lck.py")):
        folder = os.path.join(os.fsencode(klass), name.encode("cp932"))
        os.makedirs(folder)
        with open(os.path.join(folder, file.encode()), "w", encoding="utf-8") as f:
            f.write(CORRECT)
    out = klass / "out"
    for _ in range(2):  # the second time, the output folder lies inside the input
        proc = grade("batch", klass, "--out", out, "--lang", "en")
        assert proc.returncode == 0, proc.stderr
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    rows = read_csv(out / "grades.csv")
    names = {r[0]: r[1] for r in rows[1:]}
    assert names == {"12345": "山田太郎", "23456": "佐藤花子"}, rows  # the output folder is no student
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "id 23456 appears with two names (佐藤花子 and 佐藤花美)" in summary, summary
    merged = grade("merge", out, "--out", tmp_path / "merged", "--lang", "en")
    assert merged.returncode == 0, merged.stderr
    assert read_csv(tmp_path / "merged" / "grades.csv") == rows


def test_a_ta_raises_the_extraction_limits(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("山田太郎_12345_assignsubmission_file_/counter_lck.py", CORRECT)
        z.writestr("山田太郎_12345_assignsubmission_file_/data.bin", b"0" * (3 << 20))
    refused = grade("batch", export, "--out", tmp_path / "a", "--max-extract-mb", "2", "--lang", "en")
    assert refused.returncode == 2 and "--max-extract-mb" in refused.stderr, refused.stderr
    assert refused.stderr.count("\n") == 1
    graded = grade("batch", export, "--out", tmp_path / "b", "--max-extract-mb", "8", "--lang", "en")
    assert graded.returncode == 0, graded.stderr
    assert read_csv(tmp_path / "b" / "grades.csv")[1][:2] == ["12345", "山田太郎"]
