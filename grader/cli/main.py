"""The ``grade`` command: grade one submission, or list the exercises.

Exit status: 0 every check passed, 1 some check failed, 2 the grader could not grade (bad usage,
unknown exercise, unreadable file) with a one-line reason on stderr and never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from ..model import GraderInputError, Msg

EXIT_PASS, EXIT_FAIL, EXIT_CANNOT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No abbreviations: `--course DIR` must never be read as `--course-key DIR`.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, not argparse's usage block
        raise GraderInputError(Msg(f"使い方の誤り: {message}（grade --help を参照）",
                                   f"usage error: {message} (see grade --help)"))


_EPILOG = {
    "ja": """サブコマンド:
  grade serve      採点サービスを起動する（学生は grade --server URL で使う）
  grade batch      クラス全員の提出をまとめて採点する（フォルダまたは Moodle の zip）
  grade merge      grade batch --shard で分けた結果を1つにまとめる
  grade check-course [DIR]  コースのフォルダ（course.yaml と各 assignment.yaml、checks.py）を検査する
  grade export     Gradescope・GitHub Classroom・PrairieLearn・Moodle CodeRunner 用のファイルを書き出す
  （それぞれ grade serve --help のように詳しい使い方を表示できます）

終了ステータス:
  0  すべてのチェックに合格
  1  不合格のチェックがある（採点はできた。例のファイルでは 1 が正常です）
  2  採点できなかった（使い方の誤り、ファイルが読めない、不明な課題など。理由を1行で表示）

例:
  grade counter_lck.py                 ファイル名から課題を判定して採点
  grade mine.py --exercise counter_lck  課題を指定して採点
  grade counter_lck.py --seed 7 --lang en""",
    "en": """subcommands:
  grade serve      run the grading service (students use grade --server URL)
  grade batch      grade a whole class at once (a folder or a Moodle zip)
  grade merge      merge the outputs of grade batch --shard into one
  grade check-course [DIR]  validate a course folder (course.yaml, each assignment.yaml, checks.py)
  grade export     write what Gradescope, GitHub Classroom, PrairieLearn or Moodle CodeRunner grades with
  (each has its own help: grade serve --help)

exit status:
  0  every check passed
  1  some check failed (grading worked: the example file exits 1 on purpose)
  2  could not grade (bad usage, unreadable file, unknown exercise...; one line says why)

