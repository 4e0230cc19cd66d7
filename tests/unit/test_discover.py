"""Unit tests for grader.batch.discover: Moodle, Canvas, per-student folders and zips, down to each reason."""
from __future__ import annotations

import hashlib
import os
import unicodedata
import zipfile
from pathlib import Path

import pytest

from grader.batch import archive, layouts
from grader.batch.discover import discover
from grader.batch.model import Discovery, Student
from grader.model import GraderInputError

EXERCISES = {
    "fizz_buzz_mt": "fizz_buzz_mt.py",
    "counter_lck": "counter_lck.py",
    "counter_smp": "counter_smp.py",
    "counter_pp": "counter_pp.py",
}
EXPECTED_NAMES = "counter_lck.py, counter_pp.py, counter_smp.py, fizz_buzz_mt.py"
SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "moodle_export"
CODE = b"import threading\nprint('ok')\n"
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'

YAMADA = "山田 太郎_123456_assignsubmission_file_"
SATO = "佐藤 花子_123457_assignsubmission_file_"

# English reasons, as the summary shows them (the Japanese ones are checked once, below).
DUPLICATE = "another file was graded for this exercise ({})"
NOTHING = "no .py or .ipynb file"
NOT_PY = "not graded: {} is not a .py or .ipynb file"
UNKNOWN = "{} matches no exercise by its name (expected file names: " + EXPECTED_NAMES + ")"
UNSAFE = "not extracted: its path in the zip points outside the extraction folder"
LOOSE = "not in any student's folder (not graded)"


def put(root: Path, rel: str, data: bytes = CODE, mtime: int | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def items(d: Discovery) -> list[tuple[str, str, str]]:
    return [(i.student.key, i.exercise, i.relpath) for i in d.items]


def unmatched(d: Discovery) -> list[tuple[str | None, str, str]]:
    return [(u.student.key if u.student else None, u.relpath, u.reason.en) for u in d.unmatched]


def run(path: Path, tmp_path: Path) -> Discovery:
    return discover(path, EXERCISES, tmp_path / "work")


def make_zip(path: Path, members: dict[str, bytes], date_time=(2025, 12, 1, 10, 0, 0)) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time), data)
    return path


def moodle_tree(root: Path) -> Path:
    """A Moodle export: Japanese names with a space, a sub-folder, online text, duplicates, junk."""
    put(root, f"{YAMADA}/counter_lck.py", mtime=1_700_000_000)
    put(root, f"{YAMADA}/第11回/counter_lck.py", mtime=1_700_000_500)  # newer: graded
    put(root, f"{YAMADA}/counter_pp.ipynb", NOTEBOOK)
    put(root, f"{YAMADA}/report.pdf", b"%PDF-1.4\n")
    put(root, f"{YAMADA}/__pycache__/counter_lck.cpython-312.pyc", b"\0")
    put(root, f"{YAMADA}/.DS_Store", b"\0")
    put(root, "山田 太郎_123456_assignsubmission_onlinetext_/onlinetext.html", b"<p>done</p>")
    put(root, f"{SATO}/Counter-LCK.py")
    put(root, f"{SATO}/conter_smp.py")
    put(root, f"{SATO}/utils.py")
    (root / "鈴木 一郎_123458_assignsubmission_file_").mkdir()
    return root


MOODLE_ITEMS = [
    ("123456", "counter_lck", f"{YAMADA}/第11回/counter_lck.py"),
    ("123456", "counter_pp", f"{YAMADA}/counter_pp.ipynb"),
    ("123457", "counter_lck", f"{SATO}/Counter-LCK.py"),
    ("123457", "counter_smp", f"{SATO}/conter_smp.py"),
]
MOODLE_UNMATCHED = [
    ("123456", f"{YAMADA}/counter_lck.py", DUPLICATE.format(f"{YAMADA}/第11回/counter_lck.py")),
    ("123456", f"{YAMADA}/report.pdf", NOT_PY.format("report.pdf")),
    ("123457", f"{SATO}/utils.py", UNKNOWN.format("utils.py")),
    ("123458", "鈴木 一郎_123458_assignsubmission_file_", NOTHING),
]


