"""Moodle CodeRunner: a question per exercise in Moodle XML (``grade export coderunner``) and what
its template runs.

Each question is of type ``coderunner`` (``python3``) with its own template, a combinator
(``iscombinatortemplate``) whose grader is ``TemplateGrader``: the template writes the student's
answer (``{{ STUDENT_ANSWER | e('py') }}``: CodeRunner's Python escaper escapes only ``\\`` and
``"``, so the answer sits in a triple-quoted string) to the exercise's file name, grades it and
prints the one JSON object a combinator template grader prints (``reports.coderunner``). The grader
travels with the question as a support file (the wheel, unpacked by the template with zipfile:
no pip, no network on the Jobe server); the Jobe server needs Python 3.10+ and PyYAML. A Jobe
server with the grader installed (``import grader`` works) is used as it is when the support file
is missing.
"""
from __future__ import annotations

import base64
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .common import dispatch, step_parser, write_bytes
from .wheel import wheel_bytes, wheel_name

TEMPLATE = r'''# CodeRunner combinator template grader, written by `grade export coderunner` (concurrency grader {version}).
import html, json, os, subprocess, sys, tempfile, zipfile

ANSWER = """{{{{ STUDENT_ANSWER | e('py') }}}}"""
EXERCISE, FILE, LANG, SEED = {exercise!r}, {file!r}, {lang!r}, {seed!r}
WHEEL = {wheel!r}
HEADER = {header!r}


def give_up(why):
    print(json.dumps({{"fraction": 0.0, "testresults": [HEADER, [0, "-", "", "0", why]],
                      "columnformats": ["%s", "%s", "%s", "%s"],
                      "prologuehtml": "<p><strong>" + html.escape(why) + "</strong></p>",
                      "epiloguehtml": "", "showoutputonly": False}}))


try:
    env = dict(os.environ)
    if os.path.exists(WHEEL):  # the question's support file
        lib = tempfile.mkdtemp(prefix="cg-lib-")
        zipfile.ZipFile(WHEEL).extractall(lib)
        env["PYTHONPATH"] = lib + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    work = tempfile.mkdtemp(prefix="cg-answer-")
    path = os.path.join(work, FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(ANSWER)
    proc = subprocess.run([sys.executable, "-m", "grader.export.coderunner", "run", "--exercise", EXERCISE,
                           "--lang", LANG, "--seed", str(SEED), path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=110)
    out = proc.stdout.decode("utf-8", "replace").strip()
    try:
        json.loads(out)
    except ValueError:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        give_up(("採点器を実行できませんでした: " if LANG == "ja" else "the grader could not run: ")
                + (err[-1] if err else "exit status %d" % proc.returncode))
    else:
        print(out)
except Exception as exc:
    give_up(("採点器を実行できませんでした: " if LANG == "ja" else "the grader could not run: ")
            + type(exc).__name__ + ": " + str(exc))
'''


