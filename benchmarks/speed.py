"""Speed and memory of ``hinge-imu analyse`` on a 1-hour, 3-sensor, 100 Hz recording.

The recording is SIMULATED (``typical`` sensors, arbitrary mounting) and
cached under ``benchmarks/.cache/`` (git-ignored). The analysis (the real
CLI, ``hinge-imu analyse F --reps-csv …``) is timed side by side with just
reading the same file with pandas (``pandas.read_csv(F)``); target: at most
3× the pandas time and at most 1 GB peak memory (max RSS of the child).

Usage::

    .venv/bin/python benchmarks/speed.py [--minutes 60] [--repeat 2]

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
dt = time.perf_counter() - t0
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""


def recording(minutes: float) -> Path:
    """The cached simulated recording (made on first use)."""
    path = CACHE / f"sim_typical_{minutes:g}min_100hz.csv"
    if path.exists():
        return path
    from hinge_imu.recording import write_recording
    from hinge_imu.sim import SimConfig, simulate

    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"simulating a {minutes:g}-minute recording (once; cached in {path}) …", file=sys.stderr)
    cfg = SimConfig.preset(
        "typical",
        reps=10,
        duration_min=minutes,
        seed=7,
        mounting="arbitrary",
        rates_hz={"thigh": 100.0, "pelvis": 100.0, "upper_back": 100.0},
    )
    write_recording(path, simulate(cfg).recording)
    return path


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, max RSS MB, exit code) of ``cmd`` run as a child of a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024.0, int(out[2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    a = ap.parse_args(argv)
    rec = recording(a.minutes)
    size_mb = rec.stat().st_size / 1e6
    exe = Path(sys.executable).with_name("hinge-imu")
    with tempfile.TemporaryDirectory() as tmp:
        reps_csv = str(Path(tmp) / "reps.csv")
        read = f"import pandas; pandas.read_csv({str(rec)!r}, comment='#')"
        cmds = {
            "pandas.read_csv(F, comment='#')": [sys.executable, "-c", read],
            "hinge-imu analyse F --reps-csv R": [
                str(exe),
                "analyse",
                str(rec),
                "--reps-csv",
                reps_csv,
            ],
        }
        rows = []
        for name, cmd in cmds.items():
            best = None
            for _ in range(a.repeat):
                res = measure(cmd)
                if best is None or res[0] < best[0]:
                    best = res
            assert best is not None
            rows.append((name, *best))
        import pandas as pd

        n_reps = len(pd.read_csv(reps_csv))
    base = rows[0][1]
    print(
        f"\nrecording: {rec.name} (SIMULATED), {size_mb:.0f} MB, {a.minutes:g} min, "
        f"3 sensors × 100 Hz; {n_reps} reps found"
    )
    print(f"{'command':36s} {'wall s':>8s} {'× pandas':>9s} {'max RSS MB':>11s} {'exit':>5s}")
    for name, wall, rss, rc in rows:
        print(f"{name:36s} {wall:8.2f} {wall / base:9.2f} {rss:11.0f} {rc:5d}")
    print("targets: analyse ≤ 3.00 × pandas, max RSS ≤ 1024 MB")
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    sys.exit(main())
