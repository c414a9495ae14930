"""Speed and memory of ``hinge-imu report`` on a 1-hour and a 5-minute recording.

The recordings are the SIMULATED ones of ``speed.py`` (``typical`` sensors,
arbitrary mounting, 3 sensors × 100 Hz, cached under ``benchmarks/.cache/``).
The report (the real CLI, ``hinge-imu report F --out D``, PDF + PNGs + CSVs)
is timed side by side with a cold ``pandas.read_csv(F, comment="#")`` of the
same file, the runs interleaved, each in a fresh process. Targets: on the
1-hour recording ≤ 15× the pandas read and ≤ 600 MB peak (max RSS); on the
5-minute one ≤ 3 s.

``--stages`` also runs the report once in this process and prints where the
time goes: the analysis, drawing the pages (build, PDF, PNG, per kind of
page), the CSV files, writing.

Usage::

    .venv/bin/python benchmarks/report_speed.py [--minutes 60 5] [--repeat 1] [--stages]

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from speed import measure, recording

TARGETS = "targets: 60 min ≤ 15.0 × pandas and ≤ 600 MB; 5 min ≤ 3.0 s"


def stages(rec: Path, out: Path, set_pngs: bool = False) -> None:
    """Where the time of one report goes, measured in this process (warm imports)."""
    t0 = time.perf_counter()
    import hinge_imu.report.build as build
    from hinge_imu.atomic import atomic_write
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.report import exports
    from hinge_imu.report.pdf import PdfDocument, png_bytes

    spent: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    t1 = time.perf_counter()
    spent["imports (report)"] = t1 - t0
    session = analyse(rec)
    t2 = time.perf_counter()
    spent["analysis"] = t2 - t1
    files: dict[str, bytes] = {}
    with PdfDocument("benchmark", True) as pdf:
        pages = build.session_pages(session)
        while True:
            a = time.perf_counter()
            try:
                stem, fig = next(pages)
            except StopIteration:
                break
            kind = stem.split("_", 1)[1].rstrip("_0123456789") or stem
            b = time.perf_counter()
            pdf.add(fig)
            c = time.perf_counter()
            if set_pngs or not stem.startswith(build.SET_PAGE):  # as render_report does
                files[stem + ".png"] = png_bytes(fig)
            d = time.perf_counter()
            spent[f"{kind}: build"] += b - a
            spent[f"{kind}: PDF"] += c - b
            if d - c > 0.001:
                spent[f"{kind}: PNG"] += d - c
            count[kind] += 1
        files["report.pdf"] = pdf.close()
    t3 = time.perf_counter()
    files["reps.csv"] = exports.csv_bytes(exports.reps_frame(session))
    files["angles.csv"] = exports.csv_bytes(exports.angles_frame(session))
    files["summary.csv"] = exports.csv_bytes(exports.summary_frame([session]))
    t4 = time.perf_counter()
    spent["CSV files"] = t4 - t3
    for rel, content in files.items():
        with atomic_write(out / rel, "wb") as fh:
            fh.write(content)
    spent["writing (atomic, fsync)"] = time.perf_counter() - t4
    total = sum(spent.values())
    print(f"\nwhere the time goes ({rec.name}, in-process, {sum(count.values())} pages):")
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        kind = name.split(":")[0]
        n = f" ({count[kind]} pages)" if kind in count else ""
        print(f"  {name + n:42s} {s:7.2f} s  {100 * s / total:5.1f} %")
    print(f"  {'total':42s} {total:7.2f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[60.0, 5.0])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is shown")
    ap.add_argument("--stages", action="store_true", help="also print where the time goes")
    a = ap.parse_args(argv)
    exe = str(Path(sys.executable).with_name("hinge-imu"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in a.minutes:
            rec = recording(minutes)
            read = f"import pandas; pandas.read_csv({str(rec)!r}, comment='#')"
            out = f"{tmp}/{minutes:g}"
            cmds = {
                "pandas.read_csv(F, comment='#')": [sys.executable, "-c", read],
                "hinge-imu report F --out D": [exe, "report", str(rec), "--out", out],
            }
            runs: dict[str, list[tuple[float, float, int, float]]] = {n: [] for n in cmds}
            for _ in range(a.repeat):
                for name, cmd in cmds.items():
                    runs[name].append(measure(cmd))
            base = min(r[0] for r in runs["pandas.read_csv(F, comment='#')"])
            n_files = sum(1 for _ in Path(out).iterdir())
            for name, r in runs.items():
                wall, rss, rc, cpu = min(r, key=lambda x: x[0])
                rows.append((f"{minutes:g} min", name, wall, wall / base, rss, cpu, rc))
            rows.append((f"{minutes:g} min", f"  ({rec.stat().st_size / 1e6:.0f} MB file, "
                         f"{n_files} files written)", None, None, None, None, None))  # fmt: skip
    print(f"\nrecordings: SIMULATED, 3 sensors × 100 Hz; best of {a.repeat} interleaved runs")
    print(
        f"{'rec':7s} {'command':34s} {'wall s':>8s} {'× pandas':>9s} {'max RSS MB':>11s}"
        f" {'CPU s':>7s} {'exit':>5s}"
    )
    for rec_name, name, wall, ratio, rss, cpu, rc in rows:
        if wall is None:
            print(f"{rec_name:7s} {name}")
            continue
        print(f"{rec_name:7s} {name:34s} {wall:8.2f} {ratio:9.2f} {rss:11.0f} {cpu:7.2f} {rc:5d}")
    print(TARGETS)
    if a.stages:
        with tempfile.TemporaryDirectory() as tmp:
            stages(recording(a.minutes[0]), Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
