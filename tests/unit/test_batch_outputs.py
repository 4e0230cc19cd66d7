"""The batch writers (``grader.batch.outputs``), fed hand-built results: nothing is graded or spawned.

One small class, the same in three layouts (Moodle, Canvas, a folder per student):

- 123456 山田 太郎  both exercises, every check passed;
- 234567 Bob Smith  counter_lck loses an update (tally) and creates its Lock per thread (lock);
- 345678 Chen Wei   no fizz_buzz_mt (a file named wrongly instead); the same two mistakes,
                    with other numbers, other thread names and its own file name;
- 456789 Dana       fizz_buzz_mt's ``listing`` check hit a grader error;
- stray             no LMS id (a stray folder), a name that looks like a spreadsheet formula.

Every file's content is checked, not only that it exists.
"""
from __future__ import annotations

import csv
import io
import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.batch.model import Discovery, Item, Student, Unmatched
from grader.batch.outputs import render_summary, summarize, write_outputs
from grader.batch.roster import file_stems, number
from grader.batch.summary import normalise_message
from grader.exercises.catalog import CheckSpec, Exercise
from grader.model import CheckResult, Failure, GradeResult, Msg

HERE = Path(__file__).resolve()
SCHEMA = HERE.parents[1] / "schemas" / "junit-10.xsd"
BOM = b"\xef\xbb\xbf"

# ------------------------------------------------------------------------------------- the class


def exercise(id_: str, title: Msg, checks: list[tuple[str, float]]) -> Exercise:
    return Exercise(
        id=id_, version="1", title=title, file=f"{id_}.py", folder=Path("."),
        checks=tuple(CheckSpec(id=c, points=p, title=Msg(f"{c} のチェック", f"check {c}"), description=Msg.same(""))
                     for c, p in checks),
        groups=(),
    )


FIZZ = exercise("fizz_buzz_mt", Msg("スレッドの一覧", "Thread listing"), [("runs", 1), ("listing", 2)])
LCK = exercise("counter_lck", Msg("Lockによる排他制御（counter_lck）", "Mutual exclusion with a Lock (counter_lck)"),
               [("runs", 1), ("tally", 3), ("lock", 2.5)])
EXERCISES = [FIZZ, LCK]

PEOPLE = [("123456", "山田 太郎"), ("234567", "Bob Smith"), ("345678", "Chen Wei"), ("456789", "Dana")]
STRAY = ("stray", '=HYPERLINK("http://x")')


def lost_update(a: int, b: int, read: int, got: int) -> Failure:
    return Failure(
        summary=Msg(f"更新が失われました: Thread-{a} と Thread-{b} が くさ = {read} を読み、くさ が 3 ではなく {got}",
                    f"an update was lost: Thread-{a} and Thread-{b} both read くさ = {read}; くさ is {got}, not 3"),
        expected=Msg.same("{'くさ': 3}"),
        observed=Msg.same(f"{{'くさ': {got}}}"),
        trace=(Msg(f"Thread-{a} が now = {read} を読む", f"Thread-{a} reads now = {read}"),
               Msg(f"Thread-{b} が now = {read} を読む", f"Thread-{b} reads now = {read}")),
    )


def lock_per_thread(path: str, line: int, address: str) -> Failure:
    return Failure(summary=Msg(
        f"{path} {line} 行目: Lock が counter() の中で作られています: <unlocked _thread.lock object at {address}>",
        f"{path} line {line}: the Lock is created inside counter(), one per thread: "
        f"<unlocked _thread.lock object at {address}>",
    ))


def chk(id_: str, max_points: float, passed: bool = True, failure: Failure | None = None,
        error: bool = False) -> CheckResult:
    return CheckResult(id=id_, title=Msg(f"{id_} のチェック", f"check {id_}"), points=max_points if passed else 0,
                       max_points=max_points, passed=passed, failure=failure, seconds=0.01234, error=error)


def relpath(layout: str, key: str, name: str, file: str) -> str:
    return {
        "moodle": f"{name}_{key}_assignsubmission_file_/{file}",
        "canvas": f"{name.replace(' ', '').lower()}_{key}_9{key}_{file}",
        "folders": f"{key}/{file}",
    }[layout]


