"""Live calibration and the live analyser on a SIMULATED session fed in small blocks."""

from __future__ import annotations

import itertools

import numpy as np
from core_sim_helpers import sim

from hinge_imu.core.live_calibration import LiveAnalyser, LiveCalibrator
from hinge_imu.core.rules import load_rules


def _blocks(rec, block_s: float = 0.1):
    """The recording as time-ordered blocks of every sensor, like a live source."""
    t_end = rec.duration_s
    edges = np.arange(0.0, t_end + block_s, block_s)
    for lo, hi in itertools.pairwise(edges):
        for name, st in rec.sensors.items():
            sel = (st.t_s >= lo) & (st.t_s < hi)
            yield name, st.t_s[sel], st.acc_mps2[sel], st.gyr_dps[sel]


def test_live_analyser_calibrates_on_the_first_rep_and_finds_every_rep() -> None:
    s = sim("typical", reps=4, seed=31, mounting="arbitrary", mistakes=[{}, {"back_rounded": None}])
    rec = s.recording
    live = LiveAnalyser(list(rec.sensors), load_rules(), side=rec.side)
    reps, cal_at = [], None
    for name, t, acc, gyr in _blocks(rec):
        out = live.update(name, t, acc, gyr)
        if out.calibration is not None:
            cal_at = float(t[-1])
        reps += out.step.reps
    reps += live.finish().step.reps
    first = s.truth["reps"][0]
    assert cal_at is not None and cal_at < first["t_end"] + 2.0
    assert len(reps) == 4
    assert [r.judgement["back_rounded"].fired for r in reps] == [False, True, False, False]
    for r, tr in zip(reps, s.truth["reps"], strict=True):
        assert abs(r.metrics.t_bottom - tr["t_bottom"]) < 0.2


def test_live_calibrator_waits_for_a_stance() -> None:
    cal = LiveCalibrator(["pelvis"])
    t = np.arange(0, 5, 0.01)
    gyr = np.stack([50 * np.sin(3 * t), np.zeros_like(t), np.zeros_like(t)], axis=1)
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    assert cal.update("pelvis", t, acc, gyr) is None  # always moving: no stance
    assert cal.calibration is None