examples:
  grade counter_lck.py                  the exercise is told by the file name
  grade mine.py --exercise counter_lck  name the exercise
  grade counter_lck.py --seed 7 --lang en""",
}


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command line of ``grade FILE``, its help in ``lang`` (the course's language by default)."""
    from .. import __version__

    ja = lang == "ja"

    def t(j: str, e: str) -> str:
        return j if ja else e

    p = _Parser(prog="grade", formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False,
                epilog=_EPILOG["ja" if ja else "en"], description=t(
                    "並行処理の課題を決定的に採点します: 競合は毎回必ず見つかり、日本語または英語で説明されます。",
                    "Grade a Python concurrency exercise deterministically: every race found, every time, "
                    "explained in Japanese or English."))
    p.add_argument("-h", "--help", action="help", help=t("この説明を表示して終了", "show this help and exit"))
    p.add_argument("--version", action="version", version=f"grade {__version__}",
                   help=t("バージョンを表示して終了", "show the version and exit"))
    p.add_argument("file", nargs="?", help=t("採点する提出ファイル（.py または .ipynb）", "the submission (.py or .ipynb)"))
    p.add_argument("--exercise", "-e", metavar="ID",
                   help=t("課題ID（省略時: ファイル名から判定）", "exercise id (default: inferred from the file name)"))
    p.add_argument("--seed", type=int, default=1, help=t(
        "基準のシード: 同じシードなら同じレポート（既定 1）", "base seed: the same seed gives the same report (default 1)"))
    p.add_argument("--lang", choices=("ja", "en"), help=t(
        "レポートの言語（既定: コースの言語、この授業では日本語）",
        "report language (default: the course's language, Japanese for this course)"))
    p.add_argument("--junit", metavar="PATH", help=t("JUnit XML レポートを書き出す", "write a JUnit XML report"))
    p.add_argument("--junit-flavor", choices=("jenkins", "codegrade"), default="jenkins",
                   help=t("codegrade: properties とスイート出力なし", "codegrade: no properties, no suite output"))
    p.add_argument("--json", metavar="PATH", help=t(
        "結果の JSON を書き出す（Gradescope の results.json 形式）", "write results JSON (Gradescope results.json shape)"))
    p.add_argument("--github-classroom", metavar="PATH", help=t(
        "GitHub Classroom の採点ランナーの結果 JSON を書き出す（grade export github-classroom のワークフローが読む）",
        "write GitHub Classroom's runner result JSON (read by the grade export github-classroom workflow)"))
    p.add_argument("--prairielearn", metavar="PATH", help=t(
        "PrairieLearn の外部採点の results.json を書き出す（採点できないファイルは gradable: false）",
        "write PrairieLearn's external grader results.json (a file that cannot be graded: gradable: false)"))
    p.add_argument("--html", metavar="PATH", help=t(
        "1ファイルの HTML レポートを書き出す（失敗したインターリーブを図示）",
        "write a self-contained HTML report (the failing interleaving drawn)"))
    p.add_argument("--events", metavar="PATH", help=t(
        "各実行が記録したイベントを JSON で書き出す（課題を作る教員・TA 向け。形式は docs/events.md）",
        "write what each run recorded, as JSON (for instructors and TAs writing checks; see docs/events.md)"))
    p.add_argument("--jobs", "-j", type=int, default=None, help=t(
        "並列に実行する数（既定: CPU の数）", "runs in parallel (default: one per CPU)"))
    p.add_argument("--list", action="store_true", help=t(
        "課題とチェックの一覧（コースの誤りがあれば先に表示）", "list the exercises and their checks (the course's errors first, if any)"))
    p.add_argument("--doctor", action="store_true", help=t(
        "このマシンで有効な保護を表示", "show which protections are active on this machine"))
    p.add_argument("--no-color", action="store_true", help=t("端末レポートに色を付けない", "no colours in the terminal report"))
    p.add_argument("--debug", action="store_true", help=t(
        "判定できなかったチェックのトレースバックを表示（教員向け: checks.py の誤り）",
        "show the traceback of a check that could not be judged (for instructors: an error in checks.py)"))
    p.add_argument("--server", metavar="URL", help=t(
        "このマシンではなく採点サービス（grade serve）で採点する。既定: $GRADER_SERVER",
        "grade on a grading service (grade serve) instead of this machine; default: $GRADER_SERVER"))
    p.add_argument("--course-key", metavar="KEY", help=t(
        "採点サービスが求めるコースキー（既定: $GRADER_COURSE_KEY）",
        "the course key a grading service asks for (default: $GRADER_COURSE_KEY)"))
    p.add_argument("--course", metavar="DIR", help=t(
        "コースのフォルダ（assignments/ と data/ を含む。既定: $GRADER_COURSE、なければ同梱のコース）",
        "the course folder (holding assignments/ and data/; default: $GRADER_COURSE, else the packaged course)"))
    return p


def local_grading_possible() -> bool:
    """Grading here needs Linux: the engine forks one process per schedule and the sandbox is the
    Linux kernel's. Elsewhere (Windows, macOS) a grading service does it (``--server``)."""
    return sys.platform.startswith("linux")


def _system() -> str:
    return {"win32": "Windows", "darwin": "macOS"}.get(sys.platform, sys.platform)


def _needs_server(what: str) -> GraderInputError:
    system = _system()
    return GraderInputError(Msg(
        f"このコンピューター（{system}）では採点できません（採点は Linux でだけ動きます）。"
        f"TA の採点サーバーを使ってください: grade {what} --server URL（または環境変数 GRADER_SERVER=URL）",
        f"grading cannot run on this computer ({system}: it needs Linux). Use your TA's grading server: "
        f"grade {what} --server URL (or set GRADER_SERVER=URL)"))


def _linux_only(command: str) -> GraderInputError:
    system = _system()
    return GraderInputError(Msg(f"{command} は Linux でだけ動きます（このコンピューターは {system}）",
                                f"{command} runs only on Linux (this computer runs {system})"))