def build_class(layout: str):
    lms = {"moodle": "moodle", "canvas": "canvas", "folders": "folder"}[layout]
    students = {key: Student(key=key, name=name, lms=lms, lms_id=key if layout != "folders" else None)
                for key, name in PEOPLE}
    students["stray"] = Student(key=STRAY[0], name=STRAY[1], lms="folder")
    graded: list[tuple[Item, GradeResult]] = []

    def add(key: str, ex: Exercise, checks: tuple[CheckResult, ...], ts: str, carry_student: bool = True):
        s = students[key]
        rel = relpath(layout, key, s.name, ex.file)
        item = Item(student=s, exercise=ex.id, path=Path("/tmp/export") / rel, relpath=rel)
        result = GradeResult(exercise=ex.id, exercise_title=ex.title, submission=rel, checks=checks, seed=1,
                             seconds=0.5, timestamp=ts, output="集計結果：{'くさ': 3}\n",
                             student_key=key if carry_student else None,
                             student_name=s.name if carry_student else None)
        graded.append((item, result))

    def lck_failing(key: str, a: int, b: int, read: int, got: int, line: int, address: str) -> tuple:
        path = relpath(layout, key, students[key].name, "counter_lck.py")
        return (chk("runs", 1), chk("tally", 3, False, lost_update(a, b, read, got)),
                chk("lock", 2.5, False, lock_per_thread(path, line, address)))

    all_lck = (chk("runs", 1), chk("tally", 3), chk("lock", 2.5))
    add("123456", FIZZ, (chk("runs", 1), chk("listing", 2)), "2026-11-25T03:01:29")
    add("123456", LCK, all_lck, "2026-11-25T03:02:10")
    add("234567", FIZZ, (chk("runs", 1), chk("listing", 2)), "2026-11-25T03:01:30")
    add("234567", LCK, lck_failing("234567", 3, 5, 0, 2, 12, "0x7f3a2b1c"), "2026-11-25T03:01:31")
    add("345678", LCK, lck_failing("345678", 1, 12, 1, 1, 15, "0x7ffe0042"), "2026-11-25T03:01:32")
    internal = Failure(summary=Msg("採点器の内部エラー: KeyError: 'MainThread'", "grader internal error: KeyError: 'MainThread'"))
    add("456789", FIZZ, (chk("runs", 1), chk("listing", 2, False, internal, error=True)), "2026-11-25T03:01:33")
    add("456789", LCK, all_lck, "2026-11-25T03:01:34")
    add("stray", LCK, all_lck, "2026-11-25T03:01:35", carry_student=False)  # the writer adds the key

    wrong = relpath(layout, "345678", "Chen Wei", "fizzbuzz_final.py")
    discovery = Discovery(
        layout=layout,
        students=list(students.values()),
        items=[item for item, _ in graded],
        unmatched=[
            Unmatched(wrong, Msg("ファイル名がどの課題名も含みません", "the file name names no exercise"), students["345678"]),
            Unmatched("notes.txt", Msg("学生のフォルダの外にあるファイル", "a file outside any student's folder")),
        ],
    )
    return discovery, graded


def read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(BOM), f"{path.name} has no UTF-8 BOM"
    body = data[len(BOM):]
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b""), f"{path.name}: not CRLF line ends"
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def junit_schema():
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(SCHEMA))


def written(tmp_path: Path, layout: str, lang: str = "en"):
    discovery, graded = build_class(layout)
    out = tmp_path / f"out-{layout}-{lang}"
    paths = write_outputs(out, discovery, graded, EXERCISES, lang)
    return out, paths, discovery, graded


# ---------------------------------------------------------------------------------- grades.csv


