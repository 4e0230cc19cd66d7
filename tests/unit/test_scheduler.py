"""The scheduler on its own (no patched threading): baton passing, virtual time, deadlocks."""
import pytest

from grader.engine.scheduler import Scheduler, Stop
from grader.engine.strategies import PCT, RandomWalk, make


def run_all(sched):
    for ts in list(sched.threads[1:]):
        sched.join(ts, None)


def test_sleeps_cost_no_real_time_and_wake_in_clock_order():
    sched = Scheduler(RandomWalk(1))
    order = []

    def sleeper(name, seconds):
        def body():
            sched.sleep(seconds)
            order.append((name, sched.now))
        return body

    for name, seconds in [("a", 300.0), ("b", 100.0), ("c", 200.0)]:
        sched.spawn(sleeper(name, seconds), daemon=False)
    run_all(sched)
    assert order == [("b", 100.0), ("c", 200.0), ("a", 300.0)]


def test_one_thread_at_a_time_makes_a_read_modify_write_with_a_point_lose_updates():
    """Every thread reads before any writes when a sleep sits between read and write."""
    for seed in range(5):
        sched = Scheduler(make("pct", seed))
        box = {"n": 0}

        def worker():
            now = box["n"]
            sched.sleep(1.0)
            box["n"] = now + 1

        for _ in range(5):
            sched.spawn(worker, daemon=False)
        run_all(sched)
        assert box["n"] == 1


def test_the_same_seed_gives_the_same_interleaving():
    def trace(seed):
        sched = Scheduler(RandomWalk(seed), timed=False)
        out = []

        def worker(i):
            def body():
                for step in range(3):
                    out.append((i, step))
                    sched.point()
            return body

        for i in range(4):
            sched.spawn(worker(i), daemon=False)
        run_all(sched)
        return out

    assert trace(3) == trace(3)
    assert len({tuple(trace(s)) for s in range(8)}) > 1


def test_deadlock_is_detected_at_once_with_the_blocked_threads():
    seen = {}

    def on_stop(kind, detail):
        seen["kind"] = kind
        seen["blocked"] = [(t.name, t.on) for t in sched.blocked()]

    sched = Scheduler(RandomWalk(1), on_stop=on_stop)
    with pytest.raises(Stop):
        sched.wait("a lock nobody releases")
    assert seen == {"kind": "deadlock", "blocked": [("thread-0", "a lock nobody releases")]}


def test_timed_wait_times_out_in_virtual_time():
    sched = Scheduler(RandomWalk(1))
    assert sched.wait("event", deadline=5.0) is False
    assert sched.now == 5.0


def test_virtual_time_budget_stops_a_program_that_sleeps_forever():
    sched = Scheduler(RandomWalk(1), max_vtime=60.0)
    with pytest.raises(Stop) as info:
        while True:
            sched.sleep(1.0)
    assert str(info.value) == "vtime"


def test_step_budget_stops_a_busy_wait():
    sched = Scheduler(RandomWalk(1), max_steps=1000)
    with pytest.raises(Stop) as info:
        while True:
            sched.point()
    assert str(info.value) == "steps"


def test_pct_without_change_points_runs_the_highest_priority_thread_to_its_end():
    sched = Scheduler(PCT(seed=4, depth=1))
    out = []

    def worker(i):
        def body():
            for _ in range(3):
                out.append(i)
                sched.point()
        return body

    for i in range(3):
        sched.spawn(worker(i), daemon=False)
    run_all(sched)
    runs = [out[i] for i in range(len(out)) if i == 0 or out[i] != out[i - 1]]
    assert sorted(runs) == [0, 1, 2]  # each thread ran in one piece


def test_pct_change_points_are_within_the_horizon():
    p = PCT(seed=1, depth=4, horizon=50)
    assert len(p.change_points) == 3 and all(1 <= c <= 50 for c in p.change_points)
