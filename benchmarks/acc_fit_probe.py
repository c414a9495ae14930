"""Probe (SIMULATED data, not part of the analysis): can each accelerometer's
per-axis scale and offset be estimated from the recording itself, and what
would correcting them do to the angles?

The method (docs/analysis.md, Limits, "Accelerometer offsets and scale
errors"): between two rests the velocity does not change, so the specific
force, turned into the frame the sensor had at the first rest by the
bias-free gyro alone (strapdown over the seconds between them), averages to
gravity as read at that rest; and at every rest its magnitude is g. With
``f = k * m - p`` (``m`` the reading, ``k`` = 1/scale per axis, ``p`` =
``k`` * offset) both are linear in (``k``, ``p``); the magnitude is taken
linearised and iterated, and a prior pulls toward scale 1 (±10 %) and
offset 0 (±0.5 m/s²). A rest here is a quiet stretch (``stance.quiet``) of
0.3 s or more whose smoothed bias-free rate stays under 3 °/s; pairs more
than 15 s apart (gyro drift) or without movement between are skipped, and
a sensor with fewer than ``--min-pairs`` pairs is left as it is.

Per session it fits every sensor, then analyses the recording three ways —
as recorded, with the fitted correction, with the simulator's own errors
removed (oracle) — and prints each angle's mean |error| per condition::

    nice -n 10 .venv/bin/python benchmarks/acc_fit_probe.py --seeds 200,201
    .venv/bin/python benchmarks/acc_fit_probe.py --conditions stance_still --seeds 200 --params

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import METRICS, SHORT, real_config

G_MPS2 = 9.81
#: Rests: quiet for this long, s, and turning under this, deg/s.
REST_MIN_S, REST_GYRO_DPS = 0.3, 3.0
#: Rest pairs further apart than this are skipped (gyro drift), s …
PAIR_MAX_S = 15.0
#: … and so are pairs without this much turning between them, deg/s.
PAIR_MOVE_DPS = 30.0
#: Prior: scale 1 ± this, offset 0 ± this (m/s²); what a rest pair says, m/s².
PRIOR_SCALE, PRIOR_OFFSET_MPS2, PAIR_SIGMA_MPS2 = 0.1, 0.5, 0.05
CONDITIONS = (
    "stance_still,stance_swaying,stance_walk_in,stance_end_only,"
    "tempo_fast,tempo_slow,tempo_mixed,left_thigh,bad_board_thigh"
)


def strapdown(gyr_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Rotation (N, 3, 3) from each sample's sensor frame to the first's, gyro only."""
    from hinge_imu.core.angles import rotvec_to_matrix

    out = np.empty((gyr_dps.shape[0], 3, 3))
    r = np.eye(3)
    for i, w in enumerate(gyr_dps / rate_hz):
        out[i] = r
        r = r @ rotvec_to_matrix(w)
    return out