@pytest.mark.parametrize("layout", ["moodle", "canvas", "folders"])
def test_grades_csv(tmp_path, layout):
    out, paths, *_ = written(tmp_path, layout)
    assert paths["grades.csv"] == out / "grades.csv"
    rows = read_csv(out / "grades.csv")
    assert rows == [
        ["student_key", "name", "fizz_buzz_mt", "counter_lck", "total"],
        ["123456", "山田 太郎", "3", "6.5", "9.5"],
        ["234567", "Bob Smith", "3", "1", "4"],
        ["345678", "Chen Wei", "", "1", "1"],  # not handed in: empty, not 0
        ["456789", "Dana", "1", "6.5", "7.5"],
        ["stray", "'" + STRAY[1], "", "6.5", "6.5"],  # a formula is defused
    ]


# ------------------------------------------------------------------------------------- Moodle

WORKSHEET_HEADER = [
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
    "Last modified (submission)", "Online text", "Last modified (grade)", "Feedback comments",
]


def test_moodle_worksheet_total(tmp_path):
    out, paths, *_ = written(tmp_path, "moodle")
    assert paths["moodle_grading_worksheet.csv"] == out / "moodle_grading_worksheet.csv"
    rows = read_csv(out / "moodle_grading_worksheet.csv")
    assert rows[0] == WORKSHEET_HEADER
    assert [r[0] for r in rows[1:]] == ["Participant 123456", "Participant 234567", "Participant 345678",
                                        "Participant 456789"]  # no row for the student without an id
    assert all(len(r) == len(WORKSHEET_HEADER) for r in rows)
    yamada = rows[1]
    assert yamada[:10] == ["Participant 123456", "山田 太郎", "", "Graded", "9.5", "9.5", "Yes", "", "",
                           "2026-11-25T03:02:10+00:00"]  # the latest of the student's grading times
    assert yamada[10] == ("fizz_buzz_mt 3/3: ✓ runs, ✓ listing | "
                          "counter_lck 6.5/6.5: ✓ runs, ✓ tally, ✓ lock")
    chen = rows[3]
    assert chen[4:6] == ["1", "9.5"]  # total over both exercises; the missing one counts 0
    assert chen[10].startswith("fizz_buzz_mt: Not handed in | counter_lck 1/6.5: ✓ runs, ✗ tally (an update was lost: "
                               "Thread-1 and Thread-12 both read くさ = 1; くさ is 1, not 3), ✗ lock (")
    # Moodle stores the comment as HTML: the repr of a lock must not vanish as a tag.
    assert "&lt;unlocked _thread.lock object at 0x7ffe0042&gt;" in chen[10]
    assert "<unlocked" not in chen[10] and "\n" not in chen[10]
    dana = rows[4]
    assert dana[4] == "7.5" and "✗ listing (grader internal error: KeyError: 'MainThread')" in dana[10]


def test_moodle_worksheet_per_exercise(tmp_path):
    out, paths, *_ = written(tmp_path, "moodle")
    fizz = read_csv(paths["moodle_grading_worksheet_fizz_buzz_mt.csv"])
    assert fizz[0] == WORKSHEET_HEADER
    assert [(r[0], r[4], r[5]) for r in fizz[1:]] == [
        ("Participant 123456", "3", "3"), ("Participant 234567", "3", "3"), ("Participant 456789", "1", "3"),
    ]  # Chen handed in no fizz_buzz_mt: no row rather than a grade of nothing
    lck = read_csv(out / "moodle_grading_worksheet_counter_lck.csv")
    assert [(r[0], r[4], r[5], r[9]) for r in lck[1:]] == [
        ("Participant 123456", "6.5", "6.5", "2026-11-25T03:02:10+00:00"),
        ("Participant 234567", "1", "6.5", "2026-11-25T03:01:31+00:00"),
        ("Participant 345678", "1", "6.5", "2026-11-25T03:01:32+00:00"),
        ("Participant 456789", "6.5", "6.5", "2026-11-25T03:01:34+00:00"),
    ]
    assert lck[2][10].startswith("counter_lck 1/6.5: ✓ runs, ✗ tally (an update was lost: Thread-3 and Thread-5")
    assert "fizz_buzz_mt" not in lck[2][10]


