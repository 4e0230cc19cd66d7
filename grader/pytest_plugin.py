"""pytest plugin: ``pytest --submission FILE`` runs an exercise's checks as tests.

    pytest --submission counter_lck.py [--exercise ID] [--grade-seed N]

Each check of the exercise becomes one test item, ``<exercise file>::<check id>`` (``counter_lck.py::tally``),
in the order of ``assignment.yaml``. The submission runs once per session, in a child process, like
``grade`` runs it; each item then judges its check on that observation. A failed check is a test failure
whose text is the explanation in English, then in Japanese; a fault of the grader itself is a test error.

The plugin is registered as a ``pytest11`` entry point, so it is loaded by every pytest run in the
environment: without ``--submission`` it does nothing, and it imports nothing of the grader's until then.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

_PLUGIN_NAME = "concurrency_grader_session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency grader", "grade a submission's concurrency exercise")
    group.addoption("--submission", metavar="FILE", default=None,
                    help="grade FILE (.py or .ipynb): one test per check of its exercise")
    group.addoption("--exercise", metavar="ID", default=None,
                    help="exercise id for --submission (default: inferred from the file name)")
    group.addoption("--grade-seed", metavar="N", type=int, default=1,
                    help="base seed for --submission: the same seed gives the same verdicts (default 1)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("submission", None)
    if path is None:
        return
    from .model import GraderInputError

    try:
        grading = _GradingSession.open(str(path), config.getoption("exercise"), config.getoption("grade_seed"))
    except GraderInputError as exc:
        raise pytest.UsageError(f"concurrency grader: {exc.msg.en}") from None
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # `pytest --submission f.py` runs the checks alone, not the tests under testpaths / the cwd.
        config.args = []
    config.pluginmanager.register(grading, _PLUGIN_NAME)


class _GradingSession:
    """The submission of this pytest session: registered as a plugin only when ``--submission`` is given."""

    def __init__(self, submission, exercise, seed: int, explicit_exercise: bool):
        self.submission = submission
        self.exercise = exercise
        self.seed = seed
        self.explicit_exercise = explicit_exercise
        self._observed = None
        self.verdicts: dict = {}
        """Each check's ``CheckResult``, as its item judged it (for the JUnit report's properties)."""

    @classmethod
    def open(cls, path: str, exercise_id: str | None, seed: int) -> "_GradingSession":
        """Read the submission and find its exercise; raises ``GraderInputError`` for bad input."""
        from .exercises import catalog
        from .model import GraderInputError, Msg
        from .sources.infer import cannot_infer_message, infer_exercise
        from .sources.submission import load_submission

        if not os.path.exists(path):
            load_submission(path)  # raises its one-line "does not exist" before any talk of exercises
        if exercise_id:
            exercise = catalog.get(exercise_id)
        else:
            found = infer_exercise(path, catalog.exercises())
            if found is None:
                raise GraderInputError(cannot_infer_message(path, sorted(catalog.exercises())))
            exercise = catalog.get(found)
        if not (exercise.folder / "checks.py").is_file():
            raise GraderInputError(Msg(f"課題 {exercise.id} に checks.py がありません",
                                       f"exercise {exercise.id} has no checks.py"))
        submission = load_submission(path, exercise.file if not path.endswith(".py") else None)
        return cls(submission, exercise, seed, bool(exercise_id))

    def observed(self):
        """``(observation, unrunnable failure, engine error)``: the submission runs on the first call only."""
        if self._observed is None:
            from .grading import observe

            try:
                found, engine_error, unrunnable = observe(self.submission, self.exercise, [self.seed],
                                                          explicit_exercise=self.explicit_exercise)
                obs = found.get(self.seed)
            except Exception as exc:  # the grader's own fault: every item reports it, none reruns it
                obs, engine_error, unrunnable = None, f"{type(exc).__name__}: {exc}", None
            self._observed = (obs, unrunnable, engine_error)
        return self._observed

    def verdict(self, spec):
        """The ``CheckResult`` of one check (judged through ``judge_one``)."""
        from .model import CheckResult, Failure, Msg
        from .verdicts.judge import NOT_JUDGED, judge_one

        obs, unrunnable, engine_error = self.observed()
        if engine_error is not None:
            from .grading import ENGINE_FAILED
            return CheckResult(id=spec.id, title=spec.title, points=0.0, max_points=spec.points, passed=False,
                               failure=Failure(summary=ENGINE_FAILED, observed=Msg.same(engine_error)),
                               error=True)
        if unrunnable is not None:
            failure = unrunnable if spec.id == "runs" else Failure(summary=NOT_JUDGED)
            return CheckResult(id=spec.id, title=spec.title, points=0.0, max_points=spec.points,
                               passed=False, failure=failure)
        fn = getattr(self.exercise.checks_module(), f"check_{spec.id}", None)
        return judge_one(spec, fn, obs)

    def properties(self) -> list[tuple[str, str]]:
        """What ``grade --junit`` says of the grading as ``<testsuite>`` properties, for the checks
        judged in this session."""
        from .exercises.fingerprint import SHORT, exercise_fingerprint
        from .reports.junit import fmt_number

        results = [self.verdicts[spec.id] for spec in self.exercise.checks if spec.id in self.verdicts]
        props = [("score", fmt_number(sum(r.points for r in results))),
                 ("max_score", fmt_number(sum(r.max_points for r in results))),
                 ("seed", str(self.seed)), ("exercise", self.exercise.id), ("submission", self.submission.path)]
        props += [(f"check.{r.id}.score", fmt_number(r.points)) for r in results]
        props += [(f"note.{i}", note.msg.en) for i, note in enumerate(self.submission.notes, 1)]
        props.append(("exercise_version", str(self.exercise.version)))
        props.append(("exercise_fingerprint", exercise_fingerprint(self.exercise)[:SHORT]))
        return props

    # -- hooks (active only while registered) ------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector):
        outcome = yield
        if not isinstance(collector, pytest.Session):
            return
        report = outcome.get_result()
        if report.passed:
            name = self.exercise.file
            report.result.insert(0, SubmissionChecks.from_parent(collector, name=name, nodeid=name, grading=self))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        # Suite-level properties (junit-10.xsd has none inside a testcase), before --junitxml writes.
        from _pytest.junitxml import xml_key

        xml = session.config.stash.get(xml_key, None)
        if xml is not None:
            for name, value in self.properties():
                xml.add_global_property(name, value)

    def pytest_report_header(self, config):
        sub = self.submission
        return [f"concurrency grader: {sub.path} as {self.exercise.id} "
                f"({self.exercise.title.en}), seed {self.seed}"]

    def pytest_terminal_summary(self, terminalreporter):
        notes = list(self.submission.notes)
        if not notes:
            return
        terminalreporter.section("concurrency grader notes")
        for note in notes:
            terminalreporter.line(f"- {note.msg.en}")
            terminalreporter.line(f"  {note.msg.ja}")


class SubmissionChecks(pytest.Collector):
    """The checks of the submission's exercise, one item each, in the YAML's order."""

    def __init__(self, *, grading: _GradingSession, **kwargs):
        super().__init__(**kwargs)
        self.grading = grading

    def collect(self):
        for spec in self.grading.exercise.checks:
            yield CheckItem.from_parent(self, name=spec.id, spec=spec)


class CheckFailed(Exception):
    """A check failed: the student's fault, shown as a test failure."""


class CheckItem(pytest.Item):
    """One check of the exercise, judged on the session's single observation."""

    def __init__(self, *, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.result = None

    @property
    def grading(self) -> _GradingSession:
        return self.parent.grading

    def setup(self) -> None:
        # Judged here so that a fault of the grader is reported as a pytest *error* (setup), not a failure.
        self.result = self.grading.verdicts[self.spec.id] = self.grading.verdict(self.spec)
        if self.result.error:
            pytest.fail(f"concurrency grader error on check {self.spec.id} (not the submission's fault):\n"
                        + _explain(self.result.failure)
                        + (f"\n\n{self.result.detail}" if self.result.detail else ""), pytrace=False)

    def runtest(self) -> None:
        if not self.result.passed:
            raise CheckFailed(self.spec.id)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed) and self.result is not None:
            return _explain(self.result.failure)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return Path(os.path.abspath(self.grading.submission.path)), None, f"{self.grading.exercise.id}::{self.spec.id}"


def _explain(failure) -> str:
    """The explanation in English, then in Japanese."""
    if failure is None:
        return "failed"
    from .reports.text import visible

    return failure.text("en", visible) + "\n\n" + failure.text("ja", visible)
