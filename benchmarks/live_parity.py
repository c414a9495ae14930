"""Live vs offline on the ``real`` conditions (SIMULATED data).

For every ``--preset real`` condition of ``benchmarks/accuracy.py`` (2 sets
of ``--reps`` reps, seeds ``0..--seeds-1``) it replays the session into
:class:`~hinge_imu.core.live.LiveAnalyser` in random blocks of 1–40 samples,
as ``tests/test_core_parity.py`` does, analyses it offline, and prints per
condition:

* ``coach``: from which true rep the live analysis is calibrated before the
  rep's bottom (in-rep warnings possible from there: the in-rep monitor
  reads the rep's rows so far at the calibration), median and worst;
* ``same_n``: sessions where live and offline find the same reps (same
  count, bottoms within 0.3 s);
* ``same_iv``: … the same count, each pair's [start, end) overlapping by at
  least half their union (a rep paused in the hole has a flat bottom: its
  deepest sample can land anywhere on it, 0.3–0.6 s apart live and offline
  on the same movement, with the same start, end and verdicts);
* ``verd``: reps whose verdicts differ, rule assessed by both (rules within
  2° of the threshold excepted), or judged by one only, over the reps paired
  (each offline rep with the live rep overlapping it most, as ``same_iv``);
* ``n/a``: reps with a rule assessed by one analysis only (the lockout
  rules are not assessed on a calibration on upright moments);
* ``hip_pk``: mean |live − offline| hip flexion peak over the paired reps,
  deg: the median session and the worst;
* ``truth l/o``: mean |estimate − truth| hip flexion peak, live / offline,
  over the sessions (reps judged, bottoms within 0.6 s of the truth's), deg;
* ``pelv_lo l/o``: … pelvic tilt at the lockout (where the accelerometer's
  scale and offset errors show most: ``core/acc_fit.py``), deg;
* ``pelv_lo``: mean |live − offline| pelvic tilt at the lockout over the
  paired reps, deg: the median session and the worst;
* ``recal``: sessions where live calibrated again.

Usage::

    nice -n 10 .venv/bin/python benchmarks/live_parity.py --jobs 2
    .venv/bin/python benchmarks/live_parity.py --conditions stance_none,stance_none_slow --seeds 10

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import REAL_CONDITIONS, real_config

#: Beyond accuracy.py's: a fast set opening mid-rep, no stop before the first rep.
CONDITIONS = {**REAL_CONDITIONS, "stance_none_fast": {"stance_kind": "none", "tempo": "fast"}}
REAL_CONDITIONS.update(CONDITIONS)

#: Verdicts may differ where either analysis is this close to the threshold, deg.
NEAR_THRESHOLD_DEG = 2.0
#: The same rep: bottoms this close, s.
SAME_REP_S = 0.3
#: … or their [start, end) overlapping by at least this fraction of their union.
SAME_REP_IOU = 0.5


def _iou(a: Any, b: Any) -> float:
    """How much two reps' [t_start, t_end) overlap: intersection over union."""
    lo, hi = max(a.t_start, b.t_start), min(a.t_end, b.t_end)
    union = max(a.t_end, b.t_end) - min(a.t_start, b.t_start)
    return max(0.0, hi - lo) / union if union > 0 else 0.0


def _near(*reps: Any) -> set[str]:
    return {
        v.rule_id
        for rep in reps
        for v in rep.judgement.verdicts
        if v.excess_deg is not None and abs(v.excess_deg) < NEAR_THRESHOLD_DEG
    }


