"""How many cores are free for a second drawing process, measured rather than guessed.

The 1-minute load average is a poor guide on a small machine: it lags a
minute behind and counts this command's own work and the runs just before
it (a second report started right after a first one saw 1 busy core on an
idle 2-core machine and drew in one process). On Linux the machine's busy
time is read from ``/proc/stat`` at the start of a command and again when
the report decides; the other work is that busy time minus this process's
own CPU time over the same span. Elsewhere, or over too short a span, the
load average is what there is.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

#: Cores that must be free (cores this process may use minus the other work's
#: cores) for a report to be drawn by two processes by default: on a busy
#: machine the second process only waits for a core and slows the first.
PARALLEL_MIN_FREE_CORES = 1.5
#: A span shorter than this says little about the other work, s: the load
#: average is used instead.
MIN_SPAN_S = 0.2

_PROC_STAT = "/proc/stat"


@dataclass(frozen=True)
class CpuSample:
    """The machine's busy CPU time and this process's own, at one moment.

    Attributes:
        t_s: ``time.monotonic()``, s.
        machine_busy_s: CPU time all cores have spent busy since boot, s
            (``/proc/stat``; None where it cannot be read).
        own_s: this process's CPU time (user + system, with its waited-for
            children), s.
    """

    t_s: float
    machine_busy_s: float | None
    own_s: float


def _machine_busy_s() -> float | None:
    try:
        with open(_PROC_STAT, encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if len(fields) < 5 or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_sample() -> CpuSample:
    """The machine's and this process's CPU time now (cheap: one small file read)."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return CpuSample(time.monotonic(), _machine_busy_s(), own)


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def free_cores(since: CpuSample | None = None, now: CpuSample | None = None) -> float:
    """Cores this process may run on minus the cores other work keeps busy.

    ``since``: a sample taken earlier by this process (``cpu_sample``); the
    other work is measured from then to now. Without it, on a span under
    ``MIN_SPAN_S`` or where ``/proc/stat`` cannot be read: the 1-minute load
    average, which includes this process's own recent work. ``now``: the
    second sample (default: taken now).
    """
    cores = usable_cores()
    now = now or cpu_sample()
    if since is not None and since.machine_busy_s is not None and now.machine_busy_s is not None:
        span = now.t_s - since.t_s
        if span >= MIN_SPAN_S:
            other = (now.machine_busy_s - since.machine_busy_s) - (now.own_s - since.own_s)
            return cores - max(other, 0.0) / span
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return cores - load


def can_fork() -> bool:
    """Two processes need fork (Linux): the child inherits the sessions, nothing is pickled."""
    return sys.platform.startswith("linux")