def test_moodle_feedback_comment_in_japanese(tmp_path):
    out, paths, *_ = written(tmp_path, "moodle", lang="ja")
    rows = read_csv(paths["moodle_grading_worksheet.csv"])
    assert rows[0] == WORKSHEET_HEADER  # Moodle matches these names: they stay English
    chen = rows[3]
    assert chen[3] == "採点済み"
    assert chen[10].startswith("fizz_buzz_mt: 未提出 | counter_lck 1/6.5: ✓ runs, ✗ tally (更新が失われました: ")


def test_no_lms_files_for_other_layouts(tmp_path):
    out, paths, *_ = written(tmp_path, "folders")
    assert not list(out.glob("moodle_grading_worksheet*")) and not (out / "canvas_gradebook.csv").exists()
    assert not any(name.startswith(("moodle", "canvas")) for name in paths)
    out, paths, *_ = written(tmp_path, "canvas")
    assert not list(out.glob("moodle_grading_worksheet*"))


# ------------------------------------------------------------------------------------- Canvas


def test_canvas_gradebook(tmp_path):
    out, paths, *_ = written(tmp_path, "canvas")
    assert paths["canvas_gradebook.csv"] == out / "canvas_gradebook.csv"
    rows = read_csv(out / "canvas_gradebook.csv")
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
         "Thread listing (fizz_buzz_mt)", "Mutual exclusion with a Lock (counter_lck)"],
        ["Points Possible", "", "", "", "", "3", "6.5"],
        ["山田 太郎", "123456", "", "", "", "3", "6.5"],
        ["Bob Smith", "234567", "", "", "", "3", "1"],
        ["Chen Wei", "345678", "", "", "", "", "1"],
        ["Dana", "456789", "", "", "", "1", "6.5"],
    ]  # no row for "stray": Canvas could not match it


# -------------------------------------------------------------------------------------- JUnit


@pytest.mark.parametrize("layout", ["moodle", "folders"])
def test_junit_one_suite_per_student_and_exercise(tmp_path, junit_schema, layout):
    out, paths, *_ = written(tmp_path, layout)
    junit_schema.validate(str(paths["junit.xml"]))
    root = ET.parse(paths["junit.xml"]).getroot()
    suites = root.findall("testsuite")
    expected = ["123456.fizz_buzz_mt", "123456.counter_lck", "234567.fizz_buzz_mt", "234567.counter_lck",
                "345678.counter_lck", "456789.fizz_buzz_mt", "456789.counter_lck", "stray.counter_lck"]
    assert [s.get("name") for s in suites] == expected
    for suite in suites:
        assert {c.get("classname") for c in suite.findall("testcase")} == {suite.get("name")}
    props = {s.get("name"): {p.get("name"): p.get("value") for p in s.iter("property")} for s in suites}
    assert props["123456.counter_lck"]["student_name"] == "山田 太郎"
    assert props["stray.counter_lck"]["student_key"] == "stray"  # added although the result lacked it
    assert props["234567.counter_lck"]["score"] == "1" and props["234567.counter_lck"]["max_score"] == "6.5"
    bob = next(s for s in suites if s.get("name") == "234567.counter_lck")
    assert (bob.get("tests"), bob.get("failures"), bob.get("errors")) == ("3", "2", "0")
    dana = next(s for s in suites if s.get("name") == "456789.fizz_buzz_mt")
    assert (dana.get("failures"), dana.get("errors")) == ("0", "1")
    assert dana.find("testcase[@name='listing']/error") is not None
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites)) == "21"


# ----------------------------------------------------------------------------------- feedback