def run(job: tuple[str, int, int, tuple[int, ...] | None, int]) -> dict[str, Any]:
    from hinge_imu.core.live import LiveAnalyser, LiveSettings
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.core.rules import load_rules
    from hinge_imu.errors import HingeImuError
    from hinge_imu.sim import simulate

    try:
        from hinge_imu.samples import random_blocks
    except ImportError:  # an older checkout on PYTHONPATH (before → after): its tests'
        import hinge_imu

        sys.path.insert(0, str(Path(hinge_imu.__file__).resolve().parents[1] / "tests"))
        from test_core_parity import random_blocks

    condition, seed, reps, again, block = job
    s = simulate(replace(real_config(condition, seed), reps=reps, sets=2))
    rec = s.recording
    try:
        offline = analyse(rec).reps
    except HingeImuError:
        offline = ()
    ls = LiveSettings() if again is None else LiveSettings(recalibrate_after_reps=again)  # type: ignore[call-arg]
    live = LiveAnalyser(rec.ordered_sensor_names(), load_rules(), side=rec.side, live=ls)
    live_reps: list[Any] = []
    cal_t: list[float] = []
    newest = 0.0
    for b in random_blocks(rec, seed, block):
        step = live.update(b)
        newest = max(newest, float(b.t_s[-1]))
        if step.calibration is not None:
            cal_t.append(newest)
        live_reps.extend(step.reps)
    step = live.finish()
    if step.calibration is not None:
        cal_t.append(newest)
    live_reps.extend(step.reps)
    truth = s.truth["reps"]
    coach = next(
        (i + 1 for i, tr in enumerate(truth) if cal_t and tr["t_bottom"] >= cal_t[0]),
        len(truth) + 1,
    )
    same = len(live_reps) == len(offline) and all(
        abs(a.metrics.t_bottom - b.metrics.t_bottom) < SAME_REP_S
        for a, b in zip(live_reps, offline, strict=True)
    )
    same_iv = len(live_reps) == len(offline) and all(
        _iou(a.metrics, b.metrics) >= SAME_REP_IOU for a, b in zip(live_reps, offline, strict=True)
    )
    paired = 0
    differ = 0
    unassessed = 0
    hip: list[float] = []
    pelvis: list[float] = []
    for orep in offline:
        lr = max(live_reps, key=lambda r: _iou(r.metrics, orep.metrics), default=None)
        if lr is None or _iou(lr.metrics, orep.metrics) < SAME_REP_IOU:
            continue
        paired += 1
        if lr.judged and orep.judged:
            hip.append(abs(lr.metrics.hip_flexion_peak - orep.metrics.hip_flexion_peak))
            lo, oo = lr.metrics.pelvic_tilt_lockout, orep.metrics.pelvic_tilt_lockout
            if lo is not None and oo is not None:
                pelvis.append(abs(lo - oo))
            pairs = list(zip(lr.judgement.verdicts, orep.judgement.verdicts, strict=True))
            fired = {
                v.rule_id for v, w in pairs if v.assessed and w.assessed and v.fired != w.fired
            }
            differ += bool(fired - _near(lr, orep))
            unassessed += any(v.assessed != w.assessed for v, w in pairs)
        elif lr.judged != orep.judged:
            differ += 1

    def truth_err(reps: Any, angle: str = "hip_flexion_peak") -> float:
        errs = []
        for tr in truth:
            r = min(reps, key=lambda r: abs(r.metrics.t_bottom - tr["t_bottom"]), default=None)
            if r is not None and r.judged and abs(r.metrics.t_bottom - tr["t_bottom"]) < 0.6:
                value = getattr(r.metrics, angle)
                if value is not None and tr.get(angle) is not None:
                    errs.append(abs(value - tr[angle]))
        return float(np.mean(errs)) if errs else float("nan")

    return {
        "condition": condition,
        "err_live": truth_err(live_reps),
        "err_off": truth_err(offline),
        "pelv_live": truth_err(live_reps, "pelvic_tilt_lockout"),
        "pelv_off": truth_err(offline, "pelvic_tilt_lockout"),
        "seed": seed,
        "coach": coach,
        "same": same,
        "same_iv": same_iv,
        "paired": paired,
        "differ": differ,
        "unassessed": unassessed,
        "hip": float(np.mean(hip)) if hip else float("nan"),
        "pelvis": float(np.mean(pelvis)) if pelvis else float("nan"),
        "recal": len(cal_t) - 1,
        "n_live": len(live_reps),
        "n_off": len(offline),
    }


