"""Folder mode: ``hinge-imu analyse DIR --out OUT --jobs N`` on 20 recordings, N = 1 and 2.

The recordings are SIMULATED (``typical`` sensors, arbitrary mounting,
3 sensors × 100 Hz, ``--minutes`` each, seeds 1–20) and cached under
``benchmarks/.cache/`` (git-ignored). Runs of each ``--jobs`` are
interleaved (1, 2, 1, 2 …) in cold processes, so a change in the machine's
load hits both alike; the best run of each is shown. Target: ``--jobs 2``
at least 1.7× the throughput of ``--jobs 1`` — which needs two free cores:
on a shared machine, run it when quiet or repeat and take the best.

Usage::

    .venv/bin/python benchmarks/folder_speed.py [--files 20] [--minutes 2] [--repeat 2]
        [--before /work/main/.venv/bin/hinge-imu]

``--before EXE`` runs another ``hinge-imu`` (e.g. the main branch's) in the
same rounds, for a before → after under the same load. Prints a table with
the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from speed import CACHE, measure


def folder(files: int, minutes: float) -> Path:
    """The cached folder of simulated recordings (made on first use)."""
    from hinge_imu.recording import write_recording
    from hinge_imu.sim import SimConfig, simulate

    path = CACHE / f"folder_{files}x{minutes:g}min_100hz"
    path.mkdir(parents=True, exist_ok=True)
    for seed in range(1, files + 1):
        rec = path / f"sim_{seed:02d}.csv"
        if rec.exists():
            continue
        print(f"simulating {rec.name} (once; cached in {path}) …", file=sys.stderr)
        cfg = SimConfig.preset(
            "typical",
            reps=10,
            duration_min=minutes,
            seed=seed,
            mounting="arbitrary",
            rates_hz={"thigh": 100.0, "pelvis": 100.0, "upper_back": 100.0},
        )
        write_recording(rec, simulate(cfg).recording)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=2.0, help="length of each recording")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    ap.add_argument("--before", metavar="EXE", help="another hinge-imu to run alongside")
    a = ap.parse_args(argv)
    src = folder(a.files, a.minutes)
    exes = {"": str(Path(sys.executable).with_name("hinge-imu"))}
    if a.before:
        exes["before"] = a.before
    runs: dict[tuple[str, int], list[tuple[float, float, int, float]]] = {
        (name, jobs): [] for name in exes for jobs in (1, 2)
    }
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.repeat):
            for name, jobs in runs:
                out = str(Path(tmp) / f"out{name}{jobs}")
                cmd = [exes[name], "analyse", str(src), "--out", out, "--jobs", str(jobs)]
                runs[name, jobs].append(measure(cmd))
    load_after = os.getloadavg()
    print(
        f"\nfolder: {src.name} (SIMULATED), {a.files} recordings of {a.minutes:g} min, "
        f"3 sensors × 100 Hz; best of {a.repeat} interleaved runs"
    )
    print(
        f"load average (1, 5, 15 min): before {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after {', '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} cores"
    )
    print(
        f"{'':7s} {'--jobs':>6s} {'wall s':>8s} {'files/s':>8s} {'× jobs 1':>9s} "
        f"{'max RSS MB':>11s} {'CPU s':>7s} {'exit':>5s}"
    )
    for name in exes:
        best = {jobs: min(runs[name, jobs], key=lambda x: x[0]) for jobs in (1, 2)}
        for jobs, (wall, rss, rc, cpu) in best.items():
            print(
                f"{name:7s} {jobs:6d} {wall:8.2f} {a.files / wall:8.2f} {best[1][0] / wall:9.2f} "
                f"{rss:11.0f} {cpu:7.2f} {rc:5d}"
            )
        one, two = runs[name, 1], runs[name, 2]
        pairs = sorted(x[0] / y[0] for x, y in zip(one, two, strict=True))
        print(f"{name:7s} paired runs (jobs 1 / the jobs 2 run after it): "
              f"{', '.join(f'{p:.2f}' for p in pairs)}")  # fmt: skip
    print("target: --jobs 2 ≥ 1.70 × the throughput of --jobs 1 (max RSS: the largest process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