def test_feedback_files(tmp_path):
    out, paths, *_ = written(tmp_path, "moodle")
    assert paths["feedback"] == out / "feedback"
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        f"{key}.{ext}" for key in ("123456", "234567", "345678", "456789", "stray") for ext in ("txt", "html"))
    yamada = (out / "feedback" / "123456.txt").read_text(encoding="utf-8")
    assert yamada.startswith("山田 太郎 (123456)\nGrading feedback\n\nTotal: 9.5/9.5 points (handed in 2/2)\n")
    assert "======== 1. fizz_buzz_mt — Thread listing ========" in yamada
    assert "  ✓ runs " in yamada and "  ✓ lock " in yamada and "✗" not in yamada
    assert "All checks passed." in yamada and "\x1b" not in yamada  # no colour codes in a file
    chen = (out / "feedback" / "345678.txt").read_text(encoding="utf-8")
    assert chen.startswith("Chen Wei (345678)\n")
    assert "Total: 1/9.5 points (handed in 1/2)" in chen
    assert "Not handed in (no file found). Check that the file name contains the exercise's name (e.g. fizz_buzz_mt.py)." in chen
    assert "  ✗ tally " in chen and "Thread-1 and Thread-12 both read くさ = 1" in chen
    assert "    Thread-12 reads now = 1" in chen  # the interleaving, from Failure.text
    assert ("Files that could not be matched to an exercise:\n"
            "  - Chen Wei_345678_assignsubmission_file_/fizzbuzz_final.py: the file name names no exercise") in chen
    assert "notes.txt" not in chen  # not theirs
    dana = (out / "feedback" / "456789.txt").read_text(encoding="utf-8")
    assert "✗ listing: grader internal error: KeyError: 'MainThread'" in dana


def test_feedback_says_why_a_misspelled_file_was_taken(tmp_path):
    discovery, graded = build_class("folders")
    note = Msg("conter_lck.py は課題 counter_lck のファイル名に近いため、counter_lck として採点しました",
               "conter_lck.py was graded as counter_lck: its name is close to that exercise's file name")
    graded = [((Item(i.student, i.exercise, i.path, i.relpath, note=note), r) if i.student.key == "456789" else (i, r))
              for i, r in graded]
    write_outputs(tmp_path, discovery, graded, EXERCISES, "en")
    dana = (tmp_path / "feedback" / "456789.txt").read_text(encoding="utf-8")
    assert dana.count("※ conter_lck.py was graded as counter_lck: its name is close") == 2  # under each exercise
    assert "※" not in (tmp_path / "feedback" / "234567.txt").read_text(encoding="utf-8")


def test_feedback_in_japanese(tmp_path):
    out, *_ = written(tmp_path, "folders", lang="ja")
    chen = (out / "feedback" / "345678.txt").read_text(encoding="utf-8")
    assert chen.startswith("Chen Wei (345678)\n採点結果\n\n合計: 1/9.5 点 (提出 1/2)\n")
    assert "このファイルは提出されていません" in chen and "Not handed in" not in chen
    assert "更新が失われました: Thread-1 と Thread-12 が くさ = 1 を読み" in chen
    assert "課題に対応づけられなかったファイル:\n  - 345678/fizzbuzz_final.py: ファイル名がどの課題名も含みません" in chen


# ------------------------------------------------------------------------------- results JSON


def test_results_json(tmp_path):
    out, paths, *_ = written(tmp_path, "canvas")
    assert paths["results"] == out / "results"
    files = sorted(str(p.relative_to(out / "results")) for p in (out / "results").rglob("*.json"))
    assert files == ["123456/counter_lck.json", "123456/fizz_buzz_mt.json", "234567/counter_lck.json",
                     "234567/fizz_buzz_mt.json", "345678/counter_lck.json", "456789/counter_lck.json",
                     "456789/fizz_buzz_mt.json", "stray/counter_lck.json"]
    bob = json.loads((out / "results" / "234567" / "counter_lck.json").read_text(encoding="utf-8"))
    assert bob["score"] == 1
    assert [(t["name"].split(":")[0], t["score"], t["max_score"], t["status"]) for t in bob["tests"]] == [
        ("runs", 1, 1, "passed"), ("tally", 0, 3, "failed"), ("lock", 0, 2.5, "failed")]
    assert "Thread-3 and Thread-5 both read くさ = 0" in bob["tests"][1]["output"]
    assert bob["extra_data"]["submission"] == "bobsmith_234567_9234567_counter_lck.py"
    yamada = json.loads((out / "results" / "123456" / "counter_lck.json").read_text(encoding="utf-8"))
    assert yamada["score"] == 6.5 and all(t["status"] == "passed" for t in yamada["tests"])


# ------------------------------------------------------------------------------------ summary


