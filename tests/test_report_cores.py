"""Free cores for a report's second drawing process, measured from /proc/stat (report/cores.py)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from hinge_imu.report.cores import CpuSample, cpu_sample, free_cores, usable_cores

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc/stat is Linux's"
)


@linux_only
def test_another_process_busy_is_counted() -> None:
    since = cpu_sample()
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.6)
        free = free_cores(since)
    finally:
        spin.kill()
        spin.wait()
    # The spinning process held about one core over the span (more if the
    # machine is busy anyway): never more than cores − 0.7 are free.
    assert free <= usable_cores() - 0.7


def test_own_work_is_not_other_work() -> None:
    # Over 1 s the machine was busy for 1.8 core-seconds, 1.5 of them this
    # process's own (the analysis, pyarrow's threads): other work 0.3 cores.
    since = CpuSample(t_s=10.0, machine_busy_s=500.0, own_s=2.0)
    now = CpuSample(t_s=11.0, machine_busy_s=501.8, own_s=3.5)
    assert free_cores(since, now) == pytest.approx(usable_cores() - 0.3)


def test_without_proc_stat_or_a_span_the_load_average() -> None:
    load = __import__("os").getloadavg()[0]
    unreadable = CpuSample(t_s=0.0, machine_busy_s=None, own_s=0.0)
    later = CpuSample(t_s=5.0, machine_busy_s=None, own_s=1.0)
    assert free_cores(unreadable, later) == pytest.approx(usable_cores() - load, abs=0.5)
    # A span too short to say anything (0.05 s) falls back too.
    a = CpuSample(t_s=1.0, machine_busy_s=10.0, own_s=0.0)
    b = CpuSample(t_s=1.05, machine_busy_s=10.1, own_s=0.0)
    assert free_cores(a, b) == pytest.approx(usable_cores() - load, abs=0.5)
