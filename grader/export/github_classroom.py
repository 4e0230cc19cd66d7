"""GitHub Classroom: the autograding workflow (``grade export github-classroom``) and the two
commands its steps run.

How the grader's per-check scores reach Classroom: the workflow grades each exercise once (``grade``
below writes the runner result JSON that ``grade FILE --github-classroom PATH`` writes), then runs
one ``classroom-resources/autograding-command-grader@v1`` step per check, whose ``max-score`` is the
check's points and whose command (``check`` below) exits 0 exactly when that check passed, printing
why it failed. ``classroom-resources/autograding-grading-reporter@v1`` adds them up: Classroom gets
the grader's own score, check by check, and the student reads each failure in the workflow's log.
A check worth 0 points (``integrity``) is still a step, with ``max-score: 0``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..model import GraderInputError, Msg
from .common import dispatch, out_folder, say, step_parser, write_text, writing
from .wheel import build_wheel, wheel_name

RESULTS_DIR = ".github/classroom/results"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def step_id(exercise: str, check: str) -> str:
    return f"{exercise}-{check}".replace(".", "-")


def workflow(exercises: list[str], lang: str, seed: int = 1) -> str:
    """The text of ``.github/workflows/classroom.yml``."""
    from .. import __version__
    from ..exercises import catalog

    wheel = f".github/classroom/{wheel_name()}"
    lines = [
        f"# GitHub Classroom autograding, written by `grade export github-classroom` (concurrency grader {__version__}).",
        "# One command-grader step per check (max-score = the check's points); the reporter adds them up.",
        "name: Autograding Tests",
        "'on':",
        "  - push",
        "  - repository_dispatch",
        "  - workflow_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "      - name: Checkout code",
        "        uses: actions/checkout@v4",
        "      - name: Set up Python",
        "        uses: actions/setup-python@v5",
        "        with:",
        "          python-version: '3.12'",
        "      - name: Install the concurrency grader",
        f"        run: python -m pip install --disable-pip-version-check -q {wheel}",
    ]
    runners: list[tuple[str, str]] = []
    for eid in exercises:
        ex = catalog.get(eid)
        out = f"{RESULTS_DIR}/{eid}.json"
        lines += [
            f"      - name: {_q('Grade ' + eid)}",
            f"        run: python -m grader.export.github_classroom grade --exercise {eid} --lang {lang} "
            f"--seed {int(seed)} --out {out}",
        ]
        for c in ex.checks:
            if float(c.points) != int(c.points):
                raise GraderInputError(Msg(
                    f"GitHub Classroom の command grader は整数の点しか扱えません（{eid} の {c.id} は {c.points:g} 点）",
                    f"GitHub Classroom's command grader takes whole points only ({eid}'s check {c.id} is worth {c.points:g})"))
            sid = step_id(eid, c.id)
            runners.append((sid, f"{sid.upper()}_RESULTS"))
            lines += [
                f"      - name: {_q(f'{eid} {c.id}: {c.title(lang)}')}",
                f"        id: {sid}",
                "        uses: classroom-resources/autograding-command-grader@v1",
                "        with:",
                f"          test-name: {_q(f'{eid} {c.id}: {c.title(lang)}')}",
                f"          command: python -m grader.export.github_classroom check {out} {c.id}",
                "          timeout: 5",
                f"          max-score: {int(c.points)}",
            ]
    lines += [
        "      - name: Autograding Reporter",
        "        uses: classroom-resources/autograding-grading-reporter@v1",
        "        env:",
    ]
    lines += [f"          {env}: \"${{{{steps.{sid}.outputs.result}}}}\"" for sid, env in runners]
    lines += [
        "        with:",
        f"          runners: {','.join(sid for sid, _ in runners)}",
    ]
    return "\n".join(lines) + "\n"


def export(out: Path, exercises: list[str], lang: str, seed: int = 1) -> str:
    """Write the workflow, the wheel it installs and (where none is there yet) each exercise's starter."""
    from ..exercises import catalog

    out_folder(out)
    write_text(out / ".github/workflows/classroom.yml", workflow(exercises, lang, seed))
    with writing(out):
        build_wheel(out / ".github/classroom")
    started = []
    for eid in exercises:
        ex = catalog.get(eid)
        starter = ex.folder / "starter.py"
        target = out / ex.file
        if starter.is_file() and not target.exists():
            write_text(target, starter.read_text(encoding="utf-8"))
            started.append(ex.file)
    extra = f"; starters: {', '.join(started)}" if started else ""
    return (f"wrote {out}/.github/workflows/classroom.yml and .github/classroom/{wheel_name()}{extra} "
            f"(commit them to the assignment's template repository)\n")


# ------------------------------------------------------------------------------ in the workflow

def grade(argv: list[str]) -> int:
    """Grade the exercise's file in the repository; write the runner result JSON. Always exit 0:
    a file that cannot be graded is a result (``status: error``) the check steps report."""
    p = step_parser("python -m grader.export.github_classroom grade")
    p.add_argument("--exercise", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--root", default=".")
    args = p.parse_args(argv)
    from ..reports.fragment import Ungraded
    from ..reports.github_classroom import error_classroom, render_classroom
    from ..reports.gradescope import dumps
    from ..reports.terminal import render_terminal
    from .common import grade_folder, internal_error

    try:
        item = grade_folder(Path(args.root), [args.exercise], args.seed)[0]
        if isinstance(item, Ungraded):
            obj = error_classroom(item.reason, args.lang, item.checks)
            sys.stdout.write(item.reason(args.lang) + "\n")
        else:
            obj = render_classroom(item, args.lang)
            sys.stdout.write(render_terminal(item, args.lang, color=False))
    except BaseException as exc:
        obj = error_classroom(internal_error(exc), args.lang)
    write_text(Path(args.out), dumps(obj))
    return 0


def check(argv: list[str]) -> int:
    """One check's step: exit 0 when it passed; else why, and exit 1."""
    if len(argv) != 2:
        say("usage: python -m grader.export.github_classroom check RESULT.json CHECK_ID")
        return 2
    path, check_id = argv
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        say(f"no grading result for this check ({path}: {exc})")
        return 1
    tests = obj.get("tests") or []
    test = next((t for t in tests if str(t.get("name", "")).split(":", 1)[0] == check_id), None)
    if test is None:
        say(obj.get("message") or f"{check_id}: not graded")
        return 1
    if test.get("status") == "pass":
        sys.stdout.write(f"✓ {test.get('name')}\n")
        return 0
    say(f"✗ {test.get('name')}\n{test.get('message') or ''}")
    return 1


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, {"grade": grade, "check": check}, "python -m grader.export.github_classroom grade|check ...")


if __name__ == "__main__":
    sys.exit(main())