def test_summary_json(tmp_path):
    out, paths, *_ = written(tmp_path, "moodle")
    s = json.loads(paths["summary.json"].read_text(encoding="utf-8"))
    assert (s["layout"], s["students"], s["submissions_graded"], s["not_handed_in"], s["pending"]) == \
        ("moodle", 5, 8, 2, 0)
    assert [(w["student_key"], w["exercise"]) for w in s["not_handed_in_list"]] == [
        ("345678", "fizz_buzz_mt"), ("stray", "fizz_buzz_mt")]
    assert [(u["relpath"], u["reason"]["en"], u["student_key"]) for u in s["unmatched"]] == [
        ("Chen Wei_345678_assignsubmission_file_/fizzbuzz_final.py", "the file name names no exercise", "345678"),
        ("notes.txt", "a file outside any student's folder", None)]
    assert s["without_lms_id"] == ["stray"]
    assert s["grader_errors"] == [{"student_key": "456789", "name": "Dana", "exercise": "fizz_buzz_mt"}]
    fizz, lck = s["exercises"]
    assert (fizz["id"], fizz["graded"], fizz["mean"], fizz["max_score"], fizz["all_passed"]) == \
        ("fizz_buzz_mt", 3, 2.33, 3, 2)
    assert fizz["distribution"] == [{"score": 3, "count": 2}, {"score": 1, "count": 1}]
    listing = fizz["checks"][1]
    assert (listing["id"], listing["graded"], listing["failed"], listing["errors"], listing["top_failures"]) == \
        ("listing", 3, 0, 1, [])  # a grader error is not the students' mistake
    assert (lck["graded"], lck["mean"], lck["all_passed"]) == (5, 4.3, 3)
    assert lck["distribution"] == [{"score": 6.5, "count": 3}, {"score": 1, "count": 2}]
    runs, tally, lock = lck["checks"]
    assert (runs["failed"], runs["graded"]) == (0, 5)
    assert (tally["failed"], tally["graded"]) == (2, 5)
    # Bob's and Chen's messages differ in thread names and numbers: one mistake, counted twice.
    assert tally["top_failures"] == [
        {"message": "an update was lost: Thread-N and Thread-N both read くさ = N; くさ is N, not N", "count": 2}]
    # Their lock messages differ in file name, line and address too.
    assert lock["top_failures"] == [{"message": "<file> line N: the Lock is created inside counter(), one per "
                                                "thread: <unlocked _thread.lock object at 0xN>", "count": 2}]


def test_summary_text(tmp_path):
    out, paths, discovery, graded = written(tmp_path, "moodle")
    text = paths["summary.txt"].read_text(encoding="utf-8")
    assert text == render_summary(discovery, graded, EXERCISES, "en")  # what the CLI prints is what is saved
    assert text.startswith("Batch summary (moodle)\n\nstudents: 5\nsubmissions graded: 8\nnot handed in: 2\n"
                           "  - 345678 Chen Wei: fizz_buzz_mt\n  - stray =HYPERLINK(\"http://x\"): fizz_buzz_mt\n"
                           "submissions the grader failed on (grade them again with --force): 1\n"
                           "  - 456789 Dana: fizz_buzz_mt\n"
                           "files not matched to an exercise: 2\n"
                           "  - Chen Wei_345678_assignsubmission_file_/fizzbuzz_final.py: the file name names no exercise\n"
                           "  - notes.txt: a file outside any student's folder\n"
                           "students without an LMS id, left out of the LMS files: stray\n")
    assert ("== counter_lck — Mutual exclusion with a Lock (counter_lck) ==\n"
            "  5 graded, mean 4.3/6.5, all checks passed 3\n"
            "  scores: 6.5/6.5 ×3, 1/6.5 ×2\n"
            "  Failed checks (what to explain again next week):\n"
            "    runs   0/5 failed\n"
            "    tally  2/5 failed\n"
            "      ×2 an update was lost: Thread-N and Thread-N both read くさ = N; くさ is N, not N\n"
            "    lock   2/5 failed\n"
            "      ×2 <file> line N: the Lock is created inside counter(), one per thread: "
            "<unlocked _thread.lock object at 0xN>\n") in text
    assert "    listing  0/3 failed  (grader errors: 1)\n" in text
    assert "upload moodle_grading_worksheet.csv" in text