# --- Moodle --------------------------------------------------------------------------------


def test_moodle_folder(tmp_path):
    d = run(moodle_tree(tmp_path / "export"), tmp_path)
    assert d.layout == "moodle"
    assert d.students == [
        Student("123456", "山田 太郎", "moodle", "123456"),
        Student("123457", "佐藤 花子", "moodle", "123457"),
        Student("123458", "鈴木 一郎", "moodle", "123458"),
    ]
    assert items(d) == MOODLE_ITEMS
    assert unmatched(d) == MOODLE_UNMATCHED
    # The misspelt file is graded, with a note saying so; exact names carry none.
    notes = {i.relpath: i.note for i in d.items}
    assert notes[f"{SATO}/conter_smp.py"].en == (
        "conter_smp.py was graded as counter_smp: its name is close to that exercise's file name")
    assert notes[f"{SATO}/conter_smp.py"].ja == "conter_smp.py は課題 counter_smp のファイル名に近いため、counter_smp として採点しました"
    assert notes[f"{SATO}/Counter-LCK.py"] is None
    # Reasons are bilingual.
    ja = {u.relpath: u.reason.ja for u in d.unmatched}
    assert ja[f"{YAMADA}/counter_lck.py"] == f"同じ課題の別のファイル（{YAMADA}/第11回/counter_lck.py）を採点しました"
    assert ja[f"{YAMADA}/report.pdf"] == "report.pdf は採点対象ではありません（.py / .ipynb ではありません）"
    assert ja["鈴木 一郎_123458_assignsubmission_file_"] == "提出物に .py / .ipynb のファイルがありません"
    # Items point at the files themselves: the input folder is read in place.
    assert all(i.path.is_file() and i.path.is_relative_to(tmp_path / "export") for i in d.items)


def test_moodle_onlinetext_only_student_is_known_but_has_nothing(tmp_path):
    root = tmp_path / "export"
    put(root, f"{YAMADA}/counter_lck.py")
    put(root, "高橋 次郎_123459_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>")
    d = run(root, tmp_path)
    assert [s.key for s in d.students] == ["123456", "123459"]
    assert unmatched(d) == [("123459", "高橋 次郎_123459_assignsubmission_onlinetext_", NOTHING)]


def test_moodle_flat_files_without_folders(tmp_path):
    root = tmp_path / "export"
    put(root, "山田 太郎_123456_assignsubmission_file_counter_lck.py")
    put(root, "山田 太郎_123456_assignsubmission_file_s2212345_counter_pp.py")
    d = run(root, tmp_path)
    assert d.layout == "moodle"
    assert d.students == [Student("123456", "山田 太郎", "moodle", "123456")]
    assert items(d) == [
        ("123456", "counter_lck", "山田 太郎_123456_assignsubmission_file_counter_lck.py"),
        ("123456", "counter_pp", "山田 太郎_123456_assignsubmission_file_s2212345_counter_pp.py"),
    ]


def test_moodle_zip_with_a_wrapper_folder(tmp_path):
    tree = moodle_tree(tmp_path / "tree")
    members = {}
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree).as_posix()
        members["moodle_export/" + rel + ("/" if path.is_dir() else "")] = b"" if path.is_dir() else path.read_bytes()
    src = tmp_path / "A2-第11回-98765.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for name, data in members.items():
            # Zip times decide which duplicate is newer, as file times do for a folder.
            when = (2025, 12, 1, 9, 0, 0) if name.endswith(f"{YAMADA}/counter_lck.py") else (2025, 12, 1, 10, 0, 0)
            zf.writestr(zipfile.ZipInfo(name, when), data)
    d = run(src, tmp_path)
    assert d.layout == "moodle"
    assert [(s.key, s.name) for s in d.students] == [("123456", "山田 太郎"), ("123457", "佐藤 花子"),
                                                     ("123458", "鈴木 一郎")]
    assert items(d) == MOODLE_ITEMS
    assert unmatched(d) == MOODLE_UNMATCHED
    work = (tmp_path / "work").resolve()
    assert all(i.path.resolve().is_relative_to(work) and i.path.read_bytes() for i in d.items)


