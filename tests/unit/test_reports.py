"""The renderers, fed hand-built GradeResults: nothing is spawned.

Every JUnit document rendered here is validated against the Jenkins ``junit-10.xsd``.
"""
from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from grader.model import CheckResult, Failure, GradeResult, Msg, Note
from grader.reports.gradescope import dumps, render_gradescope
from grader.reports.junit import fmt_time, render_junit
from grader.reports.terminal import pick_lang, render_terminal
from grader.reports.text import head_tail, one_line, strip_ansi, visible, xml_safe

HERE = Path(__file__).resolve()
SCHEMA_CANDIDATES = (
    HERE.parents[1] / "schemas" / "junit-10.xsd",  # the copy in this repository
    HERE.parents[2].parent / "shared" / "schemas" / "junit-10.xsd",  # the shared original
)
TIME_RE = re.compile(r"^\d+(\.\d{1,3})?$")


@pytest.fixture(scope="session")
def junit_schema():
    xmlschema = pytest.importorskip("xmlschema")
    for path in SCHEMA_CANDIDATES:
        if path.is_file():
            return xmlschema.XMLSchema(str(path))
    pytest.skip("junit-10.xsd not found at " + " or ".join(map(str, SCHEMA_CANDIDATES)))


# ---------------------------------------------------------------------------- building results


def check(id_: str, passed: bool, points: float = 1, max_points: float | None = None, **kw) -> CheckResult:
    max_points = points if max_points is None else max_points
    return CheckResult(
        id=id_,
        title=Msg(f"{id_} のチェック", f"check {id_}"),
        points=points if passed else kw.pop("lost_points", 0),
        max_points=max_points,
        passed=passed,
        seconds=kw.pop("seconds", 0.0123456),
        **kw,
    )


RACE = Failure(
    summary=Msg("更新が失われました: くさ が 3 ではなく 2", "an update was lost: くさ is 2, not 3"),
    expected=Msg.same("{'くさ': 3, 'どく': 3}"),
    observed=Msg.same("{'くさ': 2, 'どく': 3}"),
    where=Msg("counter_lck.py 12 行目", "counter_lck.py line 12"),
    trace=(
        Msg("Thread-1 が now = 0 を読む", "Thread-1 reads now = 0"),
        Msg("Thread-2 が now = 0 を読む", "Thread-2 reads now = 0"),
        Msg("Thread-1 が 1 を書く", "Thread-1 writes 1"),
        Msg("Thread-2 が 1 を書く（更新が失われる）", "Thread-2 writes 1 (update lost)"),
    ),
    replay="grade counter_lck.py --seed 7 --replay 3",
)
NOT_RUN = Failure(
    summary=Msg("プログラムが実行されなかったため判定できません", "not judged: the program did not run"),
    observed=Msg("runs が不合格", "runs failed"),
)


def passing() -> GradeResult:
    return GradeResult(
        exercise="counter_lck",
        exercise_title=Msg("カウンタ（Lock）", "Counter (Lock)"),
        submission="counter_lck.py",
        checks=(
            check("runs", True, 2),
            check("tally", True, 4),
            check("lock", True, 2),
            check("concurrent", True, 1),
            check("join", True, 1),
            check("style", True, 0),  # a check worth 0 points
        ),
        seed=12345,
        seconds=0.73456,
        timestamp="2026-11-25T03:01:29",
        output="くさを追加\n集計結果：{'くさ': 3}\n",
    )


def failing() -> GradeResult:
    return GradeResult(
        exercise="counter_lck",
        exercise_title=Msg("カウンタ（Lock）", "Counter (Lock)"),
        submission="submissions/s2212345/counter_lck.py",
        checks=(
            check("runs", True, 2),
            check("tally", False, 4, failure=RACE),
            check("lock", False, 2, failure=Failure(summary=Msg("ロックが\nありません", "no\nlock"))),
            check("concurrent", True, 1),
            check("join", False, 1),  # failed without a Failure object
            check("style", False, 0, failure=NOT_RUN),
        ),
        seed=7,
        seconds=1.5,
        timestamp="2026-11-25T03:01:30",
        output=(
            "\x1b[31mred\x1b[0m \x1b]0;title\x07plain\n"
            "nul:\x00 bell:\x07 esc:\x1b lone:\ud800 ff:\ufffe tab:\t cr:\r\n"
            "集計結果：{'くさ': 2}\n"
        ),
        notes=(Note(Msg("ファイルは CP932 でした", "the file was CP932")),),
        properties={"variant": "shuffled"},
    )