def test_summary_text_in_japanese(tmp_path):
    out, paths, *_ = written(tmp_path, "canvas", lang="ja")
    text = paths["summary.txt"].read_text(encoding="utf-8")
    assert text.startswith("採点のまとめ（canvas）\n\n学生: 5\n採点した提出: 8\n未提出: 2\n")
    assert "      ×2 更新が失われました: Thread-N と Thread-N が くさ = N を読み、くさ が N ではなく N\n" in text
    assert "canvas_gradebook.csv" in text and "moodle_grading_worksheet" not in text


def test_top_three_messages_most_common_first():
    discovery, graded = build_class("folders")
    messages = ["deadlock: Thread-1 waits for Thread-2", "deadlock: Thread-7 waits for Thread-3",
                "the tally is printed before join()", "counter() never releases the Lock",
                "an exception in Thread-4: KeyError: 'ほのお'"]
    extra = []
    for n, text in enumerate(messages):
        s = Student(key=f"s9{n}", name=f"Student {n}")
        rel = f"s9{n}/counter_lck.py"
        r = GradeResult(exercise="counter_lck", exercise_title=LCK.title, submission=rel,
                        checks=(chk("runs", 1, False, Failure(summary=Msg.same(text))), chk("tally", 3), chk("lock", 2.5)),
                        seed=1, seconds=0.1, timestamp="2026-11-25T04:00:00")
        extra.append((Item(s, "counter_lck", Path(rel), rel), r))
    s = summarize(discovery, graded + extra, EXERCISES, "en")
    runs = s["exercises"][1]["checks"][0]
    assert runs["failed"] == 5 and runs["graded"] == 10
    assert runs["top_failures"] == [  # ties in alphabetical order; the fourth message is left out
        {"message": "deadlock: Thread-N waits for Thread-N", "count": 2},
        {"message": "an exception in Thread-N: KeyError: 'ほのお'", "count": 1},
        {"message": "counter() never releases the Lock", "count": 1},
    ]


def test_normalise_message():
    path = "山田 太郎_123456_assignsubmission_file_/counter_lck.py"
    assert normalise_message(f"Thread-12 (counter) in {path} line 40 at 0x7f3a2b, took 1.5 s",
                             key="123456", name="山田 太郎", submission=path) == \
        "Thread-N (counter) in <file> line N at 0xN, took N s"
    assert normalise_message("s2212345 printed   3\nlines for Process-2", key="s2212345") == \
        "<key> printed N lines for Process-N"
    assert normalise_message("山田 太郎 forgot join()", name="山田 太郎") == "<name> forgot join()"


# ----------------------------------------------------------------- interrupted, doubles, order


def test_interrupted_batch_leaves_cells_empty(tmp_path):
    discovery, graded = build_class("moodle")
    graded = [(i, r) for i, r in graded if not (i.student.key == "234567" and i.exercise == "counter_lck")]
    write_outputs(tmp_path, discovery, graded, EXERCISES, "en")
    rows = read_csv(tmp_path / "grades.csv")
    assert rows[2] == ["234567", "Bob Smith", "3", "", "3"]
    worksheet = read_csv(tmp_path / "moodle_grading_worksheet.csv")
    assert "Participant 234567" not in [r[0] for r in worksheet]  # never a partial total
    fizz = read_csv(tmp_path / "moodle_grading_worksheet_fizz_buzz_mt.csv")
    assert "Participant 234567" in [r[0] for r in fizz]
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert (s["pending"], s["pending_list"][0]["student_key"], s["not_handed_in"]) == (1, "234567", 2)
    bob = (tmp_path / "feedback" / "234567.txt").read_text(encoding="utf-8")
    assert "is not graded yet (the batch was interrupted)" in bob