def _text(parent: ET.Element, tag: str, value: str = "", **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = value
    return el


def _wrapped(parent: ET.Element, tag: str, value: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    _text(el, "text", value)
    return el


def template(exercise, lang: str, seed: int = 1) -> str:
    from .. import __version__
    from ..reports.coderunner import HEADER

    return TEMPLATE.format(version=__version__, exercise=exercise.id, file=exercise.file, lang=lang,
                           seed=int(seed), wheel=wheel_name(), header=HEADER[lang])


def question(quiz: ET.Element, exercise, lang: str, seed: int, wheel_b64: str) -> None:
    from ..exercises.catalog import course_root
    from ..reports.text import html_text as esc

    q = ET.SubElement(quiz, "question", {"type": "coderunner"})
    _wrapped(q, "name", f"{exercise.title(lang)} [{exercise.id}]")
    ask = (f"<p><strong>{esc(exercise.title(lang))}</strong></p><p>{esc(exercise.file)} を書いてください。"
           "スレッドの並行実行を何通りものスケジュールで調べて採点し、失敗したときはそのインターリーブを図で示します。</p>"
           if lang == "ja" else
           f"<p><strong>{esc(exercise.title(lang))}</strong></p><p>Write {esc(exercise.file)}. It is graded by "
           "running its threads under many schedules; a failure is explained with the interleaving that caused it, drawn.</p>")
    _wrapped(q, "questiontext", ask, format="html")
    _wrapped(q, "generalfeedback", "", format="html")
    starter = exercise.folder / "starter.py"
    reference = course_root() / "reference" / exercise.file
    fields = [
        ("defaultgrade", f"{exercise.max_score:g}"), ("penalty", "0"), ("hidden", "0"), ("idnumber", ""),
        ("coderunnertype", "python3"), ("prototypetype", "0"), ("allornothing", "0"),
        ("penaltyregime", "0"), ("precheck", "0"), ("hidecheck", "0"), ("showsource", "0"),
        ("answerboxlines", "30"), ("answerboxcolumns", "100"),
        ("answerpreload", starter.read_text(encoding="utf-8") if starter.is_file() else ""),
        ("globalextra", ""), ("useace", "1"), ("resultcolumns", ""),
        ("template", template(exercise, lang, seed)), ("iscombinatortemplate", "1"),
        ("allowmultiplestdins", "0"),
        ("answer", reference.read_text(encoding="utf-8") if reference.is_file() else ""),
        ("validateonsave", "1"), ("testsplitterre", ""), ("language", "python3"), ("acelang", "python3"),
        ("sandbox", ""), ("grader", "TemplateGrader"), ("cputimelimitsecs", "120"), ("memlimitmb", "0"),
        ("sandboxparams", '{"numprocs": 300}'), ("templateparams", ""), ("hoisttemplateparams", "0"),
        ("extractcodefromjson", "0"), ("templateparamslang", "None"), ("templateparamsevalpertry", "0"),
        ("templateparamsevald", ""), ("twigall", "0"), ("uiplugin", "ace"), ("uiparameters", ""),
        ("attachments", "0"), ("attachmentsrequired", "0"), ("maxfilesize", "10240"),
        ("filenamesregex", ""), ("filenamesexplain", ""), ("displayfeedback", "1"), ("giveupallowed", "0"),
        ("prototypeextra", ""),
    ]
    for tag, value in fields:
        _text(q, tag, value)
    cases = ET.SubElement(q, "testcases")
    # One test case: a combinator template grader grades the whole answer in one run.
    case = ET.SubElement(cases, "testcase", {"testtype": "0", "useasexample": "0", "hiderestiffail": "0",
                                            "mark": "1.0000000"})
    for tag in ("testcode", "stdin", "expected", "extra"):
        _wrapped(case, tag, "")
    _wrapped(case, "display", "SHOW")
    _text(cases, "file", wheel_b64, name=wheel_name(), path="/", encoding="base64")


def build_xml(exercises: list[str], lang: str, seed: int = 1) -> bytes:
    """The Moodle XML quiz file: one CodeRunner question per exercise."""
    from ..exercises import catalog

    quiz = ET.Element("quiz")
    wheel_b64 = base64.b64encode(wheel_bytes()).decode("ascii")
    for eid in exercises:
        question(quiz, catalog.get(eid), lang, seed, wheel_b64)
    ET.indent(quiz, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8") + b"\n"


def export(out: Path, exercises: list[str], lang: str, seed: int = 1) -> str:
    write_bytes(out, build_xml(exercises, lang, seed))
    return (f"wrote {out}: {len(exercises)} CodeRunner question(s) ({', '.join(exercises)}); import it in Moodle's "
            f"question bank (format: Moodle XML). The Jobe server needs Python 3.10+ and PyYAML\n")


# ---------------------------------------------------------------------- on the Jobe server

def run(argv: list[str]) -> int:
    """Grade the answer's file; print the combinator grader's JSON (and nothing else)."""
    p = step_parser("python -m grader.export.coderunner run")
    p.add_argument("file")
    p.add_argument("--exercise", required=True)
    args = p.parse_args(argv)
    import json

    from ..reports.coderunner import error_coderunner, render_coderunner
    from ..reports.fragment import Ungraded
    from .common import grade_file, internal_error

    try:
        item = grade_file(Path(args.file), args.exercise, args.seed, shown=Path(args.file).name)
        obj = error_coderunner(item.reason, args.lang) if isinstance(item, Ungraded) else render_coderunner(item, args.lang)
    except BaseException as exc:
        obj = error_coderunner(internal_error(exc), args.lang)
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, {"run": run}, "python -m grader.export.coderunner run --exercise ID FILE")


if __name__ == "__main__":
    sys.exit(main())