def crashed() -> GradeResult:
    """A program that did not run: every other check fails saying so."""
    return GradeResult(
        exercise="counter_pp",
        exercise_title=Msg("カウンタ（Pipe）", "Counter (Pipe)"),
        submission="counter_pp.py",
        checks=(
            check("runs", False, 2, failure=Failure(summary=Msg("時間切れ (5 秒)", "timed out (5 s)"))),
            check("tally", False, 4, failure=NOT_RUN),
            check("processes", False, 2, failure=NOT_RUN),
            check("pipe", False, 1, failure=NOT_RUN),
            check("spawn_safe", False, 1, failure=NOT_RUN),
        ),
        seed=1,
        seconds=5.0004,
        timestamp="2026-11-25T03:01:31",
        output="x" * 100 + "\n" + ("あいうえお" * 40 + "\n") * 1000 + "END\n",  # ~600 KB
    )


def huge_output() -> GradeResult:
    lines = "".join(f"line {i:06d} \x1b[1mbold\x1b[0m ほのお\n" for i in range(6000))  # ~200 KB
    return replace(passing(), output=lines, seconds=1e-7)


def batch() -> list[GradeResult]:
    students = [("s2212345", "山田 太郎"), ("s2212346", "佐藤 花子"), ("12345678", "Ünïcødé Nâme")]
    results = []
    for key, name in students:
        for base in (passing(), failing(), crashed()):
            results.append(replace(base, student_key=key, student_name=name))
    # the same student and exercise twice (two files handed in): pairs must stay unique
    results.append(replace(passing(), student_key="s2212345", student_name="山田 太郎", submission="counter_lck (1).py"))
    return results


SHAPES = {
    "passing": lambda: [passing()],
    "failing": lambda: [failing()],
    "crashed": lambda: [crashed()],
    "huge": lambda: [huge_output()],
    "batch": batch,
    "empty": lambda: [],
}


def parse(doc: bytes) -> ET.Element:
    assert doc.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    doc.decode("utf-8")  # strict: no surrogates slipped through
    return ET.fromstring(doc)


# ---------------------------------------------------------------------------- text helpers


def test_strip_ansi():
    assert strip_ansi("\x1b[1;31mred\x1b[0m \x1b]0;title\x07x \x1b]8;;http://e\x1b\\link\x1b]8;;\x1b\\") == "red x link"
    assert strip_ansi("\x1b7saved\x1b8 \x1b(B") == "saved "
    assert strip_ansi("lone \x1b at end \x1b") == "lone \x1b at end \x1b"


def test_xml_safe_replaces_only_forbidden():
    s = "a\x00b\x07c\x1bd\ud800e\udcffF\ufffeG\uffffH\tI\nJ\rK\x7f\u0085あ😀"
    out = xml_safe(s)
    assert out == "a␀b␇c␛d\\ud800e\\udcffF\\ufffeG\\uffffH\tI\nJ\rK\x7f\u0085あ😀"
    out.encode("utf-8")


def test_head_tail_short_unchanged():
    assert head_tail("abc\n", 10) == "abc\n"


@pytest.mark.parametrize("limit", [200, 1000, 64 * 1024])
def test_head_tail_cuts_utf8_safely(limit):
    s = "".join(f"{i:05d} あいう😀\n" for i in range(20000))
    out = head_tail(s, limit)
    size = len(out.encode("utf-8"))
    assert size <= limit
    assert out.startswith("00000 ")
    assert out.endswith("19999 あいう😀\n")
    match = re.search(r"^\[\.\.\. ([\d,]+) bytes cut \.\.\.\]$", out, re.M)
    assert match
    cut = int(match.group(1).replace(",", ""))
    head, tail = out.split(match.group(0))
    assert len(head.encode()) + cut + len(tail.encode()) - 1 == len(s.encode())  # -1: the marker's own "\n"


def test_head_tail_single_long_line():
    s = "😀" * 10000
    out = head_tail(s, 1000)
    assert len(out.encode()) <= 1000
    assert "bytes cut" in out and out.startswith("😀") and out.endswith("😀")


