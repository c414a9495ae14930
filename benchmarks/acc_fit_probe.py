"""Probe (SIMULATED data): the offline accelerometer calibration against an oracle.

The analysis fits each accelerometer's per-axis scale and offset from the
whole recording's rests (``hinge_imu/core/acc_fit.py``; docs/analysis.md,
section 2, "The accelerometer, corrected offline"). Per session this
analyses the recording three ways — without that stage
(``AnalysisSettings(acc_fit=None)``), with it (the default), and with the
simulator's own errors removed from the recording (oracle, stage off) —
and prints each angle's mean |error| per condition; ``--params`` prints
each sensor's fit next to the truth::

    nice -n 10 .venv/bin/python benchmarks/acc_fit_probe.py --seeds 200,201
    .venv/bin/python benchmarks/acc_fit_probe.py --conditions stance_still --seeds 200 --params

Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import METRICS, SHORT, real_config

CONDITIONS = (
    "stance_still,stance_swaying,stance_walk_in,stance_end_only,"
    "tempo_fast,tempo_slow,tempo_mixed,left_thigh,bad_board_thigh"
)


def oracle(sim: Any) -> Any:
    """The recording with the simulator's accelerometer errors taken off."""
    rec = sim.recording
    sensors = dict(rec.sensors)
    for n, s in rec.sensors.items():
        e = sim.truth["sensors"][n]["errors"]
        scale = e["acc_gain"] * np.asarray(e["acc_axis_scale"])
        sensors[n] = replace(s, acc_mps2=(s.acc_mps2 - np.asarray(e["acc_offset_mps2"])) / scale)
    return replace(rec, sensors=sensors)


def analysed(sim: Any, mode: str, params: bool) -> Any:
    from hinge_imu.core.pipeline import analyse
    from hinge_imu.core.stream import AnalysisSettings

    off = AnalysisSettings(acc_fit=None)
    if mode == "none":
        return analyse(sim.recording, settings=off)
    if mode == "oracle":
        return analyse(oracle(sim), settings=off)
    session = analyse(sim.recording)
    if params:
        for n, cal in session.calibration.items():
            e = sim.truth["sensors"][n]["errors"]
            true = e["acc_gain"] * np.asarray(e["acc_axis_scale"])
            scale = np.round(cal.acc_scale or (1.0, 1.0, 1.0), 3)
            offset = np.round(cal.acc_offset_mps2 or (0.0, 0.0, 0.0), 2)
            print(
                f"  {n:10s} {cal.acc_note()}: scale {scale} (true {np.round(true, 3)}) "
                f"offset {offset} (true {np.round(e['acc_offset_mps2'], 2)})"
            )
    return session


def run(job: tuple[str, int, bool]) -> tuple[str, dict[str, dict[str, list[float]]]]:
    from hinge_imu.sim import simulate

    condition, seed, params = job
    sim = simulate(real_config(condition, seed))
    out: dict[str, dict[str, list[float]]] = {}
    for mode in ("none", "fit", "oracle"):
        session = analysed(sim, mode, params)
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
    ap.add_argument("--params", action="store_true", help="print the fitted scale and offset")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    jobs = [(c, int(s), a.params) for c in a.conditions.split(",") for s in a.seeds.split(",")]
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(run, jobs))
    print("mean |error| °, SIMULATED `real` sessions: stage off / on / oracle")
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
