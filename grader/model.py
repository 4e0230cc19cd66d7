"""Finished results: plain dataclasses that every renderer reads and nothing mutates.

The flow is one way: checks produce ``CheckResult``s, the grader bundles them into a
``GradeResult``, and the renderers (terminal, JUnit, Gradescope JSON) turn that into text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


@dataclass(frozen=True)
class Msg:
    """A user-facing text in Japanese and English."""

    ja: str
    en: str
    lines: bool = False
    """The text is lines of the grader's own making (a line of code, then a caret under it): a
    renderer keeps its line breaks; any other break in a part is shown, not kept (``Failure.text``)."""

    def __call__(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.ja if lang == "ja" else self.en

    def format(self, **kw: object) -> "Msg":
        """Both texts with ``{name}`` filled in from ``kw`` (``str.format``)."""
        return Msg(self.ja.format(**kw), self.en.format(**kw), self.lines)

    @classmethod
    def same(cls, text: str) -> "Msg":
        """A text that reads the same in both languages (a value, a line of code)."""
        return cls(text, text)

    @classmethod
    def from_yaml(cls, value: "Mapping[str, str] | str") -> "Msg":
        """From an assignment YAML entry: ``{ja: ..., en: ...}`` or a plain string."""
        if isinstance(value, str):
            return cls.same(value)
        return cls(str(value.get("ja") or value.get("en") or ""), str(value.get("en") or value.get("ja") or ""))


class GraderInputError(Exception):
    """Bad input the grader cannot grade (exit status 2). ``msg`` is one clear bilingual line."""

    def __init__(self, msg: Msg):
        super().__init__(msg.en)
        self.msg = msg


@dataclass(frozen=True)
class TimelineMark:
    """One moment on a thread's lane: a read, a write, an acquire, a print...

    ``at`` is the position in schedule order (0, 1, 2... in the order things happened), the
    same scale for every lane; ``lane`` indexes ``Timeline.lanes``.
    """

    lane: int
    at: int
    kind: str
    """``read``, ``check`` (a ``in``/``get`` that found nothing), ``write``, ``acquire``,
    ``release``, ``wait``, ``start``, ``end``, ``print``..."""
    label: Msg
    """Short text shown beside the mark (``read くさ = 1``)."""
    line: int | None = None
    key: str | None = None
    value: str | None = None
    lost: bool = False
    """This write's update is the one lost (or the mark is the culprit): drawn highlighted."""
    note: Msg | None = None
    """A second, emphasised line under the label (``この更新が失われる`` / ``this update is lost``)."""


@dataclass(frozen=True)
class TimelineSpan:
    """A bar on a lane between two moments: a lock or semaphore held, a wait, a sleep."""

    lane: int
    start: int
    end: int
    kind: str
    """``hold`` (a Lock/Semaphore held), ``wait`` (blocked), ``sleep``, ``inside`` (guarded section),
    ``run`` (the thread is alive)."""
    label: Msg
    open_start: bool = False
    """The bar began before the first moment drawn (a lock taken earlier)."""
    open_end: bool = False
    """The bar goes on after the last moment drawn (still held at a deadlock, still running)."""


@dataclass(frozen=True)
class TimelineLink:
    """An arrow between two marks (indexes in ``Timeline.marks``): this write overwrites that one,
    this thread waits for the lock that one took."""

    src: int
    dst: int
    kind: str
    """``overwrites`` (a write based on a stale read replaces another thread's), ``waits`` (for a
    lock another thread holds, or for a thread to end)."""
    label: Msg


