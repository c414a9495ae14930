"""How today's analysis does on REAL recordings of people (third-party datasets).

Not run in CI: the data is not ours to ship. Fetch it yourself, put it
anywhere outside the repository, and point this script at it:

* **squat-rt** — ``git clone https://github.com/choijaeh01/Squat-Realtime-Classifier``;
  give ``--squat-rt <clone>/squat_classifier_ssl/data``. 6 people × 5 squat
  forms × 2 sets (+ 6 longer sets of unlabelled form), waist/thigh/calf IMUs,
  every rep's window marked by hand. No licence file: all rights reserved by
  its authors; use it locally for measuring, never commit it.
* **ipol-gait** — ``git clone https://github.com/CyrilVoisard/ipol_dataset_1``;
  give ``--gait <clone>/GaitData``. 110 trials of 19 people standing, walking
  10 m, turning and walking back, lower-back and foot IMUs, footsteps marked.
  Repository licence: AGPL-3.0.

With ``--data-root DIR`` holding ``squat-rt/`` and ``ipol-gait/`` clones
(or ``$HINGE_IMU_REAL_DATA``) both are found. ``--write OUT`` also writes
every converted recording as a hinge-imu ``.csv.gz`` (for ``hinge-imu
analyse``); OUT must be a new or empty folder outside the data.

Prints, per dataset and group: rep counts against the hand labels (a found rep
matches a label when its bottom lies in the labelled window), recordings
refused and why, how often ``squatting`` fires on these squats (and the form
rules the classes suggest), reps found while walking, and what the people did
before their first rep (how long until it, how much the gyros read then).
Neither dataset carries a reference angle (no motion capture), so angle
accuracy is not checked; see docs/benchmarks.md for what else is not.

Usage::

    nice -n 10 .venv/bin/python benchmarks/real_data.py --data-root /work/data
    .venv/bin/python benchmarks/real_data.py --squat-rt DIR --per-set

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_data_convert as conv

#: Rules whose firing the squat-rt classes speak to (every rep there is a squat).
FORM_RULES = ("squatting", "knees_caving", "shallow_hinge", "knees_forward", "no_lockout")
#: Rep metrics whose medians the rules table shows: (metric, heading, width).
MEDIANS = (
    ("hip_flexion_peak", "hip peak°", 9),
    ("thigh_inclination_bottom", "thigh btm°", 10),
    ("hip_flexion_lockout", "hip lock°", 9),
    ("pelvic_tilt_lockout", "tilt lock°", 10),
    ("knee_cave", "cave°", 6),
)


def _match(bottoms_s: list[float], windows_s: tuple[tuple[float, float], ...]) -> dict[str, int]:
    """Found reps against labelled windows, by where each found rep's bottom lies.

    ``matched``: windows holding at least one bottom (each window counts once);
    ``split``: windows holding two or more (one rep counted as several);
    ``outside``: bottoms in no window.
    """
    per = [sum(lo <= t < hi for t in bottoms_s) for lo, hi in windows_s]
    outside = sum(not any(lo <= t < hi for lo, hi in windows_s) for t in bottoms_s)
    return {
        "matched": sum(n > 0 for n in per),
        "split": sum(n > 1 for n in per),
        "outside": outside,
    }


Job = tuple[str, str, str, str, str, float]


def _settings(min_stance_s: float) -> Any:
    """Today's defaults, or with a shorter shortest stance (an experiment)."""
    from dataclasses import replace

    from hinge_imu.core.stream import AnalysisSettings

    st = AnalysisSettings()
    if min_stance_s > 0:
        st = replace(st, calibration=replace(st.calibration, min_stance_s=min_stance_s))
    return st


