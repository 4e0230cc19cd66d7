"""The HTML report and the batch index, rendered from hand-built results and parsed without a browser.

Every page shape (a pass, each failure kind with its timeline, a deadlock, an unrunnable file, a
batch index) is parsed as HTML (``html.parser``: tags close in order, ids unique, no script,
nothing loaded from elsewhere) and each of its SVG pictures as XML (``xml.etree``).
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from grader.batch.store import result_from_dict, result_to_dict
from grader.model import CheckResult, Failure, GradeResult, Msg, Note
from grader.reports.html import IndexExercise, IndexStudent, render_html, render_index
from grader.verdicts.analysis import describe_lost_update, lock_verdict, lost_updates
from grader.verdicts.analysis.timeline import (
    deadlock_timeline, join_timeline, lock_timeline, lost_update_timeline, semaphore_timeline,
)

from test_timeline import abba, crowd, race  # the same hand-built runs the timeline tests use

NS = "{http://www.w3.org/2000/svg}"
TITLES = {"runs": Msg("正常に終了する", "runs to its end"), "tally": Msg("集計結果が正しい", "exact tally"),
          "lock": Msg("1つのLockで読み書きを保護", "one shared Lock guards each update"),
          "join": Msg("全スレッドの終了後に結果を表示", "result printed after every thread ended"),
          "semaphore": Msg("同時に2スレッドまで", "at most two threads inside")}
NOT_JUDGED = Failure(summary=Msg("判定できません", "not judged"))


def check(id_, passed, points=1.0, failure=None):
    return CheckResult(id=id_, title=TITLES.get(id_, Msg.same(id_)), points=points if passed else 0.0,
                       max_points=points, passed=passed, failure=failure)


def result(*checks, exercise="counter_lck", output="くさを追加\n集計結果： {'くさ': 3}\n", notes=()) -> GradeResult:
    return GradeResult(exercise=exercise, exercise_title=Msg("Lockによる排他制御", "Mutual exclusion with a Lock"),
                       submission="s2212345/counter_lck.py", checks=tuple(checks), seed=1, seconds=0.31,
                       timestamp="2026-11-25T03:01:29", output=output, notes=tuple(notes))


def lost_update_failure() -> Failure:
    log = race()
    lu = lost_updates(log.events)[0]
    head, trace = describe_lost_update(lu)
    return Failure(summary=Msg(f"集計結果が正しくありません（{head.ja}）", f"the tally is wrong ({head.en})"),
                   expected=Msg.same("{'くさ': 2}"), observed=Msg.same("{'くさ': 1}"),
                   where=Msg("23行目, スケジュール #0", "line 23, schedule #0"), trace=trace,
                   replay="grade counter_lck.py --seed 1", timeline=lost_update_timeline(log.events, lu))


def shapes() -> dict[str, GradeResult]:
    log = race()
    verdict = lock_verdict(log.events)
    lock_failure = replace(verdict.failure(), timeline=lock_timeline(log.events, verdict))
    dl, stop = abba()
    deadlock = Failure(summary=Msg("デッドロック: どのスレッドも進めなくなりました", "deadlock: no thread can go on"),
                       observed=Msg("すべてのスレッドが互いを待って止まりました", "every thread is waiting for another"),
                       timeline=deadlock_timeline(dl.events, stop))
    sem = Failure(summary=Msg("3 スレッドが同時に保護区間に入りました（上限は2）",
                              "3 threads were inside the guarded section at once (the limit is 2)"),
                  timeline=semaphore_timeline(crowd(limit=3).events, 2))
    printed = log.events.index(next(e for e in log.events if e["k"] == "write"))  # stand-in for the print
    join = Failure(summary=Msg("スレッドの終了を待たずに「集計結果」を表示しています",
                               "「集計結果」 is printed before every thread has ended"),
                   timeline=join_timeline(log.events, printed, [2], "集計結果"))
    syntax = Failure(summary=Msg("構文エラーのため実行できません", "cannot run: syntax error"),
                     expected=Msg("Python として正しいプログラム", "a valid Python program"),
                     observed=Msg.same("SyntaxError: '(' was never closed (line 1)\nx = (\n    ^"))
    return {
        "pass": result(check("runs", True), check("tally", True, 3), check("lock", True, 2), check("join", True)),
        "lost_update": result(check("runs", True), check("tally", False, 3, lost_update_failure()),
                              check("lock", False, 2, lock_failure), check("join", True)),
        "semaphore": replace(result(check("runs", True), check("semaphore", False, 3, sem)), exercise="counter_smp"),
        "deadlock": result(check("runs", False, 1, deadlock), check("tally", False, 3, NOT_JUDGED)),
        "join": result(check("runs", True), check("join", False, 1, join)),
        "unrunnable": result(check("runs", False, 1, syntax), check("tally", False, 3, NOT_JUDGED), output=""),
        "no_failure_object": result(check("runs", True), check("tally", False, 3)),
    }


@pytest.mark.parametrize("shape", sorted(shapes()))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_shape_parses(shape, lang, html_page):
    r = shapes()[shape]
    doc = render_html(r, lang)
    page = html_page(doc)
    assert f'<html lang="{lang}">' in doc
    assert page.find("meta", name="viewport")
    assert r.exercise_title(lang) in page.text and r.submission in page.text
    items = page.find("li", class_="check")
    assert [a["data-check"] for a in items] == [c.id for c in r.checks]
    assert [("pass" in a["class"].split()) for a in items] == [c.passed for c in r.checks]
    for c in r.checks:
        assert f"{c.points:g}/{c.max_points:g}" in page.text
    failed = {a["data-check"] for a in page.find("section", class_="failure")}
    assert failed == {c.id for c in r.checks if not c.passed}
    for c in r.checks:  # expected / observed / where, as in the terminal
        f = c.failure
        if f is not None and not c.passed:
            assert f.summary(lang) in page.text
            for part in (f.expected, f.observed, f.where):
                if part is not None:
                    assert part(lang) in page.text
    drawn = [c.failure.timeline for c in r.checks if not c.passed and c.failure and c.failure.timeline]
    assert len(page.timelines(words=True)) == len(page.timelines(words=False)) == len(drawn)
    assert len(page.find("figure", class_="timeline-figure")) == len(drawn)
    assert render_html(r, lang) == doc  # a pure function: the same bytes again


def test_pass_page_says_so(html_page):
    page = html_page(render_html(shapes()["pass"], "ja"))
    assert "すべてのチェックに合格しました。" in page.text and not page.timelines(None)


def test_lost_update_picture_has_the_lanes_the_key_and_the_caption(html_page, svg_text):
    r = shapes()["lost_update"]
    tl = r.checks[1].failure.timeline
    page = html_page(render_html(r, "ja"))
    svg = page.timelines()[0]
    assert svg.get("data-kind") == "lost_update"
    assert svg_text(svg, "lane-name") == list(tl.lanes) == ["Thread-1 (counter)", "Thread-2 (counter)"]
    keys = {g.get("data-key") for g in svg.iter(f"{NS}g") if g.get("data-key")}
    assert keys == {"くさ"}
    assert svg.find(f"{NS}title").text == tl.caption.ja == "更新が1回失われました: 2つのスレッドが同じ値 くさ=0 を読んでから書き込みました"
    assert page.find("figcaption") and tl.caption.ja in page.text
    assert "この更新が失われる" in " ".join(svg_text(svg))
    # the narrow picture's steps say the same, in a list the page can wrap
    assert "Thread-1: くさ = 1 を書く（23行目、この更新が失われる）" in page.text
    assert "図を文章で読む" in page.text  # the picture in words, for anyone


def test_deadlock_picture_shows_who_holds_and_who_waits(html_page, svg_text):
    page = html_page(render_html(shapes()["deadlock"], "en"))
    svg = page.timelines()[0]
    assert svg.get("data-kind") == "deadlock"
    words = " ".join(svg_text(svg, "what"))
    assert "acquire Lock #1" in words and "waits for Lock #2" in words
    assert len([p for p in svg.iter(f"{NS}path") if "link-waits" in (p.get("class") or "")]) == 2
    assert "each waits for a Lock the other holds" in page.text


def test_semaphore_picture_counts_the_threads_inside(html_page, svg_text):
    page = html_page(render_html(shapes()["semaphore"], "en"))
    svg = page.timelines()[0]
    texts = svg_text(svg)
    assert "inside" in texts and "limit 2" in texts
    assert "3" in texts  # the count that went over


def test_unrunnable_page_keeps_the_caret_under_the_line(html_page):
    doc = render_html(shapes()["unrunnable"], "en")
    page = html_page(doc)
    assert "<pre>SyntaxError: &#x27;(&#x27; was never closed (line 1)\nx = (\n    ^</pre>" in doc
    assert not page.timelines(None) and "(no output)" in page.text


def test_program_output_is_escaped_and_cut():
    evil = "<script>alert(1)</script>\x1b[31mred\x1b[0m nul\x00 " + "あ" * 20000 + "\nEND\n"
    doc = render_html(result(check("runs", True), output=evil, notes=(Note(Msg.same("<b>note</b>")),)), "en")
    assert "<script" not in doc and "<b>note" not in doc and "\x00" not in doc and "\x1b" not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;red nul␀" in doc and "END" in doc
    assert "bytes cut" in doc and len(doc.encode()) < 40_000


def test_timelines_survive_the_batch_store():
    """Batch results cross processes and the cache as JSON: the picture must come back whole."""
    r = shapes()["lost_update"]
    again = result_from_dict(result_to_dict(r))
    assert again == r
    assert render_html(again, "ja") == render_html(r, "ja")


# ----------------------------------------------------------------------------------- index


def index_inputs():
    exercises = [IndexExercise("counter_lck", Msg("Lockによる排他制御", "Mutual exclusion with a Lock"), 7.0,
                               (("runs", TITLES["runs"], 1.0), ("tally", TITLES["tally"], 3.0),
                                ("lock", TITLES["lock"], 2.0), ("join", TITLES["join"], 1.0))),
                 IndexExercise("counter_smp", Msg("Semaphore", "Semaphore"), 3.0,
                               (("semaphore", TITLES["semaphore"], 3.0),))]
    good = result(check("runs", True), check("tally", True, 3), check("lock", True, 2), check("join", True))
    bad = shapes()["lost_update"]
    students = [IndexStudent("s2212345", "山田 太郎", "feedback/s2212345.html", {"counter_lck": good, "counter_smp": "missing"}),
                IndexStudent("s2212346", "<i>佐藤</i> 花子", "feedback/s2212346.html", {"counter_lck": bad, "counter_smp": "pending"}),
                IndexStudent("s2212347", "Ünïcødé", None, {})]
    return students, exercises


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_index_page(lang, html_page, svg_text):
    students, exercises = index_inputs()
    doc = render_index(students, exercises, lang)
    page = html_page(doc)
    assert f'<html lang="{lang}">' in doc and "<i>" not in doc
    rows = page.find("tr")
    assert [a.get("data-student") for a in rows if a.get("data-student")] == ["s2212345", "s2212346", "s2212347"]
    assert [a["href"] for a in page.find("a") if a["href"].startswith("feedback/")] == [
        "feedback/s2212345.html", "feedback/s2212346.html"]
    charts = [s for s in page.svgs if "chart" in (s.get("class") or "").split()]
    assert len(charts) == 3  # the distribution, and failures per check of each exercise
    hist = charts[0]
    counts = [r for r in hist.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert sorted(r.find(f"{NS}title").text for r in counts) == ["2: 1", "7: 1"]  # totals 2 (racy) and 7
    lck = svg_text(charts[1])
    assert lck[lck.index("tally (3)") + 1] == "1/2" and lck[lck.index("runs (1)") + 1] == "0/2"
    assert ("未提出" if lang == "ja" else "not handed in") in page.text
    assert ("未採点" if lang == "ja" else "not graded yet") in page.text
    assert render_index(students, exercises, lang) == doc


def test_index_of_an_empty_class(html_page):
    page = html_page(render_index([], [], "ja"))
    assert "学生 0 人" in page.text