def _serve(argv: list[str]) -> int:
    p = _Parser(prog="grade serve", description=(
        "The self-check service: an upload page and an HTTP API that grade exactly as grade FILE does."))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: one per CPU)")
    p.add_argument("--queue", type=int, default=None,
                   help="submissions that may wait for a worker; more are answered 503 (default: 32 per worker)")
    p.add_argument("--course-key", metavar="KEY", default=os.environ.get("GRADER_COURSE_KEY") or None,
                   help="refuse uploads without this key (default: $GRADER_COURSE_KEY; none: anyone may upload)")
    p.add_argument("--db", metavar="PATH", default="grade-serve.sqlite3",
                   help="the results database (SQLite; default grade-serve.sqlite3 here)")
    p.add_argument("--rate", type=int, default=30, help="uploads per minute per client (default 30; 0: no limit)")
    p.add_argument("--max-results", type=int, default=20000, help="results kept at most (default 20000)")
    p.add_argument("--max-db-mb", type=int, default=512, help="MiB of results kept at most (default 512)")
    p.add_argument("--forwarded-allow-ips", metavar="IPS", default=None,
                   help="proxies (comma-separated addresses) whose X-Forwarded-For names the client; "
                        "default: none, the client is the connection's peer")
    p.add_argument("--uploads-at-once", type=int, default=None, metavar="N",
                   help="uploads read at once, which bounds their memory (default: 4 per worker, at least 8)")
    p.add_argument("--course", metavar="DIR", help="the course folder (default: $GRADER_COURSE, else the packaged course)")
    p.add_argument("--lti-config", metavar="FILE", default=None,
                   help="LTI 1.3: the tool configuration (pylti1p3's JSON format); see docs/lti.md")
    p.add_argument("--lti-make-keys", metavar="DIR", default=None,
                   help="make the tool's LTI key pair (private.key, public.key) in DIR and exit")
    args = p.parse_args(argv)
    if args.lti_make_keys:
        from ..serve.lti.config import make_keys
        for made in make_keys(args.lti_make_keys):
            print(made)
        return 0
    if not local_grading_possible():
        raise _linux_only("grade serve")
    from ..runner.launcher import cpu_count
    args.workers = cpu_count() if args.workers is None else args.workers
    if args.workers < 1 or (args.queue is not None and args.queue < 0) or args.rate < 0 or not 0 <= args.port <= 65535:
        raise GraderInputError(Msg("使い方の誤り: --workers は 1 以上、--queue と --rate は 0 以上、--port は 0〜65535 です",
                                   "usage error: --workers must be at least 1, --queue and --rate at least 0, "
                                   "--port 0 to 65535"))
    try:
        from ..serve.app import ServeConfig, serve
    except ImportError as exc:
        raise GraderInputError(Msg(
            f"grade serve には追加のパッケージが必要です（{exc.name}）: pip install 'concurrency-grader[serve]'",
            f"grade serve needs its extra packages ({exc.name} is missing): pip install 'concurrency-grader[serve]'"
        )) from None
    return serve(ServeConfig(host=args.host, port=args.port, workers=args.workers, queue=args.queue,
                             course_key=args.course_key, db=args.db, rate=args.rate,
                             max_results=args.max_results, max_db_bytes=args.max_db_mb << 20,
                             forwarded_allow_ips=args.forwarded_allow_ips,
                             uploads_at_once=max(1, args.uploads_at_once) if args.uploads_at_once else None,
                             lti_config=args.lti_config))


