"""``hinge-imu analyse``: reps and verdicts of one recording, or of a folder of them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from hinge_imu.core.results import Session

NAME = "analyse"
HELP = "find and judge every rep of a recording (or of every recording in a folder)"
ORDER = 10

EXIT_SOME_FAILED = 1
#: Files hinge-imu itself writes next to recordings; a folder run skips them.
_OUTPUTS = (".reps.csv", ".angles.csv", ".truth_angles.csv")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recording", help="a recording (.csv or .csv.gz), or a folder of them")
    p.add_argument(
        "--rules", metavar="FILE", help="rules TOML (default: the rules of docs/rules.md)"
    )
    p.add_argument("--reps-csv", metavar="FILE", help="write the rep report (docs/outputs.md)")
    p.add_argument("--angles-csv", metavar="FILE", help="write the angle time series")
    p.add_argument(
        "--out", metavar="DIR", help="folder mode: write DIR/<name>.reps.csv and .angles.csv"
    )
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="folder mode: N processes")


def _stem(path: Path) -> str:
    from hinge_imu.conventions import recording_stem

    return recording_stem(path.name) or path.stem


def write_reps_csv(session: Session, path: str | os.PathLike[str]) -> None:
    """``session.reps_frame().to_csv(fh, index=False)``, byte for byte, without pandas."""
    from hinge_imu.atomic import atomic_write
    from hinge_imu.csv_table import csv_text

    with atomic_write(path, newline="") as fh:
        fh.write(csv_text(session.reps_columns()))


def write_angles_csv(session: Session, path: str | os.PathLike[str]) -> None:
    """``session.angles.to_csv(fh, index=False, float_format="%.3f", lineterminator="\\n")``,
    byte for byte, without pandas (~0.3 s of a run), a block of rows at a time."""
    from hinge_imu.atomic import atomic_write
    from hinge_imu.csv_table import csv_chunks

    with atomic_write(path, newline="") as fh:
        fh.writelines(csv_chunks(session.angle_table(), float_decimals=3))


def _single_threaded_blas() -> None:
    """One OpenBLAS thread (unless the user chose otherwise), set before numpy loads.

    The analysis only multiplies (N, 3) by (3, …) matrices; waking OpenBLAS's
    worker threads for those costs more than it saves, and on a busy machine
    the main thread stalls waiting for them. Results are bit-identical.
    Folder-mode worker processes inherit the setting.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run(args: argparse.Namespace) -> int:
    from hinge_imu.atomic import refuse_replacing_inputs
    from hinge_imu.errors import HingeImuError

    _single_threaded_blas()

    src = Path(args.recording)
    refuse_replacing_inputs(
        [src, args.rules], {"--reps-csv": args.reps_csv, "--angles-csv": args.angles_csv}
    )
    if args.jobs < 1:
        raise HingeImuError("--jobs must be at least 1")
    if src.is_dir():
        if args.out is None:
            raise HingeImuError("a folder needs --out DIR for the results", src)
        if args.reps_csv or args.angles_csv:
            raise HingeImuError("with a folder use --out, not --reps-csv/--angles-csv", src)
        return _run_folder(src, Path(args.out), args.rules, args.jobs)
    from hinge_imu.commands._analyse_table import print_session
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.core.rules import load_rules

    rules = load_rules(args.rules)
    session = analyse(src, rules)
    if args.reps_csv:
        write_reps_csv(session, args.reps_csv)
    if args.angles_csv:
        write_angles_csv(session, args.angles_csv)
    print_session(session)
    return 0


#: Thread pools the worker processes of folder mode hold at one thread each:
#: the cores are shared out by process, and N processes × M threads on N
#: cores only wait for each other.
_WORKER_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _start_worker() -> None:
    """Folder-mode worker start (or, on Linux, the parent before it forks them):
    one thread per pool (pyarrow's CSV reader's too: two workers each parsing
    on two threads on two cores took ~4 % more CPU), the analysis imported once."""
    for var in _WORKER_THREAD_VARS:
        os.environ[var] = "1"
    import pyarrow

    import hinge_imu.core.pipeline  # noqa: F401  (imported once per worker, not per file)

    pyarrow.set_cpu_count(1)