def test_two_files_for_one_exercise_best_counts(tmp_path):
    discovery, graded = build_class("folders")
    bob = next(s for s in discovery.students if s.key == "234567")
    rel = "234567/counter_lck (1).py"
    item = Item(bob, "counter_lck", Path(rel), rel)
    better = GradeResult(exercise="counter_lck", exercise_title=LCK.title, submission=rel,
                         checks=(chk("runs", 1), chk("tally", 3), chk("lock", 2.5, False)), seed=1, seconds=0.2,
                         timestamp="2026-11-25T05:00:00", student_key=bob.key, student_name=bob.name)
    discovery.items.append(item)
    write_outputs(tmp_path, discovery, graded + [(item, better)], EXERCISES, "en")
    assert read_csv(tmp_path / "grades.csv")[2] == ["234567", "Bob Smith", "3", "4", "7"]
    counted = json.loads((tmp_path / "results" / "234567" / "counter_lck.json").read_text(encoding="utf-8"))
    other = json.loads((tmp_path / "results" / "234567" / "counter_lck~2.json").read_text(encoding="utf-8"))
    assert (counted["score"], other["score"]) == (4, 1)
    text = (tmp_path / "feedback" / "234567.txt").read_text(encoding="utf-8")
    assert "the best-scoring one, 234567/counter_lck (1).py, counts. The others:\n  - 234567/counter_lck.py: 1/6.5" in text
    suites = [s.get("name") for s in ET.parse(tmp_path / "junit.xml").getroot()]
    assert suites.count("234567.counter_lck") == 1


def test_deterministic_whatever_the_order(tmp_path):
    discovery, graded = build_class("moodle")
    write_outputs(tmp_path / "a", discovery, graded, EXERCISES, "en")
    shuffled = graded[:]
    random.Random(3).shuffle(shuffled)
    discovery.students.reverse()
    discovery.unmatched.reverse()
    write_outputs(tmp_path / "b", discovery, shuffled, EXERCISES, "en")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 26  # 20, and a page per student and the index
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_rewriting_out_drops_files_of_a_previous_class(tmp_path):
    discovery, graded = build_class("moodle")
    write_outputs(tmp_path, discovery, graded, EXERCISES, "en")
    assert (tmp_path / "moodle_grading_worksheet_fizz_buzz_mt.csv").exists()
    keep = tmp_path / "notes-of-the-ta.txt"
    keep.write_text("mine", encoding="utf-8")
    discovery, graded = build_class("folders")
    discovery.students = [s for s in discovery.students if s.key != "stray"]
    graded = [(i, r) for i, r in graded if i.student.key != "stray"]
    discovery.items = [i for i, _ in graded]
    paths = write_outputs(tmp_path, discovery, graded, EXERCISES, "en")
    assert not list(tmp_path.glob("moodle_grading_worksheet*"))
    assert not (tmp_path / "feedback" / "stray.txt").exists() and not (tmp_path / "results" / "stray").exists()
    assert not (tmp_path / "feedback" / "stray.html").exists()
    assert keep.read_text(encoding="utf-8") == "mine"  # not ours: left alone
    assert set(paths) == {"junit.xml", "grades.csv", "feedback", "results", "summary.json", "summary.txt",
                          "index.html"}


def test_file_stems_and_numbers():
    assert file_stems(["s001", "../etc", "CON", "a/b", "a_b", "A_B"]) == {
        "../etc": "_etc", "A_B": "A_B", "CON": "_CON", "a/b": "a_b~2", "a_b": "a_b~3", "s001": "s001"}
    assert [number(x) for x in (7.0, 2.5, 0, None, 1 / 3, float("nan"))] == ["7", "2.5", "0", "", "0.333333", ""]


def test_the_progress_line_says_how_much_is_left():
    from grader.batch.run import _Progress
    now = [0.0]
    lines = []
    progress = _Progress(20, lines.append, clock=lambda: now[0])
    for _ in range(2):
        now[0] += 3.0
        progress.step("s1/counter_lck.py")
    assert lines == ["graded 2/20 (10%), about 54 s left"]
    for _ in range(18):
        now[0] += 10.0
        progress.step("x")
    assert lines[-1] == "graded 20/20 (100%)"
    assert lines[-2] == "graded 18/20 (90%), about 18 s left"  # the pace so far: 166 s for 18