def _batch(argv: list[str]) -> int:
    if not local_grading_possible():
        raise _linux_only("grade batch")
    from ..batch.run import grade_batch, parse_shard
    from ..reports.terminal import pick_lang
    from ..runner.launcher import cpu_count

    p = _Parser(prog="grade batch", description="Grade every submission of a class (a folder, or a Moodle/Canvas export, zipped or not).")
    p.add_argument("source", help="folder or .zip of the submissions")
    p.add_argument("--out", required=True, help="folder for junit.xml, grades.csv, feedback/, summary...")
    p.add_argument("--jobs", "-j", type=int, default=cpu_count(), help="submissions graded at once (default: one per CPU)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lang", choices=("ja", "en"), help="feedback language (default: the course's language)")
    p.add_argument("--exercise", "-e", action="append", metavar="ID", help="grade only this exercise (repeatable)")
    p.add_argument("--force", action="store_true", help="regrade everything, ignoring the cache")
    p.add_argument("--shard", metavar="K/N", help="grade only the K-th of N deterministic parts of the class")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address for --executor dask")
    p.add_argument("--max-extract-mb", type=int, default=None, metavar="MB",
                   help="what all zips together may hold, uncompressed (default 4096)")
    p.add_argument("--student-extract-mb", type=int, default=None, metavar="MB",
                   help="what one student's own zips may hold, uncompressed (default 100)")
    p.add_argument("--course", metavar="DIR", help="the course folder (default: $GRADER_COURSE, else the packaged course)")
    args = p.parse_args(argv)
    lang = pick_lang(args.lang)
    if args.exercise:
        for ex in args.exercise:
            from ..exercises import catalog
            catalog.get(ex)
    source = Path(args.source)
    if not source.exists():
        raise GraderInputError(Msg(f"{args.source} がありません", f"{args.source} does not exist"))
    outcome = grade_batch(source, Path(args.out), seed=args.seed, jobs=args.jobs, lang=lang, force=args.force,
                          shard=parse_shard(args.shard), executor=args.executor, scheduler=args.scheduler,
                          only=args.exercise, budget=_extract_budget(args.max_extract_mb, args.student_extract_mb))
    sys.stdout.write(outcome.summary)
    done = f"{outcome.fresh} graded, {outcome.cached} from cache, {outcome.seconds:.1f} s; results in {args.out}"
    sys.stderr.write(("interrupted: " if outcome.interrupted else "") + done + "\n")
    return 130 if outcome.interrupted else EXIT_PASS


def _extract_budget(total_mb: int | None, student_mb: int | None):
    """The TA's limits on what zips may hold, or None for the defaults."""
    if total_mb is None and student_mb is None:
        return None
    from ..batch import archive

    if any(v is not None and v <= 0 for v in (total_mb, student_mb)):
        raise GraderInputError(Msg("展開の上限は 1 MB 以上にしてください", "an extraction limit must be at least 1 MB"))
    return archive.Budget(bytes_left=(total_mb or archive.MAX_BYTES >> 20) << 20,
                          student_bytes=(student_mb or archive.STUDENT_BYTES >> 20) << 20)


def _merge(argv: list[str]) -> int:
    from ..batch.run import merge
    from ..reports.terminal import pick_lang

    p = _Parser(prog="grade merge", description="Join the outputs of grade batch --shard runs into one.")
    p.add_argument("parts", nargs="+", help="output folders of the shards")
    p.add_argument("--out", required=True)
    p.add_argument("--lang", choices=("ja", "en"), help="feedback language (default: the course's language)")
    p.add_argument("--course", metavar="DIR", help="the course folder (default: $GRADER_COURSE, else the packaged course)")
    args = p.parse_args(argv)
    outcome = merge([Path(x) for x in args.parts], Path(args.out), pick_lang(args.lang))
    sys.stdout.write(outcome.summary)
    return EXIT_PASS


def _check_course(argv: list[str]) -> int:
    from ..exercises.catalog import course_root
    from ..exercises.course_check import check_course, has_errors, report
    from ..reports.terminal import pick_lang

    p = _Parser(prog="grade check-course", description=(
        "Validate a course folder: course.yaml and every assignment.yaml against their schemas, run groups, "
        "check functions in checks.py. One line per problem (file:line); exit 2 on an error."))
    p.add_argument("dir", nargs="?", help="the course folder (default: --course, $GRADER_COURSE, else the packaged course)")
    p.add_argument("--lang", choices=("ja", "en"), help="message language (default: the course's language)")
    p.add_argument("--course", metavar="DIR", help="the course folder, as for grade FILE")
    args = p.parse_args(argv)
    root = Path(args.dir) if args.dir else course_root()
    if not root.is_dir():
        raise GraderInputError(Msg(f"{root} がありません", f"{root} does not exist"))
    try:
        lang = pick_lang(args.lang)
    except Exception:  # the course.yaml being checked may be what cannot be read
        lang = args.lang or "ja"
    problems = check_course(root)
    (sys.stderr if has_errors(problems) else sys.stdout).write(report(problems, lang, root))
    return EXIT_CANNOT if has_errors(problems) else EXIT_PASS