def fit(acc: np.ndarray, gyr_free_dps: np.ndarray, valid: np.ndarray, rate_hz: float) -> Any:
    """(k (3,), p (3,), rest pairs used) for ``f = k * acc - p``."""
    from hinge_imu.core.calibration_settings import CalibrationSettings
    from hinge_imu.core.stance import quiet, runs

    q, smooth = quiet(acc, gyr_free_dps, rate_hz, CalibrationSettings())
    q &= (np.linalg.norm(smooth, axis=1) < REST_GYRO_DPS) & valid
    rests = [(a, b) for a, b in runs(q) if b - a >= round(REST_MIN_S * rate_hz)]
    rot = strapdown(gyr_free_dps, rate_hz)
    rows = []
    for (a0, a1), (b0, b1) in itertools.pairwise(rests):
        t = (b0 - a1) / rate_hz
        moved = np.abs(gyr_free_dps[a1:b0]).max(initial=0.0) >= PAIR_MOVE_DPS
        if not (0.2 < t <= PAIR_MAX_S and moved and valid[a1:b0].all()):
            continue
        ra, rb = rot[(a0 + a1) // 2], rot[(b0 + b1) // 2]
        ma, mb = acc[a0:a1].mean(axis=0), acc[b0:b1].mean(axis=0)
        seg = rot[a1:b0]
        # the mean specific force between the rests, and the next rest, equal gravity at the first
        between = np.hstack([(seg * acc[a1:b0][:, None, :]).mean(0) - ra * ma, ra - seg.mean(0)])
        rows += [between * np.sqrt(min(t, 3.0) / 3.0), np.hstack([rb * mb - ra * ma, ra - rb])]
    if not rows:
        return np.ones(3), np.zeros(3), 0
    pairs = np.vstack(rows) / PAIR_SIGMA_MPS2
    prior = np.diag(np.r_[np.full(3, 1 / PRIOR_SCALE), np.full(3, 1 / PRIOR_OFFSET_MPS2)])
    y_prior = np.r_[np.full(3, 1 / PRIOR_SCALE), np.zeros(3)]
    means = np.array([acc[a:b].mean(axis=0) for a, b in rests])
    x = np.r_[np.ones(3), np.zeros(3)]
    for _ in range(5):  # |k * m - p| = g at every rest, linearised about x
        f = means * x[:3] - x[3:]
        u = f / np.linalg.norm(f, axis=1, keepdims=True)
        mag = np.hstack([u * means, -u]) / PAIR_SIGMA_MPS2
        a = np.vstack([pairs, mag, prior])
        y = np.r_[np.zeros(pairs.shape[0]), np.full(len(means), G_MPS2 / PAIR_SIGMA_MPS2), y_prior]
        x = np.linalg.lstsq(a, y, rcond=None)[0]
    return x[:3], x[3:], len(rows) // 2


def corrected(sim: Any, mode: str, min_pairs: int, params: bool) -> Any:
    from hinge_imu.core.pipeline import calibrate_recording, grid_recording

    rec = sim.recording
    if mode == "none":
        return rec
    sensors = dict(rec.sensors)
    grid = grid_recording(rec) if mode == "fit" else {}
    cal = calibrate_recording(rec, grid=grid) if mode == "fit" else None
    for n, s in rec.sensors.items():
        e = sim.truth["sensors"][n]["errors"]
        k_true = 1.0 / (e["acc_gain"] * np.asarray(e["acc_axis_scale"]))
        p_true = k_true * np.asarray(e["acc_offset_mps2"])
        if mode == "oracle":
            k, p = k_true, p_true
        else:
            assert cal is not None
            g = grid[n]
            bias = cal.bias_track(n).at(g.k0 + np.arange(len(g)))
            k, p, used = fit(g.acc_mps2, g.gyr_dps - bias, ~g.gap, 100.0)
            if params:
                print(
                    f"  {n:10s} pairs {used:3d} scale {np.round(1 / k, 3)} (true "
                    f"{np.round(1 / k_true, 3)}) offset {np.round(p / k, 2)} (true "
                    f"{np.round(e['acc_offset_mps2'], 2)})"
                )
            if used < min_pairs:
                continue
        sensors[n] = replace(s, acc_mps2=s.acc_mps2 * k - p)
    return replace(rec, sensors=sensors)


def run(job: tuple[str, int, int, bool]) -> tuple[str, dict[str, dict[str, list[float]]]]:
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.sim import simulate

    condition, seed, min_pairs, params = job
    sim = simulate(real_config(condition, seed))
    out: dict[str, dict[str, list[float]]] = {}
    for mode in ("none", "fit", "oracle"):
        session = analyse(corrected(sim, mode, min_pairs, params and mode == "fit"))
        errs: dict[str, list[float]] = {m: [] for m in METRICS}
        for tr in sim.truth["reps"]:
            rep = min(session.reps, key=lambda r: abs(r.metrics.t_bottom - tr["t_bottom"]))
            if abs(rep.metrics.t_bottom - tr["t_bottom"]) > 1.0 or not rep.judged:
                continue
            for m in METRICS:
                est, true = rep.metrics.get(m), tr.get(m)
                if est is not None and true is not None:
                    errs[m].append(abs(est - true))
        out[mode] = errs
    return condition, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conditions", default=CONDITIONS)
    ap.add_argument("--seeds", default="200,201")
    ap.add_argument("--min-pairs", type=int, default=6)
    ap.add_argument("--params", action="store_true", help="print the fitted scale and offset")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    jobs = [
        (c, int(s), a.min_pairs, a.params)
        for c in a.conditions.split(",")
        for s in a.seeds.split(",")
    ]
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(run, jobs))
    print("mean |error| °, SIMULATED `real` sessions: as recorded / fitted correction / oracle")
    print(f"{'condition':18s} " + " ".join(f"{SHORT[m]:>18s}" for m in METRICS))
    for c in [*a.conditions.split(","), "ALL"]:
        cells = []
        for m in METRICS:
            v = [
                np.mean(
                    [e for cc, o in results if c in (cc, "ALL") for e in o[mode][m]] or [np.nan]
                )
                for mode in ("none", "fit", "oracle")
            ]
            cells.append(f"{v[0]:5.2f} {v[1]:5.2f} {v[2]:5.2f}")
        print(f"{c:18s} " + " ".join(f"{x:>18s}" for x in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
