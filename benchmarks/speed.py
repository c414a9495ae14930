"""Speed and memory of ``hinge-imu analyse`` on a 1-hour, 3-sensor, 100 Hz recording.

The recording is SIMULATED (``typical`` sensors, arbitrary mounting) and
cached under ``benchmarks/.cache/`` (git-ignored). The analysis (the real
CLI, ``hinge-imu analyse F --reps-csv …``) is timed side by side with just
reading the same file with pandas (``pandas.read_csv(F, comment='#')``) and
with pyarrow (``pyarrow.csv.read_csv``, multi-threaded, the header lines
skipped), each a cold process, the runs interleaved; target: at most 1.0×
the pandas time and at most 400 MB peak memory (max RSS of the child).

hinge-imu's modules are byte-compiled first (as ``pip install`` does), so
that an environment with ``PYTHONDONTWRITEBYTECODE`` does not time the
compiler on every run.

Usage::

    .venv/bin/python benchmarks/speed.py [--minutes 60] [--repeat 3]

Prints a table (best run of each; the machine's load average before and
after); asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(dt, ru.ru_maxrss, rc, ru.ru_utime + ru.ru_stime)
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


def measure(cmd: list[str]) -> tuple[float, float, int, float]:
    """(wall s, max RSS MB, exit code, CPU s) of ``cmd`` run as a child of a fresh process.

    CPU is user + system time of all its threads, so it can exceed wall:
    pyarrow's CSV reader (``hinge-imu analyse``) parses in threads; pandas'
    C parser parses on one thread (CPU about wall when the machine is idle).
    """
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024.0, int(out[2]), float(out[3])


def _header_lines(path: Path) -> int:
    """Lines before the column line (pyarrow has no comment option: it skips them)."""
    n = 0
    with path.open("rb") as fh:
        while fh.readline().startswith(b"#"):
            n += 1
    return n


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    a = ap.parse_args(argv)
    rec = recording(a.minutes)
    size_mb = rec.stat().st_size / 1e6
    exe = Path(sys.executable).with_name("hinge-imu")
    import hinge_imu

    compileall.compile_dir(Path(hinge_imu.__file__).parent, quiet=1)
    skip = _header_lines(rec)
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        reps_csv = str(Path(tmp) / "reps.csv")
        read = f"import pandas; pandas.read_csv({str(rec)!r}, comment='#')"
        arrow = (
            "import pyarrow.csv as c; "
            f"c.read_csv({str(rec)!r}, read_options=c.ReadOptions(skip_rows={skip}))"
        )
        cmds = {
            "pandas.read_csv(F, comment='#')": [sys.executable, "-c", read],
            "pyarrow.csv.read_csv(F)": [sys.executable, "-c", arrow],
            "hinge-imu analyse F --reps-csv R": [
                str(exe),
                "analyse",
                str(rec),
                "--reps-csv",
                reps_csv,
            ],
        }
        # Interleaved (pandas, pyarrow, analyse, pandas …) so that a change in
        # the machine's load hits all alike; the best run of each is shown.
        runs: dict[str, list[tuple[float, float, int, float]]] = {name: [] for name in cmds}
        for _ in range(a.repeat):
            for name, cmd in cmds.items():
                runs[name].append(measure(cmd))
        rows = [(name, *min(r, key=lambda x: x[0])) for name, r in runs.items()]
        cpu = [min(x[3] for x in r) for r in runs.values()]
        rss = [max(x[1] for x in r) for r in runs.values()]
        # Ratio of each analyse run to the pandas run of the same round.
        pair = sorted(
            an[0] / pd_[0] for pd_, an in zip(runs[rows[0][0]], runs[rows[-1][0]], strict=True)
        )
        with open(reps_csv, encoding="utf-8") as fh:
            n_reps = sum(1 for _ in fh) - 1
    base, base_cpu = rows[0][1], cpu[0]
    print(
        f"\nrecording: {rec.name} (SIMULATED), {size_mb:.0f} MB, {a.minutes:g} min, "
        f"3 sensors × 100 Hz; {n_reps} reps found; best of {a.repeat}, cold processes"
    )
    print(
        f"{'command':36s} {'wall s':>7s} {'× pandas':>9s} {'CPU s':>7s} {'CPU × pandas':>13s}"
        f" {'peak MB':>8s} {'exit':>5s}"
    )
    for (name, wall, _, rc, _), c, peak in zip(rows, cpu, rss, strict=True):
        print(
            f"{name:36s} {wall:7.2f} {wall / base:9.2f} {c:7.2f} {c / base_cpu:13.2f}"
            f" {peak:8.0f} {rc:5d}"
        )
    print(
        f"analyse / pandas, run by run: best {pair[0]:.2f}, "
        f"median {pair[len(pair) // 2]:.2f}, worst {pair[-1]:.2f} (n={len(pair)})"
    )
    print(f"before: {load_before}; after: {_load()} (2 cores)")
    print("targets: analyse ≤ 1.00 × pandas wall, peak ≤ 400 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