def _list(lang: str) -> str:
    from ..exercises.catalog import exercises
    out = []
    for ex in exercises().values():
        out.append(f"{ex.id}  ({ex.file})  {ex.title(lang)}  [{ex.max_score:g}]")
        for c in ex.checks:
            out.append(f"    {c.id:<16} {c.points:>3g}  {c.title(lang)}")
    return "\n".join(out) + "\n"


def _write(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise GraderInputError(Msg(f"レポートを書き込めません: {path}: {exc.strerror}",
                                   f"cannot write the report {path}: {exc.strerror}")) from None


def _select_course(argv: list[str]) -> None:
    """``--course DIR`` (any subcommand), before anything reads the course: as ``GRADER_COURSE``."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--course=") else (
            argv[i + 1] if arg == "--course" and i + 1 < len(argv) else None)
        if value is None:
            continue
        if not (Path(value) / "assignments").is_dir():
            raise GraderInputError(Msg(f"{value} はコースのフォルダではありません（assignments/ がありません）",
                                       f"{value} is not a course folder (it has no assignments/)"))
        os.environ["GRADER_COURSE"] = str(Path(value).resolve())  # the engine's child and workers read it too
        return


def run(argv: list[str]) -> int:
    """The command's body; raises GraderInputError for what it cannot grade."""
    _select_course(argv)
    if argv[:1] == ["batch"]:
        return _batch(argv[1:])
    if argv[:1] == ["merge"]:
        return _merge(argv[1:])
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    if argv[:1] == ["check-course"]:
        return _check_course(argv[1:])
    if argv[:1] == ["export"]:
        from ..export.cli import run_export
        return run_export(argv[1:], _early_lang(argv))
    args = build_parser(_early_lang(argv)).parse_args(argv)
    server = args.server or os.environ.get("GRADER_SERVER") or None
    if args.file and server and not (args.list or args.doctor):
        if args.github_classroom or args.prairielearn:
            raise GraderInputError(Msg("--github-classroom と --prairielearn は採点サービスでは使えません（このマシンで採点するときだけ）",
                                       "--github-classroom and --prairielearn need local grading, not a grading service (--server)"))
        if args.events:
            raise GraderInputError(Msg("--events は採点サービスでは使えません（このマシンで採点するときだけ）",
                                       "--events needs local grading: a grading service (--server) does not send the runs' records"))
        # Standard library only from here on: this is the path a student's Windows laptop takes.
        from ..serve.client import grade_remote
        return grade_remote(server, args.file, exercise=args.exercise, seed=args.seed, lang=args.lang,
                            no_color=args.no_color, course_key=args.course_key, junit=args.junit,
                            junit_flavor=args.junit_flavor, json_path=args.json, html=args.html, write=_write)
    engine = None
    if args.file and not (args.list or args.doctor) and local_grading_possible():
        # The engine's child starts first: its start-up overlaps reading the course, the file and
        # the grader's own modules. It waits for its job; nothing runs if grading stops here.
        from ..runner.engine_process import EngineProcess
        engine = EngineProcess()
    try:
        from ..reports.terminal import pick_lang

        lang = pick_lang(args.lang)
        if args.list:
            from ..exercises.catalog import course_root
            from ..exercises.course_check import check_course, has_errors, report
            problems = check_course(course_root())
            if has_errors(problems):  # what would grade wrongly is said before anything is listed
                sys.stderr.write(report(problems, lang, course_root()))
                return EXIT_CANNOT
            sys.stdout.write(_list(lang))
            if problems:
                sys.stderr.write(report(problems, lang, course_root()))
            return EXIT_PASS
        if not local_grading_possible():
            raise _needs_server(os.path.basename(args.file or "") or "counter_lck.py")
        if args.doctor:
            from ..runner.sandbox import doctor
            sys.stdout.write(doctor(lang))
            return EXIT_PASS
        if not args.file:
            raise GraderInputError(Msg("採点するファイルを指定してください（例: grade counter_lck.py）",
                                       "give the file to grade (e.g. grade counter_lck.py)"))
        from ..exercises import catalog
        from ..grading import grade_submission
        from ..sources.infer import cannot_infer_message, infer_exercise
        from ..sources.submission import load_submission

        if args.exercise:
            exercise = catalog.get(args.exercise)
        submission = load_submission(args.file)  # an unreadable file is the first thing to say
        if not args.exercise:
            found = infer_exercise(args.file, catalog.exercises())
            if found is None:
                raise GraderInputError(cannot_infer_message(args.file, sorted(catalog.exercises())))
            exercise = catalog.get(found)
    except BaseException as exc:
        if engine is not None:
            engine.discard()
        if isinstance(exc, GraderInputError) and args.file:
            _write_platform_ungraded(args, exc.msg)
        raise
    observed: dict = {}
    result = grade_submission(submission, exercise, args.seed, jobs=args.jobs,
                              explicit_exercise=bool(args.exercise), engine=engine, observed=observed)
    from ..reports.terminal import render_terminal
    if args.junit:
        from ..reports.junit import render_junit
        _write(args.junit, render_junit([result], lang, args.junit_flavor))
    if args.json:
        from ..reports.gradescope import render_gradescope
        _write(args.json, _dumps_json(render_gradescope(result, lang)))
    if args.html:
        from ..reports.html import render_html
        _write(args.html, render_html(result, lang).encode("utf-8"))
    if args.github_classroom:
        from ..reports.github_classroom import render_classroom
        _write(args.github_classroom, _dumps_json(render_classroom(result, lang)))
    if args.prairielearn:
        from ..reports.prairielearn import render_prairielearn
        _write(args.prairielearn, _dumps_json(render_prairielearn(result, lang)))
    if args.events:
        from ..reports.events import not_run_reason, render_events
        _write(args.events, render_events(observed.get(args.seed), exercise=exercise.id, submission=result.submission,
                                          seed=args.seed, not_run=not_run_reason(result)))
    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render_terminal(result, lang, color))
    if args.debug or os.environ.get("GRADER_DEBUG"):
        for check in result.checks:
            if check.detail:
                sys.stderr.write(f"grade: check {check.id} could not be judged:\n{check.detail}\n")
    return EXIT_PASS if result.passed else EXIT_FAIL