def test_one_line():
    assert one_line("  a\nb\r\n\tc  ") == "a b c"
    long = one_line("x" * 500, 200)
    assert len(long) == 200 and long.endswith("…")


# ---------------------------------------------------------------------------- JUnit


@pytest.mark.parametrize("flavor", ["jenkins", "codegrade"])
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_junit_valid_and_exact(shape, lang, flavor, junit_schema):
    results = SHAPES[shape]()
    doc = render_junit(results, lang, flavor)
    junit_schema.validate(doc.decode("utf-8"))
    root = parse(doc)

    assert root.tag == "testsuites"
    assert set(root.attrib) == {"name", "tests", "failures", "errors", "time"}
    assert root.get("name") == "concurrency-grader"
    suites = list(root)
    assert len(suites) == len(results)
    assert all(s.tag == "testsuite" for s in suites)
    assert int(root.get("tests")) == sum(len(r.checks) for r in results)
    assert int(root.get("failures")) == sum(1 for r in results for c in r.checks if not c.passed)
    assert root.get("errors") == "0"
    assert TIME_RE.match(root.get("time"))

    pairs = set()
    suite_names = set()
    for suite, result in zip(suites, results):
        expected_name = f"{result.student_key}.{result.exercise}" if result.student_key else result.exercise
        assert suite.get("name").split("#")[0] == expected_name
        assert suite.get("name") not in suite_names
        suite_names.add(suite.get("name"))
        assert int(suite.get("tests")) == len(result.checks)
        assert int(suite.get("failures")) == sum(1 for c in result.checks if not c.passed)
        assert suite.get("errors") == "0" and suite.get("skipped") == "0"
        assert TIME_RE.match(suite.get("time"))
        assert suite.get("timestamp") == result.timestamp
        assert suite.find("testsuite") is None  # flat

        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [c.id for c in result.checks]
        for case, chk in zip(cases, result.checks):
            assert case.get("classname") == suite.get("name")
            assert TIME_RE.match(case.get("time"))
            pair = (case.get("classname"), case.get("name"))
            assert pair not in pairs
            pairs.add(pair)
            assert case.find("skipped") is None and case.find("error") is None
            failure = case.find("failure")
            if chk.passed:
                assert len(case) == 0
            else:
                assert failure is not None and failure.get("type") == chk.id
                message = failure.get("message")
                assert message and "\n" not in message and "\r" not in message
                if chk.failure is not None:
                    assert failure.text.startswith(chk.failure.summary(lang).split("\n")[0])
                    for step in chk.failure.trace:
                        assert step(lang) in failure.text
                    if chk.failure.replay:
                        assert chk.failure.replay in failure.text

        props = suite.find("properties")
        out = suite.find("system-out")
        if flavor == "codegrade":
            assert props is None and out is None
        else:
            values = {p.get("name"): p.get("value") for p in props}
            assert float(values["score"]) == result.score
            assert float(values["max_score"]) == result.max_score
            assert values["seed"] == str(result.seed)
            assert values["exercise"] == result.exercise
            assert values["submission"] == result.submission
            assert values.get("student_name") == result.student_name
            for chk in result.checks:
                assert float(values[f"check.{chk.id}.score"]) == chk.points
            for key, value in result.properties.items():
                assert values[key] == value
            if result.output:
                assert out is not None and "\x1b" not in out.text
                assert len(out.text.encode("utf-8")) <= 64 * 1024
    if flavor == "codegrade":
        assert b"<properties" not in doc and b"<system-out" not in doc


def test_junit_output_sanitised():
    root = parse(render_junit([failing()], "en"))
    text = root.find("testsuite/system-out").text
    assert "red plain" in text  # ANSI colours and the OSC title are gone
    assert "nul:␀ bell:␇ esc:␛ lone:\\ud800 ff:\\ufffe tab:\t" in text
    assert "集計結果" in text


def test_junit_huge_output_head_and_tail():
    result = crashed()
    text = parse(render_junit([result], "ja")).find("testsuite/system-out").text
    assert text.startswith("x" * 100)
    assert text.rstrip("\n").endswith("END")
    assert re.search(r"^\[\.\.\. [\d,]+ bytes cut \.\.\.\]$", text, re.M)


