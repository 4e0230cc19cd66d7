"""The sandbox a run sets on itself (``engine.contain``: Landlock, a mount namespace, no capability)
keeps correct programs working: multiprocessing's locks, Managers and Queues, every start method,
temporary files, an interpreter that lives under /tmp. And ``grade --doctor`` says, in both
languages, what holds.

What is contained is tried by ``tests/hostile`` (with and without bubblewrap); here, that nothing a
correct program needs is refused. The assertions hold whatever the machine offers.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from grader.exercises import catalog
from grader.grading import grade_submission
from grader.runner import sandbox
from grader.sources.submission import load_submission

REPO = Path(__file__).resolve().parents[2]
READ = '''
def read_types(path):
    with open(path, encoding="utf-8") as f:
        return [row.rstrip().split("\\t")[2].split() for row in f]
'''

# counter_pp with a multiprocessing.Lock around each child's update (a POSIX semaphore: a file in
# /dev/shm, created and unlinked at once).
PP_LOCK = '''import multiprocessing
import random
import time
''' + READ + '''

def counter(cnt_dct, type_, pp, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1
    pp.send(cnt_dct)
    pp.close()


if __name__ == "__main__":
    types = read_types("lec11/data/poke_names.txt")
    lck = multiprocessing.Lock()
    cnt_dct = {t: 0 for ts in types[:9] for t in ts}
    processes = []
    for type_lst in types[:9]:
        for type_ in type_lst:
            pp1, pp2 = multiprocessing.Pipe()
            pr = multiprocessing.Process(target=counter, args=(cnt_dct, type_, pp1, lck))
            pr.start()
            cnt_dct = pp2.recv()
            processes.append(pr)
    for pr in processes:
        pr.join()
    print("集計結果：", cnt_dct)
'''

# Without the engine (which does not schedule a Manager's server threads): what multiprocessing
# makes under each start method (a Manager's server and its AF_UNIX socket in a temporary folder,
# a Queue's feeder thread, the forkserver) works in the sandbox as it is.
MULTIPROCESSING = '''
import multiprocessing as mp


def child(conn, lock):
    with lock:
        conn.send("sent")


if __name__ == "__main__":
    for method in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(method)
        a, b = ctx.Pipe()
        lock = ctx.Lock()  # kept: under spawn the child opens it by name, which its end would unlink
        p = ctx.Process(target=child, args=(a, lock))
        p.start()
        got = b.recv()
        p.join()
        with ctx.Manager() as manager:
            d = manager.dict()
            d["x"] = 1
            shared = dict(d)
        q = ctx.Queue()
        q.put(2)
        print(method, got, shared, q.get(), p.exitcode)
'''
BOOT = '''
import json, runpy, sys
from grader.engine import contain
contain.enter(json.loads(sys.argv[1]), sys.argv[2], 0)
sys.argv = sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


# counter_lck that keeps a temporary file: it must land in the run's own temporary directory.
LCK_TEMPFILE = '''import collections
import os
import random
import tempfile
import threading
import time
''' + READ + '''

def counter(cnt_dct, type_, lck):
    with lck:
        now = cnt_dct[type_]
        time.sleep(random.randint(1, 5))
        cnt_dct[type_] = now + 1


if __name__ == "__main__":
    # The run's own temporary directory: in the sandbox's private /tmp, or in the scratch tree.
    scratch = os.path.dirname(os.path.dirname(os.path.realpath(os.getcwd())))
    with tempfile.NamedTemporaryFile("w+", encoding="utf-8") as log:
        where = os.path.realpath(log.name)
        if not (where.startswith("/tmp/run-") or where.startswith(scratch + os.sep)):
            raise SystemExit(f"temporary file outside the run's own folders: {log.name}")
        types = read_types("lec11/data/poke_names.txt")
        cnt_dct = collections.defaultdict(int)
        lck = threading.Lock()
        ths = [threading.Thread(target=counter, args=(cnt_dct, t, lck)) for ts in types[:9] for t in ts]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        log.write(repr(dict(cnt_dct)))
        log.seek(0)
        print("集計結果：", eval(log.read()))
'''


def _grade(tmp_path: Path, source: str, exercise: str):
    path = tmp_path / f"{exercise}.py"
    path.write_text(source, encoding="utf-8")
    result = grade_submission(load_submission(str(path)), catalog.get(exercise), 1)
    return {c.id: c for c in result.checks}


def _explain(checks) -> str:
    return "\n".join(f"{c.id}: {c.failure.summary.en if c.failure else ''} "
                     f"{c.failure.observed.en if c.failure and c.failure.observed else ''}"
                     for c in checks.values() if not c.passed)


def test_a_multiprocessing_lock_works_when_graded(tmp_path):
    # runs and tally (forked children); spawn under the sandbox is tried below without the engine's
    # wall-clock limit, which 13 interpreters can reach on a loaded machine.
    checks = _grade(tmp_path, PP_LOCK, "counter_pp")
    for check in ("runs", "tally"):
        assert checks[check].passed, _explain(checks)


def test_managers_queues_and_every_start_method_work_in_the_sandbox(tmp_path):
    from grader.runner.workspace import child_env

    root = tmp_path / "grader-scratch"
    cwd = root / "work" / "course"
    cwd.mkdir(parents=True)
    (root / "boot.py").write_text(BOOT, encoding="utf-8")
    (cwd / "program.py").write_text(MULTIPROCESSING, encoding="utf-8")
    confinement = sandbox.confine(root, 64)
    import json
    try:
        p = subprocess.run(confinement.command([sys.executable, "-S", str(root / "boot.py"),
                                                json.dumps(confinement.policy), str(cwd), str(cwd / "program.py")]),
                           cwd=cwd, env=child_env(root), capture_output=True, text=True, timeout=100)
    finally:
        confinement.kill_all()
    assert p.returncode == 0, p.stdout + p.stderr
    for method in ("fork", "spawn", "forkserver"):
        assert f"{method} sent {{'x': 1}} 2 0" in p.stdout, p.stdout + p.stderr


def test_temporary_files_go_to_the_runs_own_temporary_directory(tmp_path):
    checks = _grade(tmp_path, LCK_TEMPFILE, "counter_lck")
    assert checks["runs"].passed and checks["tally"].passed, _explain(checks)


def test_an_interpreter_under_tmp_still_starts_spawned_children(tmp_path):
    # CI clones and venvs under /tmp, where a run's private /tmp would hide them: the interpreter
    # is reached here through a link in the test's /tmp folder, as `grade` then runs it.
    link = tmp_path / "bin" / "python3"
    link.parent.mkdir()
    link.symlink_to(os.path.realpath(sys.executable))
    path = tmp_path / "counter_pp.py"
    path.write_text((REPO / "reference" / "counter_pp.py").read_text(encoding="utf-8"), encoding="utf-8")
    deps = sysconfig.get_paths()["purelib"]  # PyYAML & co., from the environment running the tests
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(sandbox.__file__).resolve().parents[2]), deps]))
    p = subprocess.run([str(link), "-m", "grader", str(path), "--lang", "en"], capture_output=True, text=True,
                       env=env, timeout=100)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_doctor_names_each_layer_and_what_the_probe_was_refused(lang):
    p = subprocess.run([sys.executable, "-m", "grader", "--doctor", "--lang", lang], capture_output=True,
                       text=True, timeout=100)
    assert p.returncode == 0 and not p.stderr, p.stderr
    marks = re.findall(r"^  ([✓✗]) (\S+(?: (?:fs|tcp|scope|cgroup))?)", p.stdout, re.M)
    names = [name for _, name in marks]
    for layer in ("session", "rlimits", "bwrap", "capabilities", "pids cgroup", "subreaper"):
        assert layer in names, p.stdout
    assert any(n.startswith("landlock") for n in names), p.stdout
    head = "サンドボックス内で試した結果" if lang == "ja" else "Tried inside the sandbox"
    assert head in p.stdout, p.stdout
    if lang == "ja":
        assert "ネットワーク" in p.stdout and "シグナル" in p.stdout
    active = {name for mark, name in marks if mark == "✓"}
    tried = p.stdout.split(head, 1)[1]
    # What the layers promise, the probe must have found: no concern marked ✗ that a layer claims.
    if active & {"bwrap", "landlock fs"}:
        assert re.search(r"✓ (files|ファイル)", tried), p.stdout
    if active & {"bwrap", "unshare"}:
        assert re.search(r"✓ (network|ネットワーク)", tried), p.stdout
    if "landlock scope" in active:
        assert re.search(r"✓ (signals|シグナル)", tried), p.stdout
    if active & {"bwrap", "mounts"}:  # either hides the host's /run from the run
        assert re.search(r"✓ (sockets|ソケット)", tried), p.stdout

