"""A run's time limit counts its own time: a crowded machine never stops a correct run, a hang always is."""
from __future__ import annotations

import os

import pytest

from grader.engine.meter import BACKSTOP, RunMeter, Sample, parse_stat, sample_group

LIMIT = 2.0


def drive(samples, limit=LIMIT, started=0.0, meter_out=None):
    """Look at a run whenever it is due; ``samples(now)`` is the machine. Returns when it was stopped."""
    m = RunMeter(limit, started)
    if meter_out is not None:
        meter_out.append(m)
    now = m.due()
    while now < started + limit * (BACKSTOP + 1):
        if m.over(now, samples(now)):
            return now
        assert m.due() > now
        now = m.due()
    return None


def test_a_run_starved_by_a_crowded_machine_is_not_stopped_before_the_backstop():
    # Runnable all along, yet given 1 % of a CPU: 19 limits of wall-clock time are not its own.
    stopped = drive(lambda now: Sample(cpu=now * 0.01, busy=True))
    assert stopped is not None and stopped >= LIMIT * BACKSTOP


def test_a_run_that_computes_is_stopped_at_its_own_cpu_time_whatever_the_load():
    # Spinning with half a CPU: its limit of CPU time comes at twice the limit of wall-clock time.
    stopped = drive(lambda now: Sample(cpu=now * 0.5, busy=True))
    assert stopped == pytest.approx(2 * LIMIT, abs=LIMIT / 20 + 1e-9)


def test_a_run_that_waits_on_nothing_is_stopped_after_its_limit_of_waiting():
    stopped = drive(lambda now: Sample(cpu=0.05, busy=False))
    # First look at a quarter of the limit, then the waiting counts from the second look on.
    assert LIMIT < stopped <= LIMIT / 4 + LIMIT - 0.05 + 2 * LIMIT / 20 + 1e-9


def test_one_look_between_two_threads_handing_over_counts_no_waiting():
    # Every other look lands in a handover (nothing runnable for an instant): never two in a row.
    looks = iter(range(10_000))
    stopped = drive(lambda now: Sample(cpu=0.05, busy=next(looks) % 2 == 0))
    assert stopped >= LIMIT * BACKSTOP


def test_a_run_that_waits_and_now_and_then_computes_a_little_is_stopped_all_the_same():
    # A real wait in a loop (a C library polling): seen waiting at each look, a little CPU between.
    looks = iter(range(1, 10_000))
    kept = []
    stopped = drive(lambda now: Sample(cpu=0.002 * next(looks), busy=False), meter_out=kept)
    assert stopped < LIMIT / 4 + LIMIT + 3 * LIMIT / 20
    assert kept[0].own_time() >= LIMIT and kept[0].cpu < LIMIT / 4


def test_a_late_look_counts_at_most_one_period_of_waiting():
    m = RunMeter(LIMIT, 0.0)
    assert not m.over(0.5, Sample(0.0, busy=False))
    assert not m.over(1.9, Sample(0.0, busy=False))  # the grader was starved for 1.4 s
    assert m.own_time() == pytest.approx(LIMIT / 20)


def test_without_proc_the_limit_is_wall_clock_time():
    m = RunMeter(LIMIT, 10.0)
    assert not m.over(10.5, None)
    assert m.due() == 10.0 + LIMIT
    assert m.over(12.0, None)


def test_the_backstop_stops_any_run():
    m = RunMeter(LIMIT, 0.0)
    assert m.over(LIMIT * BACKSTOP, Sample(0.0, busy=True))


def test_a_stat_line_with_a_name_of_spaces_and_parentheses():
    tick = os.sysconf("SC_CLK_TCK")
    line = (b"4242 (a) b (c)) S 1 4240 4240 0 -1 4194304 100 0 0 0 "
            + f"{tick} {tick // 2} {tick} {tick // 2} 20 0 1 0 3613163 3133440 360".encode())
    state, group, seconds = parse_stat(line)
    assert (chr(state), group, seconds) == ("S", 4240, pytest.approx(3.0))


def _proc(root, pid, group, state, ticks, threads=()):
    folder = root / str(pid)
    (folder / "task").mkdir(parents=True)
    stat = lambda s: f"{pid} (python3) {s} 1 {group} {group} 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 1 1 1"
    (folder / "stat").write_text(stat(state))
    for i, t in enumerate(threads or (state,)):
        (folder / "task" / str(pid + i)).mkdir()
        (folder / "task" / str(pid + i) / "stat").write_text(stat(t))


def test_sample_group_sums_the_group_and_sees_any_runnable_thread(tmp_path):
    tick = os.sysconf("SC_CLK_TCK")
    _proc(tmp_path, 100, 100, "S", tick, threads=("S", "S", "R"))  # the run: its main thread waits
    _proc(tmp_path, 101, 100, "S", 2 * tick)                       # a process it forked
    _proc(tmp_path, 200, 200, "R", 50 * tick)                      # someone else's
    (tmp_path / "self").mkdir()
    assert sample_group(100, str(tmp_path)) == Sample(cpu=pytest.approx(3.0), busy=True)
    _proc(tmp_path, 300, 300, "S", 0, threads=("S", "D"))  # in the kernel's own wait: the machine's
    assert sample_group(300, str(tmp_path)).busy
    _proc(tmp_path, 400, 400, "S", 0, threads=("S", "T"))  # stopped by itself: its own doing
    assert sample_group(400, str(tmp_path)) == Sample(0.0, busy=False)
    assert sample_group(999, str(tmp_path)) is None
    assert sample_group(100, str(tmp_path / "absent")) is None


def test_this_process_is_seen_as_busy_while_it_looks():
    sample = sample_group(os.getpgid(0))
    if sample is None:
        pytest.skip("no /proc here")
    assert sample.busy and sample.cpu > 0