def test_junit_batch_names_and_properties():
    results = batch()
    root = parse(render_junit(results, "ja"))
    names = [s.get("name") for s in root]
    assert names[:3] == ["s2212345.counter_lck", "s2212345.counter_lck#2", "s2212345.counter_pp"]
    assert names[-1] == "s2212345.counter_lck#3"
    first = {p.get("name"): p.get("value") for p in root[0].find("properties")}
    assert first["student_name"] == "山田 太郎" and first["student_key"] == "s2212345"


def test_junit_times_and_message():
    result = replace(failing(), seconds=123456.78951)
    root = parse(render_junit([result], "en"))
    suite = root[0]
    assert suite.get("time") == "123456.790"
    assert suite.find("testcase").get("time") == "0.012"
    lock = suite.find("testcase[@name='lock']/failure")
    assert lock.get("message") == "no lock"
    join = suite.find("testcase[@name='join']/failure")
    assert join.get("message") == "check join: failed"
    assert fmt_time(1e-7) == "0.000" and fmt_time(-1) == "0.000" and fmt_time(float("nan")) == "0.000"


def test_junit_failure_text_in_japanese():
    root = parse(render_junit([failing()], "ja"))
    text = root.find("testsuite/testcase[@name='tally']/failure").text
    assert "インターリーブ:" in text and "Thread-2 が 1 を書く（更新が失われる）" in text


def test_junit_unknown_flavor():
    with pytest.raises(ValueError):
        render_junit([passing()], "en", "gitlab")


# ---------------------------------------------------------------------------- Gradescope


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("make", [passing, failing, crashed, huge_output])
def test_gradescope(make, lang):
    result = make()
    data = render_gradescope(result, lang)
    assert data["score"] == result.score
    assert sum(t["score"] for t in data["tests"]) == data["score"]
    assert sum(t["max_score"] for t in data["tests"]) == result.max_score
    assert data["output_format"] == "text"
    assert data["extra_data"] == {"exercise": result.exercise, "seed": result.seed, "submission": result.submission,
                                  **{k: str(v) for k, v in result.properties.items()}}
    assert [t["number"] for t in data["tests"]] == [str(i) for i in range(1, len(result.checks) + 1)]
    for t, chk in zip(data["tests"], result.checks):
        assert t["name"] == f"{chk.id}: {chk.title(lang)}"
        assert t["status"] == ("passed" if chk.passed else "failed")
        assert t["visibility"] == "visible"
        assert (t["output"] == "") == chk.passed
        if chk.failure is not None and not chk.passed:
            assert t["output"] == chk.failure.text(lang, visible)  # one part, one line
    text = dumps(data)
    text.encode("utf-8")  # writable as UTF-8
    assert json.loads(text) == data
    assert dumps(data) == text


def test_gradescope_output_has_notes_and_summary():
    ja = render_gradescope(failing(), "ja")
    assert "CP932" in ja["output"] and "3/10" in ja["output"] and "tally" in ja["output"]
    en = render_gradescope(passing(), "en")
    assert "All checks passed." in en["output"]
    assert "\\u" not in dumps(render_gradescope(passing(), "ja"))  # ensure_ascii=False


def test_gradescope_zero_point_check_status():
    tests = render_gradescope(failing(), "en")["tests"]
    style = next(t for t in tests if t["name"].startswith("style:"))
    assert style["score"] == 0 and style["max_score"] == 0 and style["status"] == "failed"


# ---------------------------------------------------------------------------- terminal


def test_terminal_english_no_color():
    out = render_terminal(failing(), "en", color=False)
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0] == "Counter (Lock) [counter_lck]"
    assert lines[1] == "file: submissions/s2212345/counter_lck.py"
    assert re.search(r"^  ✓ runs\s+check runs\s+2/2$", out, re.M)
    assert re.search(r"^  ✗ tally\s+check tally\s+0/4$", out, re.M)
    assert re.search(r"^  ✗ style\s+check style\s+0/0$", out, re.M)
    assert "total: 3/10" in out
    assert "✗ tally: an update was lost: くさ is 2, not 3" in out
    assert "      Thread-2 writes 1 (update lost)" in out  # the trace, indented
    assert "  - the file was CP932" in out
    assert out.index("Why checks failed") < out.index("Notes")