def run_one(job: Job) -> dict[str, Any]:
    """Convert and analyse one set/trial; return what the tables need."""
    from hinge_imu import analyse
    from hinge_imu.errors import HingeImuError

    kind, a, b, group, write_dir, min_stance_s = job
    try:
        if kind == "squat-rt":
            lr = conv.read_squat_rt_set(Path(a), Path(b) if b else None, group)
        else:
            lr = conv.read_ipol_trial(Path(a), b)
    except conv.DatasetError as err:
        return {"name": f"{kind}/{Path(a).name}", "group": group, "error": str(err)}
    out: dict[str, Any] = {
        "name": lr.name,
        "dataset": kind,
        "group": group,
        "expected": lr.expected_reps,
        "labelled": bool(lr.reps_s) or kind != "squat-rt",
        "steps": lr.steps,
        "first_motion_s": lr.first_motion_s,
        "duration_s": lr.recording.duration_s,
        **conv.rest_stats(lr),
        **conv.longest_still(lr),
    }
    if write_dir:
        from hinge_imu import write_recording

        path = Path(write_dir) / (lr.name.replace("/", "__") + ".csv.gz")
        try:
            write_recording(path, lr.recording)
        except (OSError, HingeImuError) as err:
            return {"name": lr.name, "group": group, "error": f"{path}: not written ({err})"}
    t0 = time.perf_counter()
    try:
        s = analyse(lr.recording, settings=_settings(min_stance_s))
    except HingeImuError as err:
        out.update(refused=err.message, analyse_s=time.perf_counter() - t0)
        return out
    bottoms = [r.metrics.t_bottom for r in s.reps]
    out.update(
        refused="",
        analyse_s=time.perf_counter() - t0,
        found=len(s.reps),
        judged=sum(r.judged for r in s.reps),
        **_match(bottoms, lr.reps_s),
        not_judged=Counter(r.not_judged_reason for r in s.reps if r.not_judged_reason),
        fired={rid: [r.judgement[rid].fired for r in s.reps] for rid in FORM_RULES},
        **{key: [r.metrics.get(key) for r in s.reps] for key, _h, _w in MEDIANS},
        stance={n: round(c.stance_s, 2) for n, c in s.calibration.items()},
        calibration=next(iter(s.calibration.values())).kind,
        cal_not_ok=[n for n, c in s.calibration.items() if not c.ok],
        warnings=list(s.warnings),
    )
    return out


def _jobs(args: argparse.Namespace) -> list[Job]:
    root = args.data_root or os.environ.get("HINGE_IMU_REAL_DATA")
    squat = args.squat_rt or (Path(root) / "squat-rt/squat_classifier_ssl/data" if root else None)
    gait = args.gait or (Path(root) / "ipol-gait/GaitData" if root else None)
    jobs: list[Job] = []
    w, ms = str(args.write or ""), float(args.min_stance_s)
    if squat is not None and Path(squat).is_dir():
        for csv, meta, group in conv.squat_rt_sets(Path(squat)):
            jobs.append(("squat-rt", str(csv), str(meta or ""), group, w, ms))
    elif args.squat_rt:
        raise conv.DatasetError(f"{squat}: not a folder")
    if gait is not None and Path(gait).is_dir():
        for code in conv.ipol_trials(Path(gait)):
            jobs.append(("ipol-gait", str(gait), code, "walking", w, ms))
    elif args.gait:
        raise conv.DatasetError(f"{gait}: not a folder")
    return jobs[: args.limit] if args.limit else jobs


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    –"


def _med(xs: list[float | None], width: int, digits: int) -> str:
    """Median of the finite values, right-aligned in ``width``; – when none."""
    vals = [x for x in xs if x is not None and x == x]
    return f"{statistics.median(vals):{width}.{digits}f}" if vals else f"{'–':>{width}}"