def _row(c: str, rs: list[dict[str, Any]]) -> str:
    coach = [r["coach"] for r in rs]
    hips = [r["hip"] for r in rs if r["hip"] == r["hip"]]
    hip = f"{statistics.median(hips):4.1f}/{max(hips):5.1f}" if hips else "–"
    pds = [r["pelvis"] for r in rs if r["pelvis"] == r["pelvis"]]
    pd = f"{statistics.median(pds):4.2f}/{max(pds):4.2f}" if pds else "–"
    el = [r["err_live"] for r in rs if r["err_live"] == r["err_live"]]
    eo = [r["err_off"] for r in rs if r["err_off"] == r["err_off"]]
    err = f"{np.mean(el) if el else np.nan:4.1f}/{np.mean(eo) if eo else np.nan:4.1f}"
    pl = [r["pelv_live"] for r in rs if r["pelv_live"] == r["pelv_live"]]
    po = [r["pelv_off"] for r in rs if r["pelv_off"] == r["pelv_off"]]
    pelv = f"{np.mean(pl) if pl else np.nan:4.2f}/{np.mean(po) if po else np.nan:4.2f}"
    paired = sum(r["paired"] for r in rs)
    return (
        f"{c:18s} {statistics.median(coach):4.0f}/{max(coach):3d} "
        f"{sum(r['same'] for r in rs):3d}/{len(rs):<3d} "
        f"{sum(r['same_iv'] for r in rs):3d}/{len(rs):<3d} "
        f"{sum(r['differ'] for r in rs):3d}/{paired:<3d} "
        f"{sum(r['unassessed'] for r in rs):3d}/{paired:<3d} {hip:>11s} {err:>10s} "
        f"{pd:>10s} {pelv:>11s} {sum(r['recal'] > 0 for r in rs):3d}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--conditions", default=None, help="comma-separated (default: all but 30 min)")
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--reps", type=int, default=5, help="reps per set (2 sets)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument(
        "--again", default=None, help="LiveSettings.recalibrate_after_reps, e.g. 3,8 ('' = none)"
    )
    p.add_argument(
        "--block-samples",
        type=int,
        default=40,
        help="blocks of 1 to this many samples per sensor (a BLE packet holds ~1–10)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="one line per session too")
    a = p.parse_args(argv)
    conds = (
        a.conditions.split(",") if a.conditions else [c for c in CONDITIONS if c != "warming_30min"]
    )
    again = None if a.again is None else tuple(int(x) for x in a.again.split(",") if x)
    jobs = [(c, seed, a.reps, again, a.block_samples) for c in conds for seed in range(a.seeds)]
    if a.jobs > 1:
        with ProcessPoolExecutor(a.jobs) as ex:
            results = list(ex.map(run, jobs))
    else:
        results = [run(j) for j in jobs]
    print(
        f"SIMULATED data: live (random blocks of 1–{a.block_samples} samples) vs offline, "
        "`real` preset"
    )
    head = ("condition", "coach", "same_n", "same_iv", "verd", "n/a", "hip_pk", "truth l/o")
    print(f"{head[0]:18s} {head[1]:>9s} {head[2]:>7s} {head[3]:>7s} {head[4]:>7s} ", end="")
    print(f"{head[5]:>7s} {head[6]:>11s} {head[7]:>10s} {'pelv_lo':>10s} ", end="")
    print(f"{'pelv_lo l/o':>11s} {'recal':>6s}")
    for c in conds:
        rs = [r for r in results if r["condition"] == c]
        print(_row(c, rs))
        if a.verbose:
            for r in rs:
                print(
                    f"   seed {r['seed']}: coach {r['coach']} reps {r['n_live']}/{r['n_off']} "
                    f"same {r['same']}/{r['same_iv']} differ {r['differ']}/{r['paired']} "
                    f"n/a {r['unassessed']} hip {r['hip']:.1f} pelvic lockout "
                    f"{r['pelvis']:.2f} (vs truth: live "
                    f"{r['err_live']:.1f}, offline {r['err_off']:.1f}; pelvic lockout "
                    f"{r['pelv_live']:.2f}, {r['pelv_off']:.2f}) recal {r['recal']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