def _dumps_json(obj) -> bytes:
    from ..reports.gradescope import dumps
    return dumps(obj).encode("utf-8")


def _write_platform_ungraded(args, reason: Msg) -> None:
    """A file that cannot be graded still gives the platforms their result (exit status 2 all the
    same): PrairieLearn's ``gradable: false``, GitHub Classroom's ``status: error``."""
    if not (args.github_classroom or args.prairielearn):
        return
    try:
        from ..reports.terminal import pick_lang
        lang = pick_lang(args.lang)
    except Exception:
        lang = "ja"
    checks: tuple = ()
    try:
        from ..exercises import catalog
        from ..sources.infer import infer_exercise
        found = args.exercise or infer_exercise(args.file, catalog.exercises())
        if found in catalog.exercises():
            from ..export.common import check_specs
            checks = check_specs(catalog.get(found))
    except Exception:
        pass
    if args.github_classroom:
        from ..reports.github_classroom import error_classroom
        _write(args.github_classroom, _dumps_json(error_classroom(reason, lang, checks)))
    if args.prairielearn:
        from ..reports.prairielearn import ungradable_prairielearn
        _write(args.prairielearn, _dumps_json(ungradable_prairielearn(reason, lang)))


def _lang_arg(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _early_lang(argv: list[str]) -> str:
    """The language of a message written before the arguments are parsed: ``--lang``, else the
    course's; Japanese (the default of a course that declares none) when neither can be read."""
    from ..reports.terminal import pick_lang

    try:
        return pick_lang(_lang_arg(argv))
    except ValueError:  # an unknown --lang: argparse will say so, in the course's language
        pass
    except Exception:  # a course.yaml that cannot be read: run() reports it
        return "ja"
    try:
        return pick_lang(None)
    except Exception:
        return "ja"


def main(argv: list[str] | None = None) -> int:
    """Console entry point (``grade``)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = run(argv)
    except GraderInputError as exc:
        sys.stderr.write(f"grade: {exc.msg(_early_lang(argv))}\n")
        code = EXIT_CANNOT
    except KeyboardInterrupt:
        sys.stderr.write("grade: interrupted\n")
        code = 130
    except Exception as exc:  # the grader's own fault: one line, the traceback only on request
        if os.environ.get("GRADER_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"grade: internal error: {type(exc).__name__}: {exc} (GRADER_DEBUG=1 shows details)\n")
        code = EXIT_CANNOT
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
