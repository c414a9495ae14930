"""Speed of ``read_recording`` against a plain ``pandas.read_csv`` of the same file.

Target: a 1-hour, 3-sensor, 100 Hz recording (~1.08 M rows, ~75 MB) reads
within 1.5× the time of plain ``pandas.read_csv``. The file is SIMULATED
noise (not a movement), made here if missing, and labelled so in its header.

    .venv/bin/python benchmarks/read_recording.py [--runs 5] [--minutes 60] [--gz]
    .venv/bin/python benchmarks/read_recording.py --candidates   # other CSV readers too

Prints a table of run times, the ratio of medians and the peak memory of
one ``read_recording`` call (tracemalloc, numpy/pandas buffers included).
With ``--candidates``, the CSV readers one could build the fast path on
(pandas' pyarrow engine, ``pyarrow.csv`` with and without threads, polars;
each only if installed: they are not dependencies) are timed in the same
interleaved rounds, on the table alone (no checks). Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hinge_imu.recording import read_recording, write_recording
from hinge_imu.samples import Recording, SensorStream


def make_file(path: Path, minutes: float) -> None:
    """Simulated 100 Hz noise around gravity for three sensors, with seq."""
    rng = np.random.default_rng(1)
    n = int(minutes * 60 * 100)
    streams = {}
    for k, name in enumerate(("thigh", "pelvis", "upper_back")):
        t_s = np.arange(n) / 100.0 + 0.003 * k
        acc = rng.normal(0.0, 0.5, (n, 3)) + np.array([0.0, 0.0, 9.81])
        gyr = rng.normal(0.0, 20.0, (n, 3))
        streams[name] = SensorStream(t_s, acc, gyr, seq=np.arange(n), rate_hz=100.0)
    header = {"note": "SIMULATED benchmark data (noise, not a movement)", "side": "right"}
    write_recording(path, Recording(streams, header, source="simulated"))


def _time_once(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall s, CPU s of this process); CPU time is less disturbed by other load."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--gz", action="store_true", help="benchmark the .csv.gz form")
    ap.add_argument("--file", type=Path, default=None, help="reuse/create this file")
    ap.add_argument("--candidates", action="store_true", help="time other CSV readers too")
    args = ap.parse_args()

    suffix = ".csv.gz" if args.gz else ".csv"
    path = args.file or Path(tempfile.gettempdir()) / f"hinge_imu_bench_{args.minutes:g}min{suffix}"
    if not path.exists():
        t0 = time.perf_counter()
        make_file(path, args.minutes)
        print(f"made {path} in {time.perf_counter() - t0:.1f} s (SIMULATED data)")
    n_header = 0
    with pd.io.common.get_handle(path, "r", compression="infer") as h:  # type: ignore[attr-defined]
        for line in h.handle:
            if not line.startswith("#"):
                break
            n_header += 1
    size_mb = path.stat().st_size / 1e6

    def plain() -> object:
        return pd.read_csv(path, skiprows=n_header)

    def ours() -> object:
        return read_recording(path)

    rows = len(plain())  # type: ignore[arg-type]
    plain()  # warm the page cache for both
    others = _candidates(path, n_header) if args.candidates else {}
    # alternate the readers so that load from other processes hits all alike
    t_plain, t_ours = [], []
    t_others: dict[str, list[tuple[float, float]]] = {k: [] for k in others}
    for _ in range(args.runs):
        t_plain.append(_time_once(plain))
        t_ours.append(_time_once(ours))
        for k, fn in others.items():
            t_others[k].append(_time_once(fn))
    tracemalloc.start()
    read_recording(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"file: {path.name}, {size_mb:.1f} MB, {rows} rows, {args.runs} runs each")
    print(
        f"{'reader':26s} {'wall median s':>14s} {'min s':>6s} {'max s':>6s} {'CPU median s':>13s}"
        f" {'wall × plain':>13s}"
    )
    table = [("pandas.read_csv (plain)", t_plain), ("hinge_imu read_recording", t_ours)]
    for label, ts in [*table, *t_others.items()]:
        wall = [w for w, _ in ts]
        cpu = [c for _, c in ts]
        plain_wall = statistics.median(w for w, _ in t_plain)
        print(
            f"{label:26s} {statistics.median(wall):14.3f} {min(wall):6.3f} {max(wall):6.3f} "
            f"{statistics.median(cpu):13.3f} {statistics.median(wall) / plain_wall:13.2f}"
        )
    for what, k in (("wall", 0), ("CPU", 1)):
        ours_med = statistics.median(t[k] for t in t_ours)
        plain_med = statistics.median(t[k] for t in t_plain)
        best = min(t[k] for t in t_ours) / min(t[k] for t in t_plain)
        print(
            f"ratio read_recording / read_csv, {what:4s}: median {ours_med / plain_med:.2f}, "
            f"best runs {best:.2f} (target ≤ 1.5)"
        )
    print(f"peak memory of read_recording (tracemalloc): {peak / 1e6:.0f} MB")
    rss_import, rss_read = _peak_rss_mb(path)
    print(
        f"peak RSS (VmHWM) of a fresh process: {rss_import:.0f} MB after imports, "
        f"{rss_read:.0f} MB after read_recording (file {size_mb:.0f} MB)"
    )


def _candidates(path: Path, n_header: int) -> dict[str, Callable[[], object]]:
    """The other CSV readers that are installed, each reading the table after the header."""
    out: dict[str, Callable[[], object]] = {}
    try:
        import pyarrow.csv as pacsv
    except ImportError:
        print("pyarrow not installed: its readers are left out")
    else:
        opts = pacsv.ReadOptions(skip_rows=n_header)
        one = pacsv.ReadOptions(skip_rows=n_header, use_threads=False)
        out["pandas engine=pyarrow"] = lambda: pd.read_csv(
            path, skiprows=n_header, engine="pyarrow"
        )
        out["pyarrow.csv (threads)"] = lambda: pacsv.read_csv(path, read_options=opts)
        out["pyarrow.csv (1 thread)"] = lambda: pacsv.read_csv(path, read_options=one)
    try:
        import polars as pl
    except ImportError:
        print("polars not installed: left out")
    else:
        out["polars.read_csv"] = lambda: pl.read_csv(path, skip_rows=n_header)
    return out


def _peak_rss_mb(path: Path) -> tuple[float, float]:
    """Peak RSS of a new interpreter before and after reading ``path``, MB (Linux).

    VmHWM from /proc, because ru_maxrss carries the parent's peak over exec.
    """
    code = (
        "import re, sys\n"
        "from hinge_imu.recording import read_recording\n"
        "def hwm():\n"
        "    text = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', text).group(1))\n"
        "h0 = hwm()\n"
        "read_recording(sys.argv[1])\n"
        "print(h0, hwm())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024  # VmHWM is in KiB


if __name__ == "__main__":
    main()
