"""``grade FILE --html`` and the batch's HTML pages, end to end (the real command, no browser).

The pages are parsed as HTML and their pictures as XML (``tests/conftest.py``); the picture must
show the interleaving the terminal report prints, in the course's language unless ``--lang``
says otherwise (an English locale does not), and the same seed must give the same bytes.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
SUBS = ROOT / "tests" / "submissions"
GRADE = Path(sys.executable).with_name("grade")
NS = "{http://www.w3.org/2000/svg}"
TRACE = re.compile(r"^\s+(Thread-\d+ \(counter\)) (?:read|wrote) (\S+) = ", re.M)


def grade(*args, cwd: Path, lang_env: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_DEBUG", "LANGUAGE")}
    env.update(LANG=lang_env, LC_ALL=lang_env, NO_COLOR="1")
    cmd = [str(GRADE)] if GRADE.exists() else [sys.executable, "-m", "grader"]
    return subprocess.run([*cmd, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=200)


def test_lost_update_page_in_the_course_language_whatever_the_locale(tmp_path, html_page, svg_text):
    src = SUBS / "counter_lck" / "no_lock.py"
    page_path = tmp_path / "report.html"
    proc = grade(src, "--exercise", "counter_lck", "--html", page_path, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "集計結果が正しくありません" in proc.stdout  # the terminal too: Japanese despite LANG=en_US
    doc = page_path.read_text(encoding="utf-8")
    page = html_page(doc)
    assert '<html lang="ja">' in doc
    tally = next(s for s in page.timelines() if s.get("data-kind") == "lost_update")
    # the lanes are the threads of the interleaving the terminal prints, the key is its key
    english = grade(src, "--exercise", "counter_lck", "--lang", "en", cwd=tmp_path).stdout
    steps = TRACE.findall(english.split("\n✗ tally:")[1].split("\n✗ ")[0])
    assert steps, english
    assert svg_text(tally, "lane-name") == list(dict.fromkeys(name for name, _ in steps))
    assert {g.get("data-key") for g in tally.iter(f"{NS}g") if g.get("data-key")} == {steps[0][1]}
    assert tally.find(f"{NS}title").text.startswith("更新が1回失われました")
    assert any(s.get("data-kind") == "lock" for s in page.timelines())
    # same file, same seed: the same page, byte for byte
    again = tmp_path / "again.html"
    assert grade(src, "--exercise", "counter_lck", "--html", again, cwd=tmp_path).returncode == 1
    assert again.read_bytes() == page_path.read_bytes()


def test_lang_en_chooses_english(tmp_path, html_page):
    out = tmp_path / "r.html"
    proc = grade(SUBS / "counter_lck" / "with_lock.py", "--exercise", "counter_lck", "--lang", "en",
                 "--html", out, cwd=tmp_path, lang_env="ja_JP.UTF-8")
    assert proc.returncode == 0, proc.stderr
    page = html_page(out.read_text(encoding="utf-8"))
    assert "All checks passed." in page.text and not page.timelines(None)


def test_deadlock_and_semaphore_pages(tmp_path, html_page):
    dead = tmp_path / "dead.html"
    assert grade(SUBS / "counter_lck" / "double_acquire.py", "--exercise", "counter_lck", "--html", dead,
                 cwd=tmp_path).returncode == 1
    kinds = [s.get("data-kind") for s in html_page(dead.read_text(encoding="utf-8")).timelines()]
    assert kinds == ["deadlock"]
    sem = tmp_path / "sem.html"
    assert grade(SUBS / "counter_smp" / "semaphore_three.py", "--exercise", "counter_smp", "--html", sem,
                 cwd=tmp_path).returncode == 1
    page = html_page(sem.read_text(encoding="utf-8"))
    assert [s.get("data-kind") for s in page.timelines()] == ["semaphore"]
    assert "保護区間に同時に 3 スレッドが入りました（上限は 2）" in page.text


def test_unwritable_html_path_is_a_one_line_error(tmp_path):
    proc = grade(SUBS / "counter_lck" / "with_lock.py", "--exercise", "counter_lck",
                 "--html", tmp_path / "missing" / "r.html", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "レポートを書き込めません" in proc.stderr


def test_batch_writes_a_page_per_student_and_an_index(tmp_path, html_page):
    src = tmp_path / "class"
    for key, name in (("s2212345", "with_lock"), ("s2212346", "no_join")):
        (src / key).mkdir(parents=True)
        (src / key / "counter_lck.py").write_bytes((SUBS / "counter_lck" / f"{name}.py").read_bytes())
    out = tmp_path / "out"
    proc = grade("batch", src, "--out", out, "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    index = html_page((out / "index.html").read_text(encoding="utf-8"))
    assert '<html lang="ja">' in index.source  # the course's language, LANG=en_US notwithstanding
    links = [a["href"] for a in index.find("a") if a["href"].startswith("feedback/")]
    assert links == ["feedback/s2212345.html", "feedback/s2212346.html"]
    for link in links:
        assert (out / link).is_file() and (out / link).with_suffix(".txt").is_file()
    racy = html_page((out / "feedback" / "s2212346.html").read_text(encoding="utf-8"))
    assert [s.get("data-kind") for s in racy.timelines()] == ["join"]
    assert "合計" in racy.text and "s2212346" in racy.text


def test_an_english_locale_does_not_change_the_language_of_errors(tmp_path):
    """Messages written before the arguments are parsed follow the same rule as the report."""
    ja = grade("nothing.py", cwd=tmp_path)
    assert ja.returncode == 2 and ja.stderr == "grade: nothing.py が見つかりません。\n"
    en = grade("nothing.py", "--lang", "en", cwd=tmp_path, lang_env="ja_JP.UTF-8")
    assert en.returncode == 2 and "nothing.py" in en.stderr and not re.search("[\u3040-\u30ff]", en.stderr)
