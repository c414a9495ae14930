"""Speed of ``read_recording`` against a plain ``pandas.read_csv`` of the same file.

Target: a 1-hour, 3-sensor, 100 Hz recording (~1.08 M rows, ~75 MB) reads
within 1.5× the time of plain ``pandas.read_csv``. The file is SIMULATED
noise (not a movement), made here if missing, and labelled so in its header.

    .venv/bin/python benchmarks/read_recording.py [--runs 5] [--minutes 60] [--gz]

Prints a table of run times, the ratio of medians and the peak memory of
one ``read_recording`` call (tracemalloc, numpy/pandas buffers included).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
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


def _time_once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--gz", action="store_true", help="benchmark the .csv.gz form")
    ap.add_argument("--file", type=Path, default=None, help="reuse/create this file")
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
    # alternate the two readers so that load from other processes hits both alike
    t_plain, t_ours = [], []
    for _ in range(args.runs):
        t_plain.append(_time_once(plain))
        t_ours.append(_time_once(ours))
    tracemalloc.start()
    read_recording(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"file: {path.name}, {size_mb:.1f} MB, {rows} rows, {args.runs} runs each")
    print(f"{'reader':28s} {'median s':>9s} {'min s':>7s} {'max s':>7s}")
    for label, ts in (("pandas.read_csv (plain)", t_plain), ("hinge_imu read_recording", t_ours)):
        print(f"{label:28s} {statistics.median(ts):9.3f} {min(ts):7.3f} {max(ts):7.3f}")
    ratio = statistics.median(t_ours) / statistics.median(t_plain)
    print(f"ratio read_recording / read_csv (medians): {ratio:.2f} (target ≤ 1.5)")
    print(f"ratio read_recording / read_csv (best runs): {min(t_ours) / min(t_plain):.2f}")
    print(f"peak memory of read_recording (tracemalloc): {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
