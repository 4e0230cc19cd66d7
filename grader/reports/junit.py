"""JUnit XML for CI servers and LMSs, valid against the Jenkins ``junit-10.xsd``.

The shape is the one pytest's xunit2 family writes (see SPEC "Reports"): one ``<testsuites>``
holding a flat list of ``<testsuite>``, one per graded submission, one ``<testcase>`` per check.

Built with ``xml.etree.ElementTree`` on purpose. The PyPI ``junit-xml`` package (1.9) is not used:
it writes a ``disabled`` attribute and times with six decimals (``time="0.012345"``), both of
which ``junit-10.xsd`` rejects (it validates only against the looser pre-2.0 xunit-plugin schema).
"""
from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from typing import Sequence

from grader.model import CheckResult, GradeResult, Lang
from grader.reports.text import head_tail, one_line, strip_ansi, visible, xml_safe

__all__ = ["render_junit", "FLAVORS", "fmt_time", "fmt_number", "suite_name"]

FLAVORS = ("jenkins", "codegrade")
OUTPUT_LIMIT = 64 * 1024
"""Bytes of program output kept in ``<system-out>`` (head and tail)."""


def fmt_time(seconds: float) -> str:
    """Seconds as the schema's ``SUREFIRE_TIME`` wants: three decimals, no sign, no exponent."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    return f"{seconds:.3f}"


def fmt_number(x: float) -> str:
    """A score for a property value: ``2`` rather than ``2.0``, ``1.5`` as is."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer():
        return str(int(x))
    if isinstance(x, float):
        return repr(round(x, 6))
    return str(x)


def suite_name(result: GradeResult) -> str:
    """``<exercise>``, or ``<student_key>.<exercise>`` when the result carries a student key."""
    return f"{result.student_key}.{result.exercise}" if result.student_key else result.exercise


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name#2``, ``name#3``... if already in ``taken`` (which it is then added to)."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    taken.add(candidate)
    return candidate


def _program_output(output: str) -> str:
    """Program output fit for ``<system-out>``: no ANSI, no forbidden characters, ~64 KiB."""
    text = strip_ansi(output).replace("\r\n", "\n")
    return head_tail(xml_safe(text), OUTPUT_LIMIT)


def _failure_message(check: CheckResult, lang: Lang) -> str:
    if check.failure is not None:
        return visible(one_line(check.failure.summary(lang)))
    title = check.title(lang)
    return visible(one_line(f"{title}: 不合格" if lang == "ja" else f"{title}: failed"))


def _failure_text(check: CheckResult, lang: Lang) -> str:
    if check.failure is not None:
        return check.failure.text(lang, visible)
    return _failure_message(check, lang)


def _properties(suite: ET.Element, result: GradeResult, lang: Lang) -> None:
    props: list[tuple[str, str]] = [
        ("score", fmt_number(result.score)),
        ("max_score", fmt_number(result.max_score)),
        ("seed", str(result.seed)),
        ("exercise", result.exercise),
        ("submission", result.submission),
    ]
    if result.student_key:
        props.append(("student_key", result.student_key))
    if result.student_name:
        props.append(("student_name", result.student_name))
    props.extend((f"check.{c.id}.score", fmt_number(c.points)) for c in result.checks)
    props.extend((f"note.{i}", note.msg(lang)) for i, note in enumerate(result.notes, 1))
    props.extend((str(k), str(v)) for k, v in result.properties.items())
    element = ET.SubElement(suite, "properties")
    for name, value in props:
        ET.SubElement(element, "property", name=xml_safe(name), value=xml_safe(value))


def _suite(result: GradeResult, name: str, lang: Lang, flavor: str, hostname: str | None) -> ET.Element:
    errors = sum(1 for c in result.checks if c.error)
    failures = sum(1 for c in result.checks if not c.passed and not c.error)
    suite = ET.Element(
        "testsuite",
        name=xml_safe(name),
        tests=str(len(result.checks)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=fmt_time(result.seconds),
        timestamp=xml_safe(result.timestamp),
    )
    if hostname:
        suite.set("hostname", xml_safe(hostname))
    if flavor == "jenkins":
        _properties(suite, result, lang)
    taken: set[str] = set()
    for check in result.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            name=xml_safe(_unique(check.id, taken)),
            classname=xml_safe(name),
            time=fmt_time(check.seconds),
        )
        if not check.passed:
            tag = "error" if check.error else "failure"  # <error> is the grader's own fault
            failure = ET.SubElement(case, tag, message=_failure_message(check, lang), type=xml_safe(check.id))
            failure.text = _failure_text(check, lang)
    if flavor == "jenkins" and result.output:
        ET.SubElement(suite, "system-out").text = _program_output(result.output)
    return suite


def render_junit(
    results: Sequence[GradeResult],
    lang: Lang,
    flavor: str = "jenkins",
    hostname: str | None = None,
) -> bytes:
    """The JUnit XML document (UTF-8, with declaration) for ``results``.

    One ``<testsuite>`` per result, named ``<exercise>`` or ``<student_key>.<exercise>``; that name
    is also every testcase's ``classname`` (a repeated name gets ``#2``, ``#3``... so that each
    (classname, name) pair is unique). Every check is a ``<testcase>``; a failed one holds a
    ``<failure>`` (one-line ``message``, full explanation as text), never ``<skipped>``.
    ``flavor="jenkins"`` adds ``<properties>`` (scores, seed, submission, student, per-check scores,
    notes) and the program output in ``<system-out>``; ``flavor="codegrade"`` leaves both out,
    as CodeGrade rejects them.
    """
    if flavor not in FLAVORS:
        raise ValueError(f"unknown JUnit flavor {flavor!r} (expected one of {', '.join(FLAVORS)})")
    taken: set[str] = set()
    suites = [_suite(r, _unique(suite_name(r), taken), lang, flavor, hostname) for r in results]
    root = ET.Element(
        "testsuites",
        name="concurrency-grader",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors=str(sum(int(s.get("errors", "0")) for s in suites)),
        time=fmt_time(sum(max(0.0, r.seconds) for r in results if math.isfinite(r.seconds))),
    )
    root.extend(suites)
    ET.indent(root)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"