def test_a_folder_holding_only_the_export_zip(tmp_path):
    (tmp_path / "downloads").mkdir()
    make_zip(tmp_path / "downloads" / "A2-第11回-98765.zip", {f"{YAMADA}/counter_lck.py": CODE})
    d = run(tmp_path / "downloads", tmp_path)
    assert d.layout == "moodle"
    assert items(d) == [("123456", "counter_lck", f"{YAMADA}/counter_lck.py")]


def cp932_zip(path: Path, names: dict[str, bytes]) -> Path:
    """A zip as Windows Explorer in Japan writes it: CP932 name bytes, no UTF-8 flag."""
    encoded = {name.encode("cp932"): data for name, data in names.items()}
    placeholders = {}
    with zipfile.ZipFile(path, "w") as zf:
        for n, (raw, data) in enumerate(encoded.items()):
            # An ASCII placeholder of the same byte length, swapped for the CP932 bytes afterwards
            # (zipfile itself would store any non-ASCII name as UTF-8 and set the flag).
            placeholder = f"{n:04d}".encode().ljust(len(raw), b"#")
            placeholders[placeholder] = raw
            zf.writestr(zipfile.ZipInfo(placeholder.decode(), (2025, 12, 1, 10, 0, n * 2)), data)
    blob = path.read_bytes()
    for placeholder, raw in placeholders.items():
        assert blob.count(placeholder) == 2  # local header and central directory
        blob = blob.replace(placeholder, raw)
    path.write_bytes(blob)
    return path


def test_cp932_member_names(tmp_path):
    # 能 and 表 end in byte 0x5C, the backslash: names must be decoded before separators are fixed.
    folder = "能登 表子_123460_assignsubmission_file_"
    src = cp932_zip(tmp_path / "export.zip", {
        f"{folder}/第11回/counter_lck.py": CODE,
        f"{folder}/ソース表.py": CODE,
    })
    with zipfile.ZipFile(src) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
        assert f"{folder}/第11回/counter_lck.py" not in zf.namelist()
    d = run(src, tmp_path)
    assert d.students == [Student("123460", "能登 表子", "moodle", "123460")]
    assert items(d) == [("123460", "counter_lck", f"{folder}/第11回/counter_lck.py")]
    assert unmatched(d) == [("123460", f"{folder}/ソース表.py", UNKNOWN.format("ソース表.py"))]


def test_member_names_utf8_without_flag_are_nfc():
    info = zipfile.ZipInfo("x")
    info.filename = unicodedata.normalize("NFD", "ガ_1_assignsubmission_file_/a.py").encode("utf-8").decode("cp437")
    assert archive.member_name(info) == "ガ_1_assignsubmission_file_/a.py"