def _groups(res: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in res:
        groups[(r["dataset"], r["group"])].append(r)
    return groups


def print_counts(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print("\nRep counts against the hand labels (analysed sets only)")
    print(
        f"{'dataset':<10} {'group':<16} {'sets':>4} {'refused':>7} {'labelled':>8} "
        f"{'found':>5} {'judged':>6} {'matched':>7} {'split':>5} {'outside':>7} "
        f"{'recall':>6} {'precis.':>7} {'exact':>6}"
    )
    for (ds, g), rs in groups.items():
        ok = [r for r in rs if not r["refused"]]
        lab = sum(r["expected"] for r in ok)
        found = sum(r["found"] for r in ok)
        hit = sum(r["matched"] for r in ok)
        exact = sum(r["found"] == r["expected"] for r in ok)
        rec = f"{hit / lab:6.2f}" if lab else "     –"
        prec = f"{hit / found:7.2f}" if found and lab else "      –"
        print(
            f"{ds:<10} {g:<16} {len(rs):>4} {len(rs) - len(ok):>7} {lab:>8} "
            f"{found:>5} {sum(r['judged'] for r in ok):>6} {hit:>7} "
            f"{sum(r['split'] for r in ok):>5} {sum(r['outside'] for r in ok):>7} "
            f"{rec} {prec} {_pct(exact, len(ok))}"
        )
    print("\nCalibrated on (analysed sets: stance / short_stance / upright)")
    for (ds, g), rs in groups.items():
        kinds = Counter(r["calibration"] for r in rs if not r["refused"])
        n = [kinds[k] for k in ("stance", "short_stance", "upright")]
        print(f"{ds:<10} {g:<16} {n[0]:>4} / {n[1]:>4} / {n[2]:>4}")
    print("\nRefused recordings, by reason")
    reasons = Counter((ds, r["refused"]) for (ds, _g), rs in groups.items() for r in rs)
    for (ds, why), n in reasons.most_common():
        if why:
            print(f"  {n:>4}  {ds:<10} {why}")


def print_rest(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print("\nBefore the first labelled movement (all sets; medians over sets)")
    print(
        f"{'dataset':<10} {'group':<16} {'to rep 1 s':>10} {'< 1 s':>5} "
        f"{'gyro bias °/s':>13} {'jitter °/s':>10}  |acc| at rest, g"
    )
    for (ds, g), rs in groups.items():
        short = sum(r["first_motion_s"] < 1.0 for r in rs)
        print(
            f"{ds:<10} {g:<16} {_med([r['first_motion_s'] for r in rs], 10, 2)} {short:>5} "
            f"{_med([r['rest_bias_dps'] for r in rs], 13, 1)} "
            f"{_med([r['rest_jitter_dps'] for r in rs], 10, 1)}  "
            + " ".join(
                f"{n} {_med([r['rest_acc_g'].get(n) for r in rs], 4, 2).strip()}"
                for n in sorted({n for r in rs for n in r["rest_acc_g"]})
            )
        )


def print_still(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print(
        "\nLongest still time anywhere, every sensor under a gyro threshold "
        "(our own test): median s / sets with ≥ 1 s"
    )
    heads = " ".join(f"{f'< {thr:g} °/s':>13}" for thr in conv.STILL_DPS)
    print(f"{'dataset':<10} {'group':<16} {'sets':>4} {heads}")
    for (ds, g), rs in groups.items():
        cells = []
        for thr in conv.STILL_DPS:
            vals = [r[f"still_{thr:g}"] for r in rs]
            cells.append(f"{_med(vals, 6, 2)} / {sum(v >= 1.0 for v in vals):>3}")
        print(f"{ds:<10} {g:<16} {len(rs):>4} {' '.join(f'{c:>13}' for c in cells)}")


def print_rules(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    squats = {g: rs for (ds, g), rs in groups.items() if ds == "squat-rt"}
    if not squats:
        return
    print("\nRules on the squat-rt reps: fired/assessed (every rep is a squat)")
    head = " ".join(f"{rid[:14]:>14}" for rid in FORM_RULES)
    meds = " ".join(f"{h:>{w}}" for _k, h, w in MEDIANS)
    print(f"{'group':<16} {'reps':>5} {head} {meds}")
    not_judged: Counter[str] = Counter()
    for g, rs in squats.items():
        ok = [r for r in rs if not r["refused"]]
        cells = []
        for rid in FORM_RULES:
            vals = [v for r in ok for v in r["fired"][rid]]
            fired, assessed = sum(v is True for v in vals), sum(v is not None for v in vals)
            share = f"{100 * fired / assessed:4.0f}%" if assessed else "    –"
            cells.append(f"{f'{fired}/{assessed}':>9}{share}")
        meds = " ".join(_med([v for r in ok for v in r[key]], w, 1) for key, _h, w in MEDIANS)
        print(f"{g:<16} {sum(r['found'] for r in ok):>5} {' '.join(cells)} {meds}")
        for r in ok:
            not_judged.update(r["not_judged"])
    for why, k in not_judged.most_common():
        print(f"  not judged: {k} reps — {why}")


def print_walking(res: list[dict[str, Any]]) -> None:
    gait = [r for r in res if r["dataset"] == "ipol-gait"]
    if not gait:
        return
    ok = [r for r in gait if not r["refused"]]
    with_reps = [r for r in ok if r["found"]]
    print("\nWalking (ipol-gait: stand, walk 10 m, turn, walk back; no reps in it)")
    print(
        f"  trials {len(gait)}, refused {len(gait) - len(ok)}, analysed {len(ok)} with "
        f"{sum(r['steps'] for r in ok)} labelled footsteps: reps found "
        f"{sum(r['found'] for r in ok)} ({sum(r['judged'] for r in ok)} judged) "
        f"in {len(with_reps)} trials"
    )
    bad = Counter(n for r in ok for n in r["cal_not_ok"])
    print(f"  calibration not ok: {', '.join(f'{n} in {k}' for n, k in bad.items()) or 'none'}")


def print_tables(res: list[dict[str, Any]], per_set: bool) -> None:
    for r in res:
        if "error" in r:
            print(f"not converted: {r['error']}")
    res = [r for r in res if "error" not in r]
    groups = _groups(res)
    print_counts(groups)
    print_rest(groups)
    print_still(groups)
    print_rules(groups)
    print_walking(res)
    if per_set:
        print("\nPer set")
        for r in res:
            what = r["refused"] or (
                f"found {r['found']}/{r['expected']} ({r['judged']} judged), "
                f"matched {r['matched']}, split {r['split']}, outside {r['outside']}, "
                f"stance {max(r['stance'].values(), default=0):.2f} s"
                + (f", calibration not ok: {','.join(r['cal_not_ok'])}" if r["cal_not_ok"] else "")
            )
            print(f"  {r['name']:<34} rep 1 at {r['first_motion_s']:5.2f} s  {what}")
    # One count per recording: the analysis may repeat a warning within one.
    warn = Counter(w for r in res if not r["refused"] for w in set(r["warnings"]))
    if warn:
        print("\nMost common warnings (recordings giving each)")
        for w, n in warn.most_common(6):
            print(f"  {n:>4}  {w}")
    print(
        "\nNot checked (the data cannot): angles (no reference angle in either dataset); "
        "upper-back and head rules (no such sensors); knee cave's sign (the thigh side is "
        "not stated, right assumed); walking with a thigh sensor (ipol-gait has lower back "
        "and feet only)."
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", type=Path, help="folder with squat-rt/ and ipol-gait/ clones")
    p.add_argument("--squat-rt", type=Path, help="squat_classifier_ssl/data of squat-rt")
    p.add_argument("--gait", type=Path, help="GaitData folder of ipol-gait")
    p.add_argument("--write", type=Path, help="also write the converted recordings here")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--limit", type=int, default=0, help="only the first N recordings")
    p.add_argument("--per-set", action="store_true", help="print one line per set too")
    p.add_argument(
        "--min-stance-s",
        type=float,
        default=0.0,
        help="experiment: accept a still stance this short, s (default: the analysis' own)",
    )
    args = p.parse_args(argv)
    try:
        jobs = _jobs(args)
    except conv.DatasetError as err:
        print(f"real_data: error: {err}", file=sys.stderr)
        return 2
    if not jobs:
        print(
            "real_data: no data found; fetch the datasets (see this script's docstring or "
            "docs/benchmarks.md) and give --data-root, --squat-rt or --gait",
            file=sys.stderr,
        )
        return 2
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        if any(args.write.iterdir()):
            print(f"real_data: error: {args.write}: not empty", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        res = list(pool.map(run_one, jobs, chunksize=4))
    stance = f"{args.min_stance_s:g} s (experiment)" if args.min_stance_s > 0 else "default"
    print(
        f"REAL recordings of people: {len(res)} in {time.perf_counter() - t0:.1f} s "
        f"(shortest stance: {stance})"
    )
    print_tables(res, args.per_set)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
