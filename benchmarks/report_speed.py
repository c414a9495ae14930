"""Speed and memory of ``hinge-imu report`` on a 1-hour and a 5-minute recording.

The recordings are the SIMULATED ones of ``speed.py`` (``typical`` sensors,
arbitrary mounting, 3 sensors × 100 Hz, cached under ``benchmarks/.cache/``).
The report (the real CLI, ``hinge-imu report F --out D``: PDF, the PNGs of
the session pages, CSVs) is timed side by side with a cold
``pandas.read_csv(F, comment="#")`` of the same file and with ``--jobs 1``
and ``--jobs 2`` (one or two processes drawing; the default picks one by
the machine's load), the runs interleaved, each in a fresh
process; ``--before EXE`` adds another ``hinge-imu`` (e.g. the main
branch's, ``/work/main/.venv/bin/hinge-imu``) to the same rounds, for a
before → after under the same load. Targets: on the 1-hour recording
≤ 15× the pandas read and ≤ 600 MB peak (max RSS of the largest process);
on the 5-minute one ≤ 3 s.

``--stages`` also draws the report once in this process (one process,
warm imports) and prints where the time goes: the analysis, each kind of
page (build, PDF, PNG), joining the PDF, the CSV files, writing.

Usage::

    .venv/bin/python benchmarks/report_speed.py [--minutes 60 5] [--repeat 1] [--stages]
        [--before /work/main/.venv/bin/hinge-imu]

Prints tables (with the load average); asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from speed import measure, recording

TARGETS = "targets: 60 min ≤ 15.0 × pandas and ≤ 600 MB; 5 min ≤ 3.0 s"
PANDAS = "pandas.read_csv(F, comment='#')"


def stages(rec: Path, out: Path) -> None:
    """Where the time of one report goes, measured in this process (warm imports)."""
    t0 = time.perf_counter()
    import hinge_imu.report.build as build
    from hinge_imu.atomic import atomic_write
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.report.pdf import PdfDocument, png_bytes

    spent: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    t1 = time.perf_counter()
    spent["imports (report)"] = t1 - t0
    session = analyse(rec)
    t2 = time.perf_counter()
    spent["analysis"] = t2 - t1
    rss_analysed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files: dict[str, bytes] = {}
    with PdfDocument("benchmark", True) as pdf:
        for page in build.report_plan([session]):
            kind = page.path.split("_", 1)[1].rstrip("_0123456789")
            a = time.perf_counter()
            fig = page.draw()
            b = time.perf_counter()
            pdf.add(fig)
            c = time.perf_counter()
            if page.png:
                files[page.path + ".png"] = png_bytes(fig)
                spent[f"{kind}: PNG"] += time.perf_counter() - c
            spent[f"{kind}: build"] += b - a
            spent[f"{kind}: PDF"] += c - b
            count[kind] += 1
        c = time.perf_counter()
        files["report.pdf"] = pdf.close()
        spent["PDF: fonts, close"] = time.perf_counter() - c
    t3 = time.perf_counter()
    files.update(build._csv_files([session], build.ReportSettings()))
    t4 = time.perf_counter()
    spent["CSV files"] = t4 - t3
    for rel, content in files.items():
        with atomic_write(out / rel, "wb") as fh:
            fh.write(content)
    spent["writing (atomic, fsync)"] = time.perf_counter() - t4
    total = sum(spent.values())
    print(f"\nwhere the time goes ({rec.name}, one process, {sum(count.values())} pages):")
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        kind = name.split(":")[0]
        n = f" ({count[kind]} pages)" if kind in count else ""
        print(f"  {name + n:42s} {s:7.2f} s  {100 * s / total:5.1f} %")
    print(f"  {'total':42s} {total:7.2f} s")
    rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"max RSS of this process: {rss_analysed:.0f} MB after the analysis, {rss_end:.0f} MB "
        f"after every page and file ({sum(len(v) for v in files.values()) / 1e6:.1f} MB of files)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[60.0, 5.0])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is shown")
    ap.add_argument("--stages", action="store_true", help="also print where the time goes")
    ap.add_argument("--before", metavar="EXE", help="another hinge-imu to run alongside")
    a = ap.parse_args(argv)
    exe = str(Path(sys.executable).with_name("hinge-imu"))
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in a.minutes:
            rec = recording(minutes)
            read = f"import pandas; pandas.read_csv({str(rec)!r}, comment='#')"
            out = f"{tmp}/{minutes:g}"
            cmds = {PANDAS: [sys.executable, "-c", read]}
            if a.before:
                cmds["before: report F --out D"] = [
                    a.before,
                    "report",
                    str(rec),
                    "--out",
                    out + "b",
                ]
            cmds["hinge-imu report F --out D"] = [exe, "report", str(rec), "--out", out]
            for jobs in ("1", "2"):
                cmd = [exe, "report", str(rec), "--out", f"{out}j{jobs}", "--jobs", jobs]
                cmds[f"  … --jobs {jobs}"] = cmd
            runs: dict[str, list[tuple[float, float, int, float]]] = {n: [] for n in cmds}
            for _ in range(a.repeat):
                for name, cmd in cmds.items():
                    runs[name].append(measure(cmd))
            base = min(r[0] for r in runs[PANDAS])
            for name, r in runs.items():
                wall, rss, rc, cpu = min(r, key=lambda x: x[0])
                rows.append((f"{minutes:g} min", name, wall, wall / base, rss, cpu, rc))
            written = {
                d: sum(1 for _ in Path(out + d).iterdir())
                for d in ("", "b")
                if Path(out + d).is_dir()
            }
            note = ", ".join(
                f"{n} files written{' before' if d else ''}" for d, n in written.items()
            )
            rows.append((f"{minutes:g} min", f"  ({rec.stat().st_size / 1e6:.0f} MB file; {note})",
                         None, None, None, None, None))  # fmt: skip
    load_after = os.getloadavg()
    print(f"\nrecordings: SIMULATED, 3 sensors × 100 Hz; best of {a.repeat} interleaved runs")
    print(
        f"load average (1, 5, 15 min): before {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after {', '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} cores"
    )
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