def test_zip_with_unsafe_members(tmp_path):
    src = tmp_path / "export.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr(f"{YAMADA}/counter_lck.py", CODE)
        zf.writestr("../evil.py", b"print('pwned')\n")
        zf.writestr("/abs_evil.py", b"print('pwned')\n")
        zf.writestr(f"{YAMADA}/../../evil2.py", b"print('pwned')\n")
        link = zipfile.ZipInfo(f"{YAMADA}/counter_pp.py")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    d = run(src, tmp_path)
    assert items(d) == [("123456", "counter_lck", f"{YAMADA}/counter_lck.py")]
    assert unmatched(d) == [
        (None, "../evil.py", UNSAFE),
        (None, "/abs_evil.py", UNSAFE),
        ("123456", f"{YAMADA}/../../evil2.py", UNSAFE),
        ("123456", f"{YAMADA}/counter_pp.py", "not extracted: a symbolic link in a zip"),
    ]
    assert not [p for p in tmp_path.rglob("*evil*") if p.name != "export.zip"]
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_symlink()]


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(GraderInputError) as info:
        run(tmp_path / "nowhere", tmp_path)
    assert "does not exist" in info.value.msg.en
    put(tmp_path, "broken.zip", b"not a zip")
    with pytest.raises(GraderInputError) as info:
        run(tmp_path / "broken.zip", tmp_path)
    assert info.value.msg.en.startswith("cannot open broken.zip as a zip")
    put(tmp_path, "notes.txt", b"x")
    with pytest.raises(GraderInputError):
        run(tmp_path / "notes.txt", tmp_path)


def test_extraction_budget(tmp_path):
    src = make_zip(tmp_path / "big.zip", {"a.py": b"x" * 1000, "b.py": b"y"})
    with pytest.raises(GraderInputError) as info:
        archive.extract_zip(src, tmp_path / "out1", archive.Budget(bytes_left=500))
    assert "too large" in info.value.msg.en
    assert not (tmp_path / "out1").exists()
    with pytest.raises(GraderInputError):
        archive.extract_zip(src, tmp_path / "out2", archive.Budget(members_left=1))
    budget = archive.Budget()
    assert archive.extract_zip(src, tmp_path / "out3", budget) == []
    assert budget.bytes_left == archive.MAX_BYTES - 1001 and budget.members_left == archive.MAX_MEMBERS - 2


# --- Canvas --------------------------------------------------------------------------------


def test_canvas_flat(tmp_path):
    root = tmp_path / "submissions"
    put(root, "yamadataro_12345_67890_counter_lck.py", mtime=1_700_000_000)
    put(root, "yamadataro_12345_67891_counter_lck-1.py", mtime=1_700_000_000)  # resubmission, same time
    put(root, "yamadataro_12345_67892_fizz_buzz_mt.ipynb", NOTEBOOK)
    put(root, "satohanako_late_23456_78901_counter_pp.py")
    put(root, "satohanako_late_23456_78901_memo.txt", b"memo")
    put(root, "suzukiichiro_34567_89012_report.pdf", b"%PDF")
    put(root, "README.txt", b"class notes")
    d = run(root, tmp_path)
    assert d.layout == "canvas"
    assert d.students == [
        Student("12345", "yamadataro", "canvas", "12345", late=False),
        Student("23456", "satohanako", "canvas", "23456", late=True),
        Student("34567", "suzukiichiro", "canvas", "34567", late=False),
    ]
    assert items(d) == [
        ("12345", "counter_lck", "yamadataro_12345_67891_counter_lck-1.py"),
        ("12345", "fizz_buzz_mt", "yamadataro_12345_67892_fizz_buzz_mt.ipynb"),
        ("23456", "counter_pp", "satohanako_late_23456_78901_counter_pp.py"),
    ]
    assert unmatched(d) == [
        (None, "README.txt", LOOSE),
        ("12345", "yamadataro_12345_67890_counter_lck.py",
         DUPLICATE.format("yamadataro_12345_67891_counter_lck-1.py")),
        ("23456", "satohanako_late_23456_78901_memo.txt", NOT_PY.format("memo.txt")),
        ("34567", "suzukiichiro_34567_89012_", NOTHING),
        ("34567", "suzukiichiro_34567_89012_report.pdf", NOT_PY.format("report.pdf")),
    ]


def test_canvas_student_zip_is_extracted(tmp_path):
    root = tmp_path / "submissions"
    root.mkdir()
    make_zip(root / "yamadataro_12345_67890_hw11.zip", {"hw11/counter_lck.py": CODE, "hw11/counter_smp.py": CODE})
    d = run(root, tmp_path)
    assert items(d) == [
        ("12345", "counter_lck", "yamadataro_12345_67890_hw11.zip/hw11/counter_lck.py"),
        ("12345", "counter_smp", "yamadataro_12345_67890_hw11.zip/hw11/counter_smp.py"),
    ]
    assert d.unmatched == []