def test_terminal_japanese_and_color():
    out = render_terminal(failing(), "ja", color=True)
    assert "\x1b[32m✓\x1b[0m" in out and "\x1b[31m✗\x1b[0m" in out
    plain = strip_ansi(out)
    assert "カウンタ（Lock） [counter_lck]" in plain
    assert "ファイル:" in plain and "合計: 3/10" in plain
    assert "不合格の理由" in plain and "お知らせ" in plain
    assert "インターリーブ:" in plain
    assert re.search(r"^  ✓ runs\s+runs のチェック\s+2/2$", plain, re.M)


def test_terminal_all_passed():
    out = render_terminal(passing(), "ja", color=False)
    assert "✗" not in out
    assert out.count("✓") == len(passing().checks)
    assert "合計: 10/10" in out and "すべてのチェックに合格しました。" in out


def test_terminal_columns_align_with_wide_titles():
    out = render_terminal(failing(), "ja", color=False)
    rows = [line for line in out.splitlines() if line.startswith(("  ✓", "  ✗"))]
    ends = {sum(2 if ord(ch) > 0x2E7F else 1 for ch in row[: row.rindex(" ")]) for row in rows}
    assert len(ends) == 1


@pytest.mark.parametrize(
    "explicit, course_lang, expected",
    [
        ("en", "ja", "en"),      # --lang wins over the course
        ("ja", "en", "ja"),
        (None, "ja", "ja"),      # no --lang: the course's language
        (None, "en", "en"),
        (None, "ja-JP", "ja"),
        (None, "fr", "en"),      # a course in a language the reports do not have
    ],
)
def test_pick_lang_defaults_to_the_course_language(explicit, course_lang, expected):
    assert pick_lang(explicit, course_lang) == expected


def test_pick_lang_ignores_the_locale(monkeypatch):
    """An English locale does not override the course's language (Japanese for this course)."""
    for name, value in (("LANG", "en_US.UTF-8"), ("LC_ALL", "en_US.UTF-8"), ("LC_MESSAGES", "C")):
        monkeypatch.setenv(name, value)
    assert pick_lang(None) == "ja"
    assert pick_lang("en") == "en"


def test_pick_lang_rejects_unknown():
    with pytest.raises(ValueError):
        pick_lang("fr")


def _forged_lines_result() -> GradeResult:
    name = "Thread-1\n合計: 8/8\r\x1b[2K\x9b2K\x85fake\u2028"
    failure = Failure(summary=Msg(f"{name} read cnt['く\nさ']", f"{name} read cnt['く\nさ']"),
                      observed=Msg.same("got\x9d\x1b]0;title\x07"), trace=(Msg.same(f"{name} wrote"),))
    return GradeResult(exercise="counter_lck", exercise_title=Msg.same("Counter"), submission="a\nb.py",
                       checks=(CheckResult("tally", Msg.same("tally"), 0, 3, False, failure),), seed=1, seconds=0.1,
                       timestamp="2026-11-25T03:01:29", notes=(Note(Msg.same("note\nwith a fake line")),))


def test_a_student_string_stays_on_its_line_in_every_text_output():
    result = _forged_lines_result()
    outputs = {"terminal": render_terminal(result, "en", color=False),
               "gradescope": render_gradescope(result, "en")["tests"][0]["output"],
               "junit": render_junit([result], "en").decode()}
    for where, text in outputs.items():
        assert "\n合計: 8/8" not in text and "\nfake" not in text, where
        assert not any(ch in text for ch in "\x9b\x9d\x85\r\x1b\u2028"), (where, text)
    terminal = outputs["terminal"]
    assert "Thread-1␊合計: 8/8␍" in terminal and "\\x85fake" in terminal
    assert "file: a␊b.py" in terminal and "note␊with a fake line" in terminal
    # the report's own structure is untouched: header, checks, total, failures, notes
    assert terminal.count("\n") == render_terminal(dataclasses.replace(
        result, submission="ab.py", notes=(Note(Msg.same("note")),),
        checks=(dataclasses.replace(result.checks[0], failure=Failure(
            summary=Msg.same("s"), observed=Msg.same("o"), trace=(Msg.same("w"),))),)), "en", color=False).count("\n")


def test_visible_shows_what_would_end_a_line():
    assert visible("a\nb\tc\x7f") == "a␊b\tc␡"
