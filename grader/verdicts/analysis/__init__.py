"""Pure analysis of a run's events for the checks: tallies, races, locks, threads, calls.

No I/O and no processes: every function takes the event list of one run (``RunRecord.events``,
each event carrying ``proc``) or printed text, and returns plain data or bilingual ``Msg``.
Positions (``at``, ``read_at``...) are indexes in that list, which is the global order;
``n`` is the per-process sequence number shown to users.
"""
from .shared import (RMW, agrees, concurrent_locations, final_dict_state, location, rmw_windows, shared_tallies,
                     threads_wrote)
from .holds import Hold, held_locks, sync_objects
from .processes import (process_lock_verdict, process_name, process_races, process_view,
                        shares_between_processes)
from .races import (LostUpdate, Step, describe_lost_update, describe_step, how_lost, lost_updates, simplest,
                    simplest_loss)
from .sync import EXPECTED_LOCK, LockVerdict, lock_verdict, peak_inside, semaphore_holders_peak
from .tally import expected_tally, find_tally, parse_printed_dict
from .threads import Call, ThreadSpan, all_started_before, calls, first_join_n, thread_timeline

__all__ = [
    "Call", "EXPECTED_LOCK", "Hold", "LockVerdict", "LostUpdate", "RMW", "Step", "ThreadSpan",
    "agrees", "concurrent_locations", "location", "shared_tallies", "threads_wrote",
    "all_started_before", "calls", "describe_lost_update", "describe_step", "expected_tally",
    "final_dict_state", "find_tally", "first_join_n", "held_locks", "how_lost", "lock_verdict", "lost_updates",
    "parse_printed_dict", "peak_inside", "rmw_windows", "semaphore_holders_peak",
    "process_lock_verdict", "process_name", "process_races", "process_view", "shares_between_processes", "simplest", "simplest_loss",
    "sync_objects", "thread_timeline",
]
