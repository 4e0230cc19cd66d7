"""PrairieLearn: a question folder per exercise (``grade export prairielearn``) and its grading
entrypoint.

As PrairieLearn's "External Grading" documentation lays it out: the question's ``info.json``
turns external grading on (``externalGradingOptions``: ``image``, ``entrypoint``,
``serverFilesCourse``, ``timeout``; networking stays off), ``question.html`` has a
``<pl-file-upload>`` for the exercise's file and shows ``<pl-external-grader-results>``, and the
question's ``tests/run.sh`` is the entrypoint (``/grade/tests/run.sh``). The grader itself is a
wheel in the course's ``serverFilesCourse/concurrency_grader/`` (``/grade/serverFilesCourse/...``
while grading), unpacked with Python's zipfile: no pip, no network. Its only dependency that grading
a ``.py`` needs, PyYAML, is in PrairieLearn's ``prairielearn/grader-python`` image.
The student's files are in ``/grade/student``; the result goes to ``/grade/results/results.json``.
"""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from ..model import Msg
from ..reports.text import html_text as esc
from .common import dispatch, out_folder, step_parser, write_text, writing
from .wheel import build_wheel, wheel_name

SERVER_FILES = "concurrency_grader"
_NAMESPACE = uuid.UUID("0b7c6d1e-2f0a-4c55-9a43-6e8e2d1c0f11")

RUN_SH = r"""#!/bin/bash
# PrairieLearn external grading entrypoint, written by `grade export prairielearn` (concurrency grader {version}).
# Grades /grade/student/{file} as exercise {exercise}; writes /grade/results/results.json.
GRADE="${{GRADER_PL_ROOT:-/grade}}"
RESULTS="$GRADE/results"
mkdir -p "$RESULTS"
LIB="$(mktemp -d)"
PY="${{GRADER_PYTHON:-python3}}"
if "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
     "$GRADE/serverFilesCourse/{server_files}/{wheel}" "$LIB"; then
  PYTHONPATH="$LIB${{PYTHONPATH:+:$PYTHONPATH}}" "$PY" -m grader.export.prairielearn run \
    --exercise {exercise} --lang {lang} --seed {seed} --student "$GRADE/student" --out "$RESULTS/results.json"
fi
if [ ! -s "$RESULTS/results.json" ]; then
  # The grader could not even start: still a result, never a crash (no attempt is taken).
  cat > "$RESULTS/results.json" <<'JSON'
{fallback}
JSON
fi
"""

_NOT_STARTED = Msg("採点器を起動できませんでした（採点用イメージに Python 3.10 以降と PyYAML が必要です）。担当教員に連絡してください。",
                   "the grader could not start (the grading image needs Python 3.10+ and PyYAML); please tell your instructor.")


def question_uuid(exercise: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"concurrency-grader/{exercise}"))


def info_json(exercise, lang: str, image: str) -> dict:
    return {
        "uuid": question_uuid(exercise.id),
        "title": exercise.title(lang),
        "topic": "Concurrency",
        "tags": ["concurrency-grader", exercise.id],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "serverFilesCourse": [f"{SERVER_FILES}/"],
            "entrypoint": "/grade/tests/run.sh",
            "timeout": 120,
        },
    }


def question_html(exercise, lang: str) -> str:
    ask = (f"<code>{esc(exercise.file)}</code> をアップロードしてください。スレッドの並行実行を何通りものスケジュールで"
           "調べて採点し、失敗したときはそのインターリーブを図で示します。" if lang == "ja" else
           f"Upload <code>{esc(exercise.file)}</code>. It is graded by running its threads under many schedules; "
           "a failure is explained with the interleaving that caused it, drawn.")
    return (f"<pl-question-panel>\n  <p><strong>{esc(exercise.title(lang))}</strong> [{esc(exercise.id)}]</p>\n"
            f"  <p>{ask}</p>\n</pl-question-panel>\n\n"
            f'<pl-file-upload file-names="{esc(exercise.file)}"></pl-file-upload>\n\n'
            "<pl-submission-panel>\n  <pl-external-grader-results></pl-external-grader-results>\n"
            "  <pl-file-preview></pl-file-preview>\n</pl-submission-panel>\n")


def export(out: Path, exercises: list[str], lang: str, seed: int = 1,
           image: str = "prairielearn/grader-python") -> str:
    """Write ``questions/<exercise>/`` for each exercise and ``serverFilesCourse/concurrency_grader/``:
    ``out`` is (or mirrors) the course's root folder."""
    from .. import __version__
    from ..exercises import catalog
    from ..reports.prairielearn import ungradable_prairielearn

    out_folder(out)
    with writing(out):
        build_wheel(out / "serverFilesCourse" / SERVER_FILES)
    fallback = json.dumps(ungradable_prairielearn(_NOT_STARTED, lang), ensure_ascii=False)
    for eid in exercises:
        ex = catalog.get(eid)
        q = out / "questions" / ex.id
        write_text(q / "info.json", json.dumps(info_json(ex, lang, image), ensure_ascii=False, indent=2) + "\n")
        write_text(q / "question.html", question_html(ex, lang))
        run_sh = q / "tests" / "run.sh"
        write_text(run_sh, RUN_SH.format(version=__version__, file=ex.file, exercise=ex.id, lang=lang,
                                         seed=int(seed), server_files=SERVER_FILES, wheel=wheel_name(),
                                         fallback=fallback))
        run_sh.chmod(0o755)
    return (f"wrote {out}/questions/{{{','.join(exercises)}}}/ and {out}/serverFilesCourse/{SERVER_FILES}/"
            f"{wheel_name()} (copy both into the course repository)\n")


# ----------------------------------------------------------------------- inside the container

def run(argv: list[str]) -> int:
    """Grade the student's file; write results.json. Always a result: ``gradable: false`` with
    the reason for a file that cannot be graded."""
    p = step_parser("python -m grader.export.prairielearn run")
    p.add_argument("--exercise", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    from ..reports.fragment import Ungraded
    from ..reports.gradescope import dumps
    from ..reports.prairielearn import render_prairielearn, ungradable_prairielearn
    from .common import grade_folder, internal_error

    try:
        item = grade_folder(Path(args.student), [args.exercise], args.seed)[0]
        obj = (ungradable_prairielearn(item.reason, args.lang) if isinstance(item, Ungraded)
               else render_prairielearn(item, args.lang))
    except BaseException as exc:
        obj = ungradable_prairielearn(internal_error(exc), args.lang)
    write_text(Path(args.out), dumps(obj))
    return 0


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, {"run": run}, "python -m grader.export.prairielearn run --exercise ID --student DIR --out FILE")


if __name__ == "__main__":
    sys.exit(main())
