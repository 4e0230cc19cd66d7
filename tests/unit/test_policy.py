"""The containment policy (``runner.policy``): what a run may read, with the hidden folders left out
even where they lie inside a folder the interpreter needs; Landlock's ABI arithmetic; and how
``grade --doctor`` reads its probe's findings."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.engine import landlock
from grader.runner import policy, sandbox


def _tree(root: Path, *files: str) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_a_folder_with_nothing_hidden_is_one_rule(tmp_path):
    _tree(tmp_path, "usr/lib/a.py", "usr/bin/python")
    assert policy.grant(str(tmp_path / "usr"), 5, [str(tmp_path / "home")]) == [(str(tmp_path / "usr"), 5)]


def test_a_hidden_folder_inside_is_left_out_and_its_siblings_kept(tmp_path):
    # A pip-installed grader inside the interpreter's site-packages (its course files inside it).
    _tree(tmp_path, "py/lib/os.py", "py/lib/site-packages/yaml/__init__.py",
          "py/lib/site-packages/grader/_course/reference/counter_lck.py", "py/bin/python")
    hidden = [str(tmp_path / "py/lib/site-packages/grader")]
    rules = dict(policy.grant(str(tmp_path / "py"), 5, hidden))
    assert rules == {str(tmp_path / "py/bin"): 5, str(tmp_path / "py/lib/os.py"): 5,
                     str(tmp_path / "py/lib/site-packages/yaml"): 5}
    granted = list(rules)
    secret = str(tmp_path / "py/lib/site-packages/grader/_course/reference/counter_lck.py")
    assert not any(secret == g or secret.startswith(g + os.sep) for g in granted)


def test_a_grant_inside_a_hidden_folder_opens_that_part_only(tmp_path):
    # The interpreter under the home directory of the user grading (pyenv): granted, the rest of
    # the home not.
    _tree(tmp_path, "home/.pyenv/versions/3.11/lib/os.py", "home/.bashrc")
    hidden = [str(tmp_path / "home")]
    assert policy.grant(str(tmp_path / "home/.pyenv/versions/3.11"), 5, hidden) == [
        (str(tmp_path / "home/.pyenv/versions/3.11"), 5)]
    assert policy.grant(str(tmp_path / "home"), 5, hidden) == []


def test_a_missing_path_gives_no_rule(tmp_path):
    assert policy.grant(str(tmp_path / "nowhere"), 5, []) == []


def test_rules_another_covers_are_dropped():
    kept = policy._pruned([("/usr", 13), ("/usr/bin", 13), ("/usr/lib", 15), ("/dev/null", 6)])
    assert kept == [("/usr", 13), ("/usr/lib", 15), ("/dev/null", 6)]


def test_the_policy_leaves_out_the_grader_and_the_scratch_tree_but_keeps_the_engine(tmp_path):
    p = policy.build(tmp_path, abi=7, mounts=False)
    package = Path(policy.__file__).resolve().parents[1]
    granted = [path for path, _ in p["rules"]]
    for secret in (package / "runner" / "sandbox.py", package / "verdicts", tmp_path / "log"):
        assert not any(str(secret) == g or str(secret).startswith(g + os.sep) for g in granted), secret
    assert str(package / "engine") in granted
    shim = Path(p["pythonpath"])
    assert "__version__ = " in (shim / "grader" / "__init__.py").read_text()  # the package's version, nothing else
    assert (shim / "grader" / "engine").resolve() == package / "engine"


def test_rights_grow_with_the_abi():
    assert landlock.fs_rights(1) == (1 << 13) - 1
    assert landlock.fs_rights(3) & landlock.TRUNCATE and not landlock.fs_rights(2) & landlock.TRUNCATE
    assert landlock.net_rights(3) == 0 and landlock.net_rights(4) == landlock.BIND_TCP | landlock.CONNECT_TCP
    assert landlock.scopes(5) == 0 and landlock.scopes(6) & landlock.SCOPE_SIGNAL
    assert landlock.fs_rights(7) == landlock.fs_rights(5)  # 6 and 7 add no filesystem right


def test_a_sandbox_that_cannot_be_set_ends_the_run_with_a_sealed_reason(tmp_path):
    from grader.engine import contain
    from grader.engine.events import EXIT_INTERNAL, sealer

    key = os.urandom(16)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a run whose working directory is gone: its Landlock rule cannot be made
        os.dup2(w, 2)
        contain.apply({"contain": {"landlock": 1, "rules": []}},
                      {"cwd": str(tmp_path / "gone"), "index": 0}, sealer(key))
        os._exit(0)
    os.close(w)
    said = os.read(r, 4096)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == EXIT_INTERNAL
    assert "the sandbox could not be set up" in (contain.uncontained(said, key) or "")
    # Only the engine, holding the key, can say so: not a program printing the same words.
    assert contain.uncontained(said, os.urandom(16)) is None
    assert contain.uncontained(contain.UNCONTAINED + b": forged\n", key) is None


def test_doctor_says_which_unix_socket_a_run_reached():
    # The probe's findings read as the doctor prints them (no sandbox needed).
    held = {"cwd": "allowed", "tcp": "EACCES", "unix": "ENOENT", "unix_abstract": "ECONNREFUSED",
            "signal_grader": "EPERM", "signal_runner": "EPERM"}
    lines = {concern: (ok, en, ja) for concern, ok, en, ja in sandbox._glance(held)}
    assert lines["sockets"][0] and "out of reach" in lines["sockets"][1]
    leaked = dict(held, unix="allowed", unix_reached=True, unix_abstract="ECONNREFUSED")
    ok, en, ja = {c: (o, e, j) for c, o, e, j in sandbox._glance(leaked)}["sockets"]
    assert not ok and "NOT contained" in en and "by its path" in en and "パス名" in ja
    assert "abstract" not in en.split("connected to", 1)[1]
    ok, en, _ = {c: (o, e, j) for c, o, e, j in
                 sandbox._glance(dict(held, unix_abstract_reached=True))}["sockets"]
    assert not ok and "an abstract socket" in en


def test_every_link_to_the_interpreter_is_bound_in_the_sandbox(tmp_path, monkeypatch):
    """A venv made from another venv's python: each hop of the link chain must resolve inside
    bwrap's own /tmp, or the run cannot even start its interpreter."""
    from grader.runner import sandbox

    (tmp_path / "a" / "bin").mkdir(parents=True)
    (tmp_path / "b" / "bin").mkdir(parents=True)
    (tmp_path / "a" / "bin" / "python").symlink_to(tmp_path / "b" / "bin" / "python")
    interpreter = sys.executable
    (tmp_path / "b" / "bin" / "python").symlink_to(interpreter)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "a" / "bin" / "python"))
    paths = sandbox._readonly_paths()
    for folder in (tmp_path / "a" / "bin", tmp_path / "b" / "bin", Path(interpreter).parent):
        assert str(folder) in paths, (folder, paths)


def test_the_engine_shim_names_the_version_without_metadata(tmp_path):
    from grader import __version__
    from grader.runner.policy import engine_shim

    init = engine_shim(tmp_path) / "grader" / "__init__.py"
    assert init.read_text(encoding="utf-8").endswith(f"__version__ = {__version__!r}\n")