@dataclass(frozen=True)
class Timeline:
    """A failure drawn as lanes, one per thread involved, time flowing in schedule order.

    Built in the parent from a run's recorded events (``grader.verdicts``); renderers only draw it.
    """

    kind: str
    """``lost_update``, ``semaphore``, ``deadlock``, ``join``, ``lock``..."""
    lanes: tuple[str, ...]
    """Thread names as the student's program names them."""
    marks: tuple[TimelineMark, ...]
    caption: Msg
    """One line saying what went wrong."""
    spans: tuple[TimelineSpan, ...] = ()
    counts: tuple[tuple[int, int], ...] = ()
    """``(at, n)``: how many threads were inside the guarded section from ``at`` on (semaphores)."""
    limit: int | None = None
    """How many threads may be inside at once (drawn beside ``counts``)."""
    links: tuple[TimelineLink, ...] = ()
    times: tuple[float, ...] = ()
    """The virtual clock (seconds) at each ``at``, when known: ``times[at]``."""
    notes: tuple[Msg, ...] = ()
    """Lines shown under the picture: what was left out of it (``10 more threads wait for Lock #1``)."""


@dataclass(frozen=True)
class Failure:
    """Why a check failed, for a student: what was expected, what happened, and where.

    ``summary`` is the one-line message (JUnit ``message``); ``trace`` holds the interleaving
    or other evidence, one line each, already worded; ``replay`` is a command that reproduces it.
    """

    summary: Msg
    expected: Msg | None = None
    observed: Msg | None = None
    where: Msg | None = None
    trace: tuple[Msg, ...] = ()
    replay: str | None = None
    timeline: Timeline | None = None
    """The failing interleaving as a picture (HTML report), when there is one."""

    def __str__(self) -> str:  # shown by pytest when a check's assert fails
        return self.text("en")

    def text(self, lang: Lang, part_text=None) -> str:
        """The full explanation as plain text in ``lang``. ``part_text`` renders each part (the
        summary, each field, each step) before the lines are joined: a renderer that makes a
        part one line (``reports.text.visible``) keeps a newline in a thread's name from making
        a line of its own."""
        shown = part_text or (lambda t: t)

        def show(part) -> str:
            if isinstance(part, Msg):
                text = part(lang)
                return "\n".join(shown(line) for line in text.split("\n")) if part.lines else shown(text)
            return shown(part)

        lines = [show(self.summary)]
        labels = {
            "ja": ("期待", "実際", "場所", "再現"),
            "en": ("expected", "observed", "where", "replay"),
        }[lang]
        for label, part in zip(labels, (self.expected, self.observed, self.where)):
            if part is not None:
                lines.append(f"  {label}: {show(part)}")
        if self.trace:
            lines.append("  " + ("インターリーブ:" if lang == "ja" else "interleaving:"))
            lines.extend(f"    {show(step)}" for step in self.trace)
        if self.replay:
            lines.append(f"  {labels[3]}: {show(self.replay)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one submission."""

    id: str
    title: Msg
    points: float
    max_points: float
    passed: bool
    failure: Failure | None = None
    seconds: float = 0.0
    """Time spent judging this check (the shared program runs are counted in ``runs``)."""
    error: bool = False
    """The grader itself failed on this check (JUnit ``<error>``), not the student."""
    notes: tuple[Msg, ...] = ()
    """What the student should know about how the check judged (a shape it could not judge
    everywhere, how it judged a pool...): never a reason to fail."""
    detail: str = ""
    """For the instructor: the traceback of a check that could not be judged (an error in the
    exercise's checks.py). Never in a student's report; ``grade --debug``, the pytest plugin and
    the batch's ``check-errors.txt`` show it."""


@dataclass(frozen=True)
class Note:
    """Something the student should know that is not a failure (encoding found, data scaled...)."""

    msg: Msg


@dataclass(frozen=True)
class GradeResult:
    """Everything known about one graded submission, ready to render."""

    exercise: str
    exercise_title: Msg
    submission: str
    """The path the user gave (shown in reports)."""
    checks: tuple[CheckResult, ...]
    seed: int
    seconds: float
    timestamp: str
    """UTC, ISO 8601 without fractions (``2026-11-25T03:01:29``)."""
    output: str = ""
    """The program's output on the first explored schedule (for JUnit ``system-out``)."""
    notes: tuple[Note, ...] = ()
    student_key: str | None = None
    """ASCII key of the student in a batch (student number or LMS participant id)."""
    student_name: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)