# --- one folder per student ------------------------------------------------------------------


def slug_key(slug: str, name: str) -> str:
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def test_folders(tmp_path):
    root = tmp_path / "class"
    put(root, "s2212345/counter_lck.py")
    put(root, "2212346_山田太郎/counter_pp.py", mtime=1_700_000_000)
    put(root, "2212346_山田太郎/counter_pp_v2.py", mtime=1_700_000_000)  # same time: the last name wins
    put(root, "山田太郎/fizz_buzz_mt.py")
    put(root, "山田花子/counter_smp.py")
    put(root, "Yamada Taro/counter_lck.py")
    put(root, "佐藤/notes.txt", b"I forgot")
    put(root, "鈴木/helper.py")
    put(root, "class_list.csv", b"id,name\n")
    d = run(root, tmp_path)
    assert d.layout == "folders"
    taro, hanako, sato = slug_key("student", "山田太郎"), slug_key("student", "山田花子"), slug_key("student", "佐藤")
    suzuki = slug_key("student", "鈴木")
    yamada = slug_key("yamada-taro", "Yamada Taro")
    assert taro != hanako and all(k.isascii() for k in (taro, hanako, sato, yamada))
    by_key = {s.key: s for s in d.students}
    assert [s.key for s in d.students] == sorted(["s2212345", "2212346", taro, hanako, sato, suzuki, yamada])
    assert {k: s.name for k, s in by_key.items()} == {
        "s2212345": "s2212345", "2212346": "山田太郎", taro: "山田太郎", hanako: "山田花子", sato: "佐藤",
        suzuki: "鈴木", yamada: "Yamada Taro",
    }
    assert all(s.lms == "folder" and s.lms_id is None for s in d.students)
    assert sorted(items(d)) == sorted([
        ("s2212345", "counter_lck", "s2212345/counter_lck.py"),
        ("2212346", "counter_pp", "2212346_山田太郎/counter_pp_v2.py"),
        (taro, "fizz_buzz_mt", "山田太郎/fizz_buzz_mt.py"),
        (hanako, "counter_smp", "山田花子/counter_smp.py"),
        (yamada, "counter_lck", "Yamada Taro/counter_lck.py"),
    ])
    assert items(d) == sorted(items(d), key=lambda t: (t[0], t[1]))
    assert sorted(unmatched(d), key=str) == sorted([
        (None, "class_list.csv", LOOSE),
        ("2212346", "2212346_山田太郎/counter_pp.py", DUPLICATE.format("2212346_山田太郎/counter_pp_v2.py")),
        (sato, "佐藤/notes.txt", NOT_PY.format("notes.txt")),
        (sato, "佐藤", NOTHING),
        (suzuki, "鈴木/helper.py", UNKNOWN.format("helper.py")),
        (suzuki, "鈴木", "no .py or .ipynb file matched an exercise"),
    ], key=str)


@pytest.mark.parametrize("folder, key, name", [
    ("s2212345", "s2212345", "s2212345"),
    ("S2212345 山田 太郎", "S2212345", "山田 太郎"),
    ("山田太郎_2212345", "2212345", "山田太郎"),
    ("ｓ２２１２３４５_山田", "s2212345", "山田"),  # full-width, from a Japanese IME
    ("report12345", "12345", "report"),
    ("2025_山田", slug_key("2025", "2025_山田"), "2025_山田"),  # four digits are not a student number
])
def test_folder_student(folder, key, name):
    assert layouts.folder_student(folder) == Student(key, name, "folder")


