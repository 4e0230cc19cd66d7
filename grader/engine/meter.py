"""A run's own time: what its time limit counts, whatever else the machine is doing.

The limit is there to stop a program that hangs: one that computes forever, or waits for something
that never comes. Wall-clock time would also count the time the machine gave to other work (other
gradings side by side, a loaded CI host, a hypervisor that did not schedule this VM), and a correct
run would then be stopped by luck. A run's own time is the CPU time of all its processes and
threads (the kernel's accounting, which leaves out time spent waiting for a CPU) plus the time it
spent waiting with none of its threads runnable (a hang by waiting). Looking costs a scan of
/proc, so it is done only for a run that has lasted a quarter of its limit; most end long before.
Where /proc cannot be read, the limit is wall-clock time, as before.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_STATES = frozenset(b"RDW")
"""Thread states in which time passing is the machine's doing: running or waiting for a CPU (R),
waiting on the kernel's own I/O or a page fault (D), waking (W)."""
BACKSTOP = 20
"""Past this many limits of wall-clock time a run is stopped however busy the machine says it is."""


@dataclass(frozen=True)
class Sample:
    """One look at a run: its CPU seconds so far and whether any of its threads could run."""

    cpu: float
    busy: bool


def parse_stat(data: bytes) -> tuple[int, int, float]:
    """(state byte, process group, CPU seconds of the process and of its reaped children) from the
    text of ``/proc/PID/stat``. The command name may hold spaces and parentheses: fields are
    counted after its last ``)``."""
    fields = data.rsplit(b")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return fields[0][0], int(fields[2]), ticks / _TICK


def sample_group(pgid: int, proc: str = "/proc") -> Sample | None:
    """Look at every process of the process group ``pgid`` (a run's, whatever it forked that kept
    its group; one that left with setsid is the reaper's) and each of their threads. None when
    nothing could be read."""
    try:
        names = os.listdir(proc)
    except OSError:
        return None
    cpu, busy, seen = 0.0, False, False
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"{proc}/{name}/stat", "rb") as f:
                state, group, seconds = parse_stat(f.read())
        except (OSError, ValueError, IndexError):
            continue
        if group != pgid:
            continue
        seen = True
        cpu += seconds
        if not busy:
            busy = state in BUSY_STATES or _thread_busy(f"{proc}/{name}/task")
    return Sample(cpu, busy) if seen else None


def _thread_busy(tasks: str) -> bool:
    try:
        tids = os.listdir(tasks)
    except OSError:
        return False
    for tid in tids:
        try:
            with open(f"{tasks}/{tid}/stat", "rb") as f:
                if parse_stat(f.read())[0] in BUSY_STATES:
                    return True
        except (OSError, ValueError, IndexError):
            continue
    return False


class RunMeter:
    """Decides when a run has used up ``limit`` seconds of its own time.

    ``due()`` says when to look next; ``over(now, sample)`` takes a look (``sample_group``'s, None
    when /proc says nothing) and says whether the run is to be stopped. Pure: the caller reads the
    clock and /proc, so that tests can give it any machine they like.
    """

    def __init__(self, limit: float, started: float):
        self.limit = limit
        self.started = started
        self.period = limit / 20
        self.idle = 0.0
        self.cpu = 0.0
        self.last: float | None = None
        self.busy = True
        self.next = started + limit / 4

    def due(self) -> float:
        """The monotonic time of the next look."""
        return self.next

    def own_time(self) -> float:
        """The run's own seconds as of the last look."""
        return self.cpu + self.idle

    def over(self, now: float, sample: Sample | None) -> bool:
        """Take the look at ``now``; True when the run is past its limit."""
        wall = now - self.started
        if wall >= self.limit * BACKSTOP:
            return True
        if sample is None:  # nothing to go by but the clock
            self.next = self.started + self.limit
            return wall >= self.limit
        if self.last is not None and not sample.busy and not self.busy:
            # Seen waiting at both ends of the gap (one look can fall between one thread's
            # handing over and the next one's waking): the gap is its own, less what it computed
            # meanwhile (already counted). A gap counts at most a period: a late look, when the
            # grader itself was starved, says little of what happened meanwhile.
            self.idle += max(0.0, min(now - self.last, self.period) - max(0.0, sample.cpu - self.cpu))
        self.busy = sample.busy
        self.cpu = max(self.cpu, sample.cpu)
        self.last = now
        if self.own_time() >= self.limit:
            return True
        # Its own time cannot grow faster than the clock (one thread runs at a time), but spawned
        # processes run beside the others: look again within a period.
        self.next = now + max(self.period / 10, min(self.period, self.limit - self.own_time()))
        return False
