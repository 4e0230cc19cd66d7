"""Every kind of shared state: a racy program fails ``tally`` and ``lock`` on every one of 10 seeds,
its lost update told with the state named as the program names it; its locked twin passes every
check on every seed (SPEC "No false accusation").

The pairs share state through a list (``COUNTS[i] += 1`` after a check-then-append), a Counter's
``update``, dict methods called on the class, attributes set through ``getattr``/``setattr``, a
global rebound to a new dict, an object's attribute, a global list rebound by ``+``, and a dict
``update`` from a ``Thread`` subclass's ``self`` attribute.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_seeds
from grader.sources.submission import load_submission

pytestmark = pytest.mark.timeout(600)

CORPUS = Path(__file__).resolve().parents[1] / "submissions" / "counter_lck"
SEEDS = list(range(1, 11))

# racy file stem, how a trace names the state (English), in Japanese
PAIRS = [
    ("two_lists", "COUNTS[|NAMES", "COUNTS[|NAMES"),  # a lost increment, or a type added twice
    ("counter_update", "cnt[", "cnt["),
    ("dict_methods", "cnt_dct[", "cnt_dct["),
    ("attributes", "tally.", "tally."),
    ("global_rebind", "the global cnt", "グローバル変数 cnt"),
    ("objects_attr", "box.n", "box.n"),
    ("list_concat", "the global seen", "グローバル変数 seen"),
    ("update_get", "self.cnt_dct[", "self.cnt_dct["),
]


def _names(alternatives: str, text: str) -> bool:
    return any(a in text for a in alternatives.split("|"))


def _grade(name: str):
    return grade_seeds(load_submission(str(CORPUS / name)), catalog.get("counter_lck"), SEEDS,
                       explicit_exercise=True)


@pytest.mark.parametrize("stem, named_en, named_ja", PAIRS, ids=[p[0] for p in PAIRS])
def test_the_race_is_found_and_named_on_every_seed(stem, named_en, named_ja):
    wrong = {}
    for seed, result in zip(SEEDS, _grade(f"{stem}_no_lock.py")):
        checks = {c.id: c for c in result.checks}
        tally, lock = checks["tally"], checks["lock"]
        if tally.passed or lock.passed:
            wrong[seed] = "tally or lock passed"
            continue
        trace_en = [m.en for m in tally.failure.trace]
        trace_ja = [m.ja for m in tally.failure.trace]
        threads = {line.split(" (counter)")[0] for line in trace_en}
        if not trace_en or not all(_names(named_en, line) for line in trace_en) or len(threads) < 2:
            wrong[seed] = tally.failure.text("en")
        elif not all(_names(named_ja, line) for line in trace_ja):
            wrong[seed] = tally.failure.text("ja")
        elif not _names(named_en, lock.failure.text("en")) or not _names(named_ja, lock.failure.text("ja")):
            wrong[seed] = lock.failure.text("en")
    assert not wrong, f"on {len(wrong)} of {len(SEEDS)} seeds: {dict(list(wrong.items())[:2])}"


@pytest.mark.parametrize("stem", [p[0] for p in PAIRS])
def test_the_locked_twin_passes_every_check_on_every_seed(stem):
    failed = {}
    for seed, result in zip(SEEDS, _grade(f"{stem}_lock.py")):
        bad = [c for c in result.checks if not c.passed]
        if bad:
            failed[seed] = {c.id: c.failure.text("en") for c in bad}
    assert not failed, f"on {len(failed)} of {len(SEEDS)} seeds: {dict(list(failed.items())[:2])}"


def test_the_tally_message_counts_what_is_short_and_tells_one_loss():
    result = _grade("counter_update_no_lock.py")[0]
    tally = next(c for c in result.checks if c.id == "tally")
    summary = tally.failure.summary
    short = sum(int(part.split(" instead of ")[1]) - int(part.split(" instead of ")[0].split()[-1])
                for part in summary.en.split(": ", 1)[1].split(" (")[0].split(", "))
    if short > 1:
        assert f"{short} counts short in all; the interleaving below shows how one update was lost" in summary.en
        assert f"合計 {short} 回分足りません。そのうち1回の更新が失われた順序を下に示します" in summary.ja
    else:
        assert "one update was lost" in summary.en and "更新が1回失われました" in summary.ja


@pytest.mark.parametrize("stem, key", [("attributes", "tally."), ("global_rebind", "cnt"),
                                       ("objects_attr", "box.n"), ("two_lists", "")])
def test_the_page_draws_the_state_as_the_terminal_names_it(tmp_path, html_page, svg_text, stem, key):
    """The HTML timeline of each shape: its marks carry the location the trace names, its words say
    it, and the same seed gives the same bytes."""
    import subprocess
    import sys

    grade = Path(sys.executable).with_name("grade")
    cmd = [str(grade)] if grade.exists() else [sys.executable, "-m", "grader"]
    page = tmp_path / "r.html"
    args = [str(CORPUS / f"{stem}_no_lock.py"), "--exercise", "counter_lck", "--lang", "en"]
    proc = subprocess.run([*cmd, *args, "--html", str(page)], capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 1, proc.stderr
    doc = page.read_text(encoding="utf-8")
    tally = next(s for s in html_page(doc).timelines() if s.get("data-kind") == "lost_update")
    keys = {g.get("data-key") for g in tally.iter("{http://www.w3.org/2000/svg}g") if g.get("data-key")}
    assert len(keys) == 1 and next(iter(keys)).startswith(key)
    shown = next(iter(keys))
    assert shown in proc.stdout.split("\n✗ tally:")[1]  # the terminal's trace names the same
    assert any(shown in t for t in svg_text(tally))
    again = tmp_path / "again.html"
    subprocess.run([*cmd, *args, "--html", str(again)], capture_output=True)
    assert again.read_bytes() == page.read_bytes()
