"""The ``grade export`` subcommand: its parser and the dispatch to each platform's module."""
from __future__ import annotations

import sys
from pathlib import Path

from ..model import GraderInputError, Msg

PLATFORMS = ("gradescope", "github-classroom", "prairielearn", "coderunner")

_HELP = {
    "ja": {
        "description": "採点器をコースがすでに使っている採点の場（Gradescope、GitHub Classroom、PrairieLearn、"
                       "Moodle CodeRunner）に持ち込むファイルを書き出します（詳しくは docs/platforms.md）。",
        "platform": "書き出す先: " + ", ".join(PLATFORMS),
        "out": "書き出す先のファイル（gradescope: .zip、coderunner: .xml）またはフォルダ",
        "exercise": "課題ID（繰り返し指定可。既定: すべての課題）",
        "visibility": "Gradescope: テスト結果を学生に見せる時期（既定 visible）",
        "format": "Gradescope: レポートの形式（既定 md）",
        "lang": "レポートの言語（既定: コースの言語）",
        "seed": "基準のシード（既定 1）",
        "image": "PrairieLearn: 採点に使う Docker イメージ（既定 prairielearn/grader-python）",
        "course": "コースのフォルダ（既定: $GRADER_COURSE、なければ同梱のコース）",
        "help": "この説明を表示して終了",
    },
    "en": {
        "description": "Write what a course uploads to the platform where it already grades (Gradescope, "
                       "GitHub Classroom, PrairieLearn, Moodle CodeRunner); see docs/platforms.md.",
        "platform": "where to: " + ", ".join(PLATFORMS),
        "out": "the file (gradescope: .zip, coderunner: .xml) or folder to write",
        "exercise": "exercise id (repeatable; default: every exercise)",
        "visibility": "Gradescope: when students see the test results (default visible)",
        "format": "Gradescope: the report's format (default md)",
        "lang": "report language (default: the course's)",
        "seed": "base seed (default 1)",
        "image": "PrairieLearn: the Docker image that grades (default prairielearn/grader-python)",
        "course": "the course folder (default: $GRADER_COURSE, else the packaged course)",
        "help": "show this help and exit",
    },
}


def build_export_parser(lang: str):
    from ..cli.main import _Parser
    from ..reports.gradescope import FORMATS, VISIBILITIES

    h = _HELP["ja" if lang == "ja" else "en"]
    p = _Parser(prog="grade export", description=h["description"], add_help=False)
    p.add_argument("-h", "--help", action="help", help=h["help"])
    p.add_argument("platform", choices=PLATFORMS, help=h["platform"])
    p.add_argument("--out", required=True, metavar="PATH", help=h["out"])
    p.add_argument("--exercise", "-e", action="append", metavar="ID", help=h["exercise"])
    p.add_argument("--visibility", choices=VISIBILITIES, default="visible", help=h["visibility"])
    p.add_argument("--format", choices=FORMATS, default="md", help=h["format"])
    p.add_argument("--lang", choices=("ja", "en"), help=h["lang"])
    p.add_argument("--seed", type=int, default=1, help=h["seed"])
    p.add_argument("--image", default="prairielearn/grader-python", help=h["image"])
    p.add_argument("--course", metavar="DIR", help=h["course"])
    return p


def _file_of(out: Path, suffix: str, what: str) -> None:
    if out.suffix.casefold() != suffix:
        raise GraderInputError(Msg(f"--out は {suffix} のファイルにしてください（{out}）", f"--out must be {what} file ({out})"))


def run_export(argv: list[str], lang: str) -> int:
    """``grade export ...``: write the platform's files; a one-line summary on stderr."""
    from ..exercises import catalog
    from ..reports.terminal import pick_lang

    args = build_export_parser(lang).parse_args(argv)
    report_lang = pick_lang(args.lang)
    exercises = args.exercise or sorted(catalog.exercises())
    if not exercises:
        raise GraderInputError(Msg("コースに課題がありません", "the course has no exercise"))
    for ex in exercises:
        catalog.get(ex)  # an unknown id: one line naming the known ones
    out = Path(args.out)
    if args.platform == "gradescope":
        _file_of(out, ".zip", "a .zip")
        from .gradescope import export
        done = export(out, exercises, args.visibility, args.format, report_lang, args.seed)
    elif args.platform == "github-classroom":
        from .github_classroom import export
        done = export(out, exercises, report_lang, args.seed)
    elif args.platform == "prairielearn":
        from .prairielearn import export
        done = export(out, exercises, report_lang, args.seed, args.image)
    else:
        _file_of(out, ".xml", "an .xml")
        from .coderunner import export
        done = export(out, exercises, report_lang, args.seed)
    sys.stderr.write(done)
    return 0
