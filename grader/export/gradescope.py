"""Gradescope: the autograder zip (``grade export gradescope``) and what its ``run_autograder`` runs.

The zip holds, at its root as Gradescope's "Autograder Specifications" ask: ``setup.sh`` (installs
Python and this grader, from the wheel beside it, into a venv) and ``run_autograder`` (grades the
files in ``/autograder/submission`` and writes ``/autograder/results/results.json``). Each folder
can be moved by an environment variable, so that a test runs the same scripts in a temporary
folder shaped like ``/autograder``: ``GRADER_AUTOGRADER_ROOT`` (``/autograder``),
``GRADER_SUBMISSION_DIR`` (``$ROOT/submission``), ``GRADER_RESULTS_DIR`` (``$ROOT/results``),
``GRADER_VENV`` (``$ROOT/grader-venv``); ``GRADER_PIP_ARGS`` adds options to the ``pip install`` of
setup.sh (``--no-deps --no-index`` offline) and ``GRADER_SKIP_APT=1`` skips apt-get.
"""
from __future__ import annotations

import io
import json
import os
import shlex
import sys
import zipfile
from pathlib import Path

from ..model import Msg
from ..reports.fragment import Ungraded
from ..reports.gradescope import FORMATS, VISIBILITIES, dumps, render_gradescope_autograder
from .common import dispatch, step_parser, write_bytes
from .wheel import wheel_bytes, wheel_name

_EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope autograder setup, written by `grade export gradescope` (concurrency grader {version}).
# Installs Python 3.10+ and the grader (the wheel beside this script) into a venv of its own.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
ROOT="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
VENV="${{GRADER_VENV:-$ROOT/grader-venv}}"
if [ -z "${{GRADER_SKIP_APT:-}}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
PY="${{GRADER_PYTHON:-python3}}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: the concurrency grader needs Python 3.10 or later; $("$PY" -V 2>&1) found." >&2
  echo "setup.sh: choose an Ubuntu 22.04 (or later) base image in the autograder settings." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC2086  # GRADER_PIP_ARGS is a list of options
"$VENV/bin/python" -m pip install --disable-pip-version-check -q ${{GRADER_PIP_ARGS:-}} "$HERE/{wheel}"
"$VENV/bin/python" -m grader.export.gradescope --self-test
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope run_autograder, written by `grade export gradescope` (concurrency grader {version}).
# Grades the files in /autograder/submission and writes /autograder/results/results.json.
ROOT="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
VENV="${{GRADER_VENV:-$ROOT/grader-venv}}"
RESULTS="${{GRADER_RESULTS_DIR:-$ROOT/results}}"
mkdir -p "$RESULTS"
"$VENV/bin/python" -m grader.export.gradescope run {args}
if [ ! -s "$RESULTS/results.json" ]; then
  # The grader could not even start (setup.sh failed?): still a result, never a crash.
  cat > "$RESULTS/results.json" <<'JSON'
{fallback}
JSON
fi
exit 0
"""

_NOT_STARTED = Msg("採点器を起動できませんでした（setup.sh の失敗）。担当教員に連絡してください。",
                   "the grader could not start (setup.sh failed?); please tell your instructor.")


def _empty_results(output: str, visibility: str) -> dict:
    """A results.json of no test: the grader could not grade at all (it says why)."""
    return {"score": 0, "output": output, "output_format": "text", "visibility": visibility,
            "stdout_visibility": "hidden", "tests": []}


def _fallback(lang: str, visibility: str) -> str:
    return json.dumps(_empty_results(_NOT_STARTED(lang), visibility), ensure_ascii=False)


def build_zip(exercises: list[str], visibility: str, fmt: str, lang: str, seed: int = 1) -> bytes:
    """The autograder zip's bytes: setup.sh and run_autograder at its root, beside the wheel."""
    from .. import __version__

    args = " ".join(["--exercise " + shlex.quote(e) for e in exercises]
                    + [f"--visibility {visibility}", f"--format {fmt}", f"--lang {lang}", f"--seed {int(seed)}"])
    files = [
        ("setup.sh", SETUP_SH.format(version=__version__, wheel=wheel_name()).encode("utf-8"), 0o755),
        ("run_autograder", RUN_AUTOGRADER.format(version=__version__, args=args,
                                                 fallback=_fallback(lang, visibility)).encode("utf-8"), 0o755),
        (wheel_name(), wheel_bytes(), 0o644),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in files:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def export(out: Path, exercises: list[str], visibility: str, fmt: str, lang: str, seed: int = 1) -> str:
    write_bytes(out, build_zip(exercises, visibility, fmt, lang, seed))
    return (f"wrote {out}: setup.sh, run_autograder and {wheel_name()} for {', '.join(exercises)} "
            f"(upload it as the assignment's autograder; base image Ubuntu 22.04 or later)\n")


# ----------------------------------------------------------------------- inside the autograder

def _roots() -> tuple[Path, Path]:
    root = Path(os.environ.get("GRADER_AUTOGRADER_ROOT") or "/autograder")
    submission = Path(os.environ.get("GRADER_SUBMISSION_DIR") or root / "submission")
    results = Path(os.environ.get("GRADER_RESULTS_DIR") or root / "results")
    return submission, results


def _write_results(results: Path, obj: dict) -> None:
    results.mkdir(parents=True, exist_ok=True)
    tmp = results / ".results.json.tmp"
    tmp.write_text(dumps(obj), encoding="utf-8")
    os.replace(tmp, results / "results.json")


def run(argv: list[str]) -> int:
    """``run_autograder``'s body: grade, write results.json; whatever happens, a results.json."""
    p = step_parser("run_autograder")
    p.add_argument("--exercise", action="append", required=True)
    p.add_argument("--visibility", choices=VISIBILITIES, default="visible")
    p.add_argument("--format", choices=FORMATS, default="md")
    args = p.parse_args(argv)
    submission, results = _roots()
    try:
        from ..reports.terminal import render_terminal
        from .common import grade_folder

        items = grade_folder(submission, args.exercise, args.seed)
        obj = render_gradescope_autograder(items, args.lang, args.format, args.visibility)
        for item in items:  # the log, for the instructor (stdout_visibility: hidden)
            if isinstance(item, Ungraded):
                sys.stdout.write(f"{item.exercise}: {item.reason(args.lang)}\n")
            else:
                sys.stdout.write(render_terminal(item, args.lang, color=False))
    except BaseException as exc:  # never a crash: a results.json saying so
        from .common import internal_error
        obj = _empty_results(internal_error(exc)(args.lang), args.visibility)
        sys.stderr.write(f"run_autograder: {type(exc).__name__}: {exc}\n")
    _write_results(results, obj)
    return 0


def self_test(argv: list[str]) -> int:
    """setup.sh's last step: the installed grader starts and finds its course."""
    from ..exercises.catalog import exercises
    sys.stdout.write(f"concurrency grader ready: {', '.join(exercises())}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, {"run": run, "--self-test": self_test},
                    "python -m grader.export.gradescope run --exercise ID ... | --self-test")


if __name__ == "__main__":
    sys.exit(main())
