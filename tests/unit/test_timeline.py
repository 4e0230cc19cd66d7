"""Timelines built from hand-built event lists, and drawn as SVG: nothing is spawned, no browser.

The builders (``grader.verdicts.analysis.timeline``) must show the same interleaving the text
report explains; the drawing (``grader.reports.svg``) must be well-formed XML, deterministic,
escape what the program chose (thread names, keys) and keep every label inside the picture.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from grader.model import Msg, Timeline, TimelineMark, TimelineSpan
from grader.reports.svg import describe_timeline, render_timeline_svg, text_width, timeline_steps
from grader.verdicts.analysis import describe_lost_update, lock_verdict, lost_updates
from grader.verdicts.analysis.timeline import (
    MAX_LANES, deadlock_timeline, join_timeline, lock_timeline, lost_update_timeline, semaphore_timeline,
)

NS = "{http://www.w3.org/2000/svg}"
DICT = 1


class Log:
    """An event list as the parent sees it (``n`` per process, ``proc`` added, virtual time ``t``)."""

    def __init__(self):
        self.events: list[dict] = []
        self.n = 0
        self.t = 0.0
        self.names: dict[int, str] = {0: "MainThread"}

    def ev(self, k, th=0, **fields):
        self.n += 1
        e = {"k": k, "n": self.n, "pid": 1000, "th": th, "tn": self.names.get(th, f"Thread-{th} (counter)"),
             "t": self.t, "proc": 0}
        e.update(fields)
        self.events.append(e)
        return e

    def spawn(self, child, name=None):
        self.names[child] = name or f"Thread-{child} (counter)"
        self.ev("spawn", 0, child=child, cn=self.names[child], ln=35)
        self.ev("begin", child, cls="Thread", daemon=False, ident=child)

    def new(self, obj, kind="Lock", value=1):
        self.ev("new", 0, obj=obj, kind=kind, value=value, ln=30)

    def acq(self, th, obj, kind="Lock", ln=18):
        self.ev("acq", th, obj=obj, kind=kind, ln=ln)

    def rel(self, th, obj, kind="Lock", ln=25):
        self.ev("rel", th, obj=obj, kind=kind, ln=ln)

    def block(self, th, obj, kind="Lock", ln=18):
        self.ev("block", th, obj=obj, kind=kind, ln=ln)

    def read(self, th, key, val, ln=19, **kw):
        self.ev("read", th, obj=DICT, key=key, val=val, ln=ln, **kw)

    def write(self, th, key, val, ln=23):
        self.ev("write", th, obj=DICT, key=key, val=val, ln=ln)

    def end(self, th):
        self.ev("end", th)


def race() -> Log:
    """Thread-1 and Thread-2 both read くさ = 0, then both write 1: Thread-1's update is lost."""
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0, missing=True)
    log.read(2, "くさ", 0)
    log.t = 2.0
    log.write(1, "くさ", 1)
    log.t = 3.0
    log.write(2, "くさ", 1)
    log.end(1)
    log.end(2)
    return log