def _one(job: tuple[str, str, str | None]) -> tuple[str, int, str, tuple[str, ...]]:
    """Worker: analyse one file and write its outputs.

    Returns (name, reps, error line or "", what the reader tolerated, one
    ``FILE:LINE: …`` line each).
    """
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.core.rules import load_rules
    from hinge_imu.errors import HingeImuError
    from hinge_imu.recording.read import read_recording

    path, out, rules_path = job
    p = Path(path)
    try:
        rec = read_recording(p)
        session = analyse(rec, load_rules(rules_path))
        stem = _stem(p)
        write_reps_csv(session, Path(out) / f"{stem}.reps.csv")
        write_angles_csv(session, Path(out) / f"{stem}.angles.csv")
        return p.name, len(session.reps), "", rec.warnings
    except HingeImuError as err:
        return p.name, 0, str(err), ()
    except Exception as err:  # a broken file must not stop the others
        return p.name, 0, f"{p}: {type(err).__name__}: {err}", ()


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for the whole folder, each with one thread per pool.

    On Linux they are forked from this process once it has imported the
    analysis (set to one thread first): a worker starts in milliseconds,
    where a fresh interpreter importing numpy, pandas and scipy took a
    second, a fifth of a 20-file folder's work. Elsewhere (no safe fork)
    they are fresh ("spawn") processes that import it once each.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if not sys.platform.startswith("linux"):
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
        )
    _start_worker()  # this process's pools are the workers' pools
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def _progress_bar(total: int) -> tuple[AbstractContextManager[object], Callable[[], None]]:
    """A progress bar on a terminal (and how to advance it); on a pipe, nothing
    (rich is not even imported: a twentieth of a short folder's start-up)."""
    if not sys.stderr.isatty():
        return nullcontext(), lambda: None
    from rich.progress import Progress

    progress = Progress(transient=False)
    task = progress.add_task("analysing", total=total)
    return progress, lambda: progress.advance(task)


def _run_folder(src: Path, out: Path, rules_path: str | None, jobs: int) -> int:
    from hinge_imu.atomic import refuse_replacing_inputs
    from hinge_imu.core.rules import load_rules
    from hinge_imu.errors import HingeImuError

    load_rules(rules_path)  # a bad rules file fails once, up front
    files = sorted(
        p
        for p in src.iterdir()
        if p.is_file() and p.name.endswith((".csv", ".csv.gz")) and not p.name.endswith(_OUTPUTS)
    )
    if not files:
        raise HingeImuError("no recordings (*.csv, *.csv.gz) in the folder", src)
    outs = {f"--out {o}": o for o in (out / (_stem(p) + e) for p in files for e in _OUTPUTS[:2])}
    refuse_replacing_inputs([*files, rules_path], outs)
    out.mkdir(parents=True, exist_ok=True)
    jobs_list = [(str(p), str(out), rules_path) for p in files]
    failed = 0
    pool = _pool(min(jobs, len(files))) if jobs > 1 else None
    # Every job is handed out before the progress bar's thread starts: on
    # Linux that is when the workers are forked.
    futures = [pool.submit(_one, job) for job in jobs_list] if pool else []
    bar, advance = _progress_bar(len(files))
    with bar:
        if pool is None:
            results = []
            for job in jobs_list:
                results.append(_one(job))
                advance()
        else:
            with pool:
                for fut in futures:
                    fut.add_done_callback(lambda _: advance())
                results = [fut.result() for fut in futures]
    for name, n, err, tolerated in results:
        for line in tolerated:
            print(f"hinge-imu: warning: {line}", file=sys.stderr)
        if err:
            failed += 1
            print(f"hinge-imu: error: {err}", file=sys.stderr)
        else:
            print(f"{name}: {n} reps")
    print(f"{len(files) - failed} of {len(files)} recordings analysed; results in {out}")
    return EXIT_SOME_FAILED if failed else 0