def test_folder_keys_are_stable_across_runs(tmp_path):
    root = tmp_path / "class"
    put(root, "山田太郎/counter_lck.py")
    first = run(root, tmp_path)
    again = run(root, tmp_path)  # the same scratch directory, emptied and used again
    assert [s.key for s in first.students] == [s.key for s in again.students] == [slug_key("student", "山田太郎")]


def test_student_zip_in_folder_and_zip_per_student(tmp_path):
    root = tmp_path / "class"
    (root / "s2212345").mkdir(parents=True)
    make_zip(root / "s2212345" / "hand_in.zip", {
        "fizz_buzz_mt.py": CODE,
        "../evil.py": CODE,
        "inner.zip": b"PK",
        "__MACOSX/._fizz_buzz_mt.py": b"\0",
    })
    make_zip(root / "s2212399.zip", {"counter_lck.py": CODE})
    put(root, "s2212400/broken.zip", b"not a zip")
    d = run(root, tmp_path)
    assert items(d) == [
        ("s2212345", "fizz_buzz_mt", "s2212345/hand_in.zip/fizz_buzz_mt.py"),
        ("s2212399", "counter_lck", "s2212399.zip/counter_lck.py"),
    ]
    assert unmatched(d) == [
        ("s2212345", "s2212345/hand_in.zip/../evil.py", UNSAFE),
        ("s2212345", "s2212345/hand_in.zip/inner.zip", "a zip inside a zip is not extracted"),
        ("s2212400", "s2212400", NOTHING),
        ("s2212400", "s2212400/broken.zip", "cannot open broken.zip as a zip: File is not a zip file"),
    ]
    assert not list(tmp_path.rglob("evil.py"))


def test_one_students_zip_bomb_costs_nobody_else_their_submission(tmp_path):
    """A 2 MB zip of 19,990 empty files spends its own student's budget, not the class's."""
    root = tmp_path / "class"
    (root / "s2212300").mkdir(parents=True)
    bomb = root / "s2212300" / "everything.zip"
    with zipfile.ZipFile(bomb, "w") as zf:
        for i in range(archive.STUDENT_MEMBERS + 10):
            zf.writestr(f"junk/{i}.txt", b"")
    for key in ("s2212301", "s2212302"):
        (root / key).mkdir()
        make_zip(root / key / "hand_in.zip", {"counter_lck.py": CODE})
    d = run(root, tmp_path)
    assert items(d) == [("s2212301", "counter_lck", "s2212301/hand_in.zip/counter_lck.py"),
                        ("s2212302", "counter_lck", "s2212302/hand_in.zip/counter_lck.py")]
    refused = [u for u in unmatched(d) if u[0] == "s2212300"]
    assert any("too large to extract" in why for _, _, why in refused), refused


def test_a_students_budget_spends_the_class_budget_too(tmp_path):
    src = make_zip(tmp_path / "s.zip", {"a.py": b"x" * 100})
    klass = archive.Budget(bytes_left=50)
    with pytest.raises(GraderInputError):  # the class has less room than the student
        archive.extract_zip(src, tmp_path / "out", klass.for_student())
    klass = archive.Budget()
    student = klass.for_student()
    assert archive.extract_zip(src, tmp_path / "out2", student) == []
    assert student.bytes_left == archive.STUDENT_BYTES - 100 and klass.bytes_left == archive.MAX_BYTES - 100


# --- the shared sample -----------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="no shared Moodle sample")
def test_shared_moodle_sample(tmp_path):
    d = discover(SAMPLE, EXERCISES, tmp_path / "work")
    assert d.layout == "moodle"
    assert [(s.key, s.name, s.lms, s.lms_id) for s in d.students] == [
        ("123456", "山田 太郎", "moodle", "123456"), ("123457", "佐藤 花子", "moodle", "123457")]
    assert [(i.student.key, i.exercise) for i in d.items] == [("123456", "counter_lck"), ("123457", "counter_lck")]
    assert d.items[1].relpath == "佐藤 花子_123457_assignsubmission_file_/第11回/counter_lck.py"
    assert d.unmatched == []