def xml(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def marks(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if "mark" in (g.get("class") or "").split()]


def lane_names(root: ET.Element) -> list[str]:
    return [" ".join(t.itertext()).replace("  ", " ").strip()
            for t in root.iter(f"{NS}text") if t.get("class") == "lane-name"]


# ----------------------------------------------------------------------------- lost update


def test_lost_update_timeline_is_the_trace():
    log = race()
    lu = lost_updates(log.events)[0]
    tl = lost_update_timeline(log.events, lu)
    assert tl.kind == "lost_update"
    assert tl.lanes == ("Thread-1 (counter)", "Thread-2 (counter)")
    assert [(m.lane, m.kind, m.key, m.value, m.line) for m in tl.marks] == [
        (0, "read", "くさ", "0", 19), (1, "read", "くさ", "0", 19), (0, "write", "くさ", "1", 23),
        (1, "write", "くさ", "1", 23)]
    assert [m.at for m in tl.marks] == [0, 1, 2, 3]  # one row per step, in schedule order
    lost = [m for m in tl.marks if m.lost]
    assert len(lost) == 1 and lost[0].lane == 0 and lost[0].kind == "write"  # Thread-1's write is lost
    assert tl.caption == describe_lost_update(lu)[0]
    assert [(tl.marks[k.src].lane, tl.marks[k.dst].lane, k.kind) for k in tl.links] == [(1, 0, "overwrites")]
    assert tl.times == (0.0, 0.0, 2.0, 3.0)
    assert tl.marks[0].note == Msg("キーがまだなく既定値", "not in the dict yet: the default")


def test_lost_update_timeline_shows_the_locks_held_meanwhile():
    """A lock taken for the read and released before the write: bars and the release drawn."""
    log = Log()
    log.new(9)
    log.spawn(1)
    log.spawn(2)
    log.acq(1, 9)
    log.read(1, "みず", 0)
    log.rel(1, 9)
    log.acq(2, 9)
    log.read(2, "みず", 0)
    log.write(2, "みず", 1)
    log.rel(2, 9)
    log.write(1, "みず", 1)
    lu = lost_updates(log.events)[0]
    tl = lost_update_timeline(log.events, lu)
    kinds = [(tl.lanes[m.lane], m.kind) for m in tl.marks]
    assert ("Thread-1 (counter)", "release") in kinds and ("Thread-2 (counter)", "acquire") in kinds
    holds = [(tl.lanes[s.lane], s.kind, s.open_start, s.open_end) for s in tl.spans]
    assert ("Thread-1 (counter)", "hold", True, False) in holds  # taken before its read: drawn from before
    assert ("Thread-2 (counter)", "hold", False, False) in holds
    assert all(s.label.en.startswith("Lock #9 held") for s in tl.spans)
    assert [m.lost for m in tl.marks if m.kind == "write"] == [True, False]  # Thread-2's write is the lost one


def test_lost_update_from_another_run_draws_nothing():
    log = race()
    lu = lost_updates(log.events)[0]
    assert lost_update_timeline(log.events[:3], lu) is None


# ------------------------------------------------------------------------------------- lock


def test_lock_timeline_unguarded_shows_the_overlapping_thread():
    log = race()
    verdict = lock_verdict(log.events)
    assert verdict.reason == "unguarded"
    tl = lock_timeline(log.events, verdict)
    assert tl.kind == "lock" and tl.lanes == ("Thread-1 (counter)", "Thread-2 (counter)")
    assert {m.note.en for m in tl.marks if m.lost} == {"no Lock held"}
    assert "overlaps" in tl.caption.en and "Thread-2 (counter)" in tl.caption.en
    assert "重なっています" in tl.caption.ja


def test_lock_timeline_per_thread_locks_are_two_bars_of_two_locks():
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.ev("new", 1, obj=5, kind="Lock", value=1, ln=14)
    log.ev("new", 2, obj=6, kind="Lock", value=1, ln=14)
    log.acq(1, 5)
    log.read(1, "くさ", 0)
    log.acq(2, 6)
    log.read(2, "くさ", 0)
    log.write(1, "くさ", 1)
    log.rel(1, 5)
    log.write(2, "くさ", 1)
    log.rel(2, 6)
    verdict = lock_verdict(log.events)
    assert verdict.reason == "lock_per_thread"
    tl = lock_timeline(log.events, verdict)
    names = sorted(s.label.en.split(" held")[0] for s in tl.spans if s.kind == "hold")
    assert names == ["Lock #5", "Lock #6"]
    assert "different Lock" in tl.caption.en


def test_lock_timeline_none_when_the_lock_is_right():
    log = Log()
    log.new(3)
    log.spawn(1)
    log.spawn(2)
    for th in (1, 2):
        log.acq(th, 3)
        log.read(th, "くさ", th - 1)
        log.write(th, "くさ", th)
        log.rel(th, 3)
    assert lock_timeline(log.events, lock_verdict(log.events)) is None


# -------------------------------------------------------------------------------- semaphore


def crowd(limit: int, threads: int = 3) -> Log:
    """``threads`` threads inside a ``Semaphore(limit)`` guarded section, each waiting its turn."""
    log = Log()
    log.new(4, "Semaphore", limit)
    for th in range(1, threads + 1):
        log.spawn(th)
    inside = []
    for th in range(1, threads + 1):
        if len(inside) == limit:
            log.block(th, 4, "Semaphore")
            first = inside.pop(0)
            log.write(first, "くさ", first)
            log.rel(first, 4, "Semaphore")
        log.acq(th, 4, "Semaphore")
        log.read(th, "くさ", 0)
        inside.append(th)
    for th in inside:
        log.t += 1
        log.write(th, "くさ", th)
        log.rel(th, 4, "Semaphore")
    return log


def test_semaphore_timeline_over_the_limit_counts_who_is_inside():
    log = crowd(limit=3)  # all three get in: over the course's limit of 2
    tl = semaphore_timeline(log.events, limit=2)
    assert tl.kind == "semaphore" and tl.limit == 2
    assert tl.lanes == ("Thread-1 (counter)", "Thread-2 (counter)", "Thread-3 (counter)")
    assert max(n for _, n in tl.counts) == 3
    lost = [m for m in tl.marks if m.lost]
    assert len(lost) == 1 and tl.lanes[lost[0].lane] == "Thread-3 (counter)" and lost[0].kind == "read"
    assert "3 threads were inside" in tl.caption.en and "3 スレッド" in tl.caption.ja
    assert {s.kind for s in tl.spans} == {"hold"}


def test_semaphore_timeline_never_two_shows_the_wait():
    log = crowd(limit=1, threads=2)
    tl = semaphore_timeline(log.events, limit=2)
    assert max(n for _, n in tl.counts) == 1
    assert "wait" in {s.kind for s in tl.spans}
    assert "at most 1 thread" in tl.caption.en
    assert semaphore_timeline(crowd(limit=2).events, limit=2) is None  # exactly right: nothing to draw


def test_semaphore_timeline_many_inside_keeps_to_max_lanes():
    log = crowd(limit=9, threads=9)
    tl = semaphore_timeline(log.events, limit=2)
    assert len(tl.lanes) == MAX_LANES
    assert tl.lanes[-1] == "Thread-9 (counter)"  # the one that went over stays in the picture
    assert "6 more" in tl.notes[0].en


# --------------------------------------------------------------------------------- deadlock


def abba() -> tuple[Log, dict]:
    log = Log()
    log.new(1)
    log.new(2)
    log.spawn(1)
    log.spawn(2)
    log.acq(1, 1, ln=12)
    log.acq(2, 2, ln=12)
    log.ev("join", 0, target=1, timeout=None, ln=29)
    log.t = 1.0
    log.block(1, 2, ln=14)
    log.block(2, 1, ln=14)
    stop = log.ev("deadlock", 2, blocked=[
        {"th": 0, "tn": "MainThread", "on": "join Thread-1 (counter)", "ln": 29},
        {"th": 1, "tn": "Thread-1 (counter)", "on": "Lock #2, held by Thread-2 (counter)", "ln": 14},
        {"th": 2, "tn": "Thread-2 (counter)", "on": "Lock #1, held by Thread-1 (counter)", "ln": 14}])
    return log, stop


def test_deadlock_timeline_draws_the_cycle_first():
    log, stop = abba()
    tl = deadlock_timeline(log.events, stop)
    assert tl.kind == "deadlock"
    assert tl.lanes == ("Thread-1 (counter)", "Thread-2 (counter)", "MainThread")
    acquired = {(tl.lanes[m.lane], m.label.en) for m in tl.marks if m.kind == "acquire"}
    assert acquired == {("Thread-1 (counter)", "acquire Lock #1"), ("Thread-2 (counter)", "acquire Lock #2")}
    waits = {(tl.lanes[m.lane], m.label.en, m.lost) for m in tl.marks if m.kind == "wait"}
    assert ("Thread-1 (counter)", "waits for Lock #2", True) in waits
    assert ("Thread-2 (counter)", "waits for Lock #1", True) in waits
    assert ("MainThread", "join: waits for Thread-1 (counter)", False) in waits
    arrows = {(tl.lanes[tl.marks[k.src].lane], tl.marks[k.dst].label.en) for k in tl.links}
    assert arrows == {("Thread-1 (counter)", "acquire Lock #2"), ("Thread-2 (counter)", "acquire Lock #1")}
    assert all(s.open_end for s in tl.spans)  # held and waited for, for ever
    assert "Thread-1 (counter) → Thread-2 (counter) → Thread-1 (counter)" in tl.caption.en


def test_deadlock_on_a_lock_held_by_itself_and_many_waiters():
    log = Log()
    log.new(1)
    for th in range(1, 6):
        log.spawn(th)
    log.acq(1, 1, ln=14)
    for th in range(2, 6):
        log.block(th, 1, ln=14)
    log.block(1, 1, ln=19)
    blocked = [{"th": th, "tn": f"Thread-{th} (counter)", "on": "Lock #1, held by Thread-1 (counter)", "ln": 14}
               for th in range(1, 6)]
    stop = log.ev("deadlock", 1, blocked=blocked)
    tl = deadlock_timeline(log.events, stop)
    assert tl.lanes[0] == "Thread-1 (counter)" and len(tl.lanes) == MAX_LANES
    assert "a Lock it already holds itself" in tl.caption.en
    loop = [k for k in tl.links if tl.marks[k.src].lane == tl.marks[k.dst].lane == 0]
    assert len(loop) == 1  # the arrow from its wait back to its own acquire
    assert tl.notes and "2 more thread(s)" in tl.notes[0].en


# ------------------------------------------------------------------------------------- join


def test_join_timeline_print_before_the_threads_end():
    log = Log()
    log.spawn(1)
    log.spawn(2)
    log.read(1, "くさ", 0)
    printed = log.ev("out", 0, stream="out", s="集計結果： {}\n", ln=33)
    log.t = 3.0
    log.write(1, "くさ", 1)
    log.end(1)
    log.end(2)
    pos = log.events.index(printed)
    tl = join_timeline(log.events, pos, [1, 2], "集計結果")
    assert tl.kind == "join" and tl.lanes == ("MainThread", "Thread-1 (counter)", "Thread-2 (counter)")
    p = next(m for m in tl.marks if m.kind == "print")
    assert p.lost and p.lane == 0
    later = [m for m in tl.marks if m.at > p.at]
    assert {(tl.lanes[m.lane], m.kind) for m in later} >= {("Thread-1 (counter)", "write"), ("Thread-1 (counter)", "end")}
    assert {s.kind for s in tl.spans} == {"run"}
    assert "printed while Thread-1 (counter) and 1 more" in tl.caption.en


# ---------------------------------------------------------------------------------- drawing


def timelines() -> dict[str, Timeline]:
    log = race()
    log2, stop = abba()
    return {
        "lost_update": lost_update_timeline(log.events, lost_updates(log.events)[0]),
        "lock": lock_timeline(log.events, lock_verdict(log.events)),
        "semaphore": semaphore_timeline(crowd(limit=3).events, 2),
        "deadlock": deadlock_timeline(log2.events, stop),
    }


@pytest.mark.parametrize("kind", ["lost_update", "lock", "semaphore", "deadlock"])
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("words", [True, False])
def test_svg_is_xml_with_lanes_marks_and_caption(kind, lang, words):
    tl = timelines()[kind]
    svg = render_timeline_svg(tl, lang, f"t-{kind}", words=words)
    root = xml(svg)
    assert root.get("data-kind") == kind and root.get("role") == "img"
    assert root.find(f"{NS}title").text == tl.caption(lang)
    desc = root.find(f"{NS}desc").text
    assert all(name in desc for name in tl.lanes)  # the picture in words, for screen readers
    assert lane_names(root) == list(tl.lanes)
    assert len(marks(root)) == len(tl.marks)
    assert len([g for g in marks(root) if "lost" in g.get("class").split()]) == sum(m.lost for m in tl.marks)
    assert render_timeline_svg(tl, lang, f"t-{kind}", words=words) == svg  # byte for byte


def test_svg_marks_carry_the_lost_key_and_lines():
    root = xml(render_timeline_svg(timelines()["lost_update"], "ja"))
    keys = {(g.get("data-key"), g.get("data-value"), g.get("data-line")) for g in marks(root)}
    assert keys == {("くさ", "0", "19"), ("くさ", "1", "23")}
    words = ["".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "what"]
    assert "Thread-1 くさ = 1 を書く" in words and "この更新が失われる" in words


def test_untrusted_names_and_keys_are_escaped():
    log = Log()
    evil = "<script>alert('x')</script>\x00\x1b[31m&"
    log.spawn(1, name=evil)
    log.spawn(2)
    log.read(1, "<b>key</b>", 0)
    log.read(2, "<b>key</b>", 0)
    log.write(1, "<b>key</b>", 1)
    log.write(2, "<b>key</b>", 1)
    tl = lost_update_timeline(log.events, lost_updates(log.events)[0])
    for lang in ("ja", "en"):
        for words in (True, False):
            svg = render_timeline_svg(tl, lang, words=words)
            assert "<script" not in svg and "<b>" not in svg and "\x00" not in svg and "\x1b" not in svg
            root = xml(svg)
            assert any("alert" in name for name in lane_names(root))


def test_every_label_fits_inside_the_picture():
    """Nothing is clipped: each line of words ends inside the picture, each lane's name inside its
    column, in Japanese and in English, with a long name and a long note."""
    tl = timelines()["deadlock"]
    long_name = "ワーカースレッド番号いち-with-a-rather-long-english-name (counter)"
    tl = Timeline(tl.kind, (long_name,) + tl.lanes[1:], tl.marks, tl.caption, tl.spans, tl.counts, tl.limit,
                  tl.links, tl.times, tl.notes)
    marks_ = list(tl.marks)
    marks_[0] = TimelineMark(marks_[0].lane, marks_[0].at, marks_[0].kind, marks_[0].label, marks_[0].line,
                             lost=True, note=Msg("とても長い説明" * 12, "a very long explanation " * 8))
    tl = Timeline(tl.kind, tl.lanes, tuple(marks_), tl.caption, tl.spans, tl.counts, tl.limit, tl.links,
                  tl.times, tl.notes)
    for lang in ("ja", "en"):
        root = xml(render_timeline_svg(tl, lang))
        width = float(root.get("width"))
        for t in root.iter(f"{NS}text"):
            if t.get("class") == "what":
                end = float(t.get("x")) + sum(text_width(s.text or "", float(s.get("font-size")),
                                                         s.get("font-weight") == "bold")
                                              for s in t.iter(f"{NS}tspan"))
                assert end <= width, ("".join(t.itertext()), end, width)
        centres = []
        for t in root.iter(f"{NS}text"):
            if t.get("class") == "lane-name":
                half = max(text_width(s.text or "", 11, True) for s in t.iter(f"{NS}tspan")) / 2
                centres.append((float(t.get("x")), half))
        for (a, ha), (b, hb) in zip(centres, centres[1:]):
            assert a + ha <= b - hb, "two lane names overlap"


def test_hand_built_timeline_out_of_range_is_drawn_safely():
    """A timeline naming lanes or links that do not exist (a renderer is fed by others): still XML."""
    tl = Timeline("lost_update", ("A",), (TimelineMark(5, 0, "read", Msg.same("x")),
                                          TimelineMark(0, 3, "write", Msg.same("y"))),
                  Msg.same("c"), spans=(TimelineSpan(3, 0, 9, "hold", Msg.same("h")),))
    xml(render_timeline_svg(tl, "en"))
    assert describe_timeline(tl, "en")[0] == "threads: A"
    assert [len(row) for row in timeline_steps(tl, "en")] == [0, 0, 0, 1]
