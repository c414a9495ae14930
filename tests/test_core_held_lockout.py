"""The stance is standing tall, not a rep's lockout held between reps (issue 12).

SIMULATED ``real`` sessions: after a swaying stance too short to calibrate
on, the person starts the set at once, so the first still periods are the
lockouts held between reps (pelvis tucked 1.5–4° back). Calibrated on one,
every pelvic tilt read that tuck as zero: pelvic lockout MAE 2.3° on the
benchmark's swaying conditions.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
from core_sim_helpers import true_gyro_bias_dps

from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.held_lockout import held_lockouts
from hinge_imu.core.pipeline import analyse, calibrate_recording
from hinge_imu.core.stream import AnalysisSettings
from hinge_imu.sim import SimConfig, simulate
from hinge_imu.sim.config import IMPERFECTION_PRESETS, without


@lru_cache(maxsize=4)
def _swaying(seed: int) -> Any:
    imp = without(IMPERFECTION_PRESETS["real"], ["slip", "loss"])
    cfg = SimConfig.preset(
        "real", seed=seed, sets=2, reps=4, mounting="arbitrary", imperfections=imp
    )
    return simulate(cfg)


def test_a_lockout_held_between_reps_is_not_taken_as_the_stance() -> None:
    for seed in (0, 1):
        s = _swaying(seed)
        assert s.truth["calibration_stance"]["kind"] == "swaying"
        session = analyse(s.recording)
        cal = session.calibration["pelvis"]
        ta = s.truth_angles
        w = (ta.t >= cal.stance_start_s) & (ta.t <= cal.stance_end_s)
        # the stance stands tall (the neutral pose), not tucked as at a lockout
        assert abs(float(ta.pelvic_tilt[w].mean())) < 0.5, (seed, cal.stance_start_s)
        assert any("lockouts held between reps" in m for m in session.warnings)
        errs = []
        for tr in s.truth["reps"]:
            rep = min(session.reps, key=lambda r: abs(r.metrics.t_bottom - tr["t_bottom"]))
            if rep.judged and rep.metrics.get("pelvic_tilt_lockout") is not None:
                errs.append(rep.metrics.get("pelvic_tilt_lockout") - tr["pelvic_tilt_lockout"])
        # the tuck at each lockout is read (calibrated on a held lockout: 2–4° off)
        assert len(errs) >= 6 and abs(float(np.mean(errs))) < 1.5, (seed, errs)


def test_a_stance_right_after_a_set_does_not_pin_the_gyro_bias() -> None:
    # That stance follows the set's last rep by ~2 s: its mean rate holds the
    # person settling (0.16–0.41 deg/s off the truth here). The bias track,
    # pinned to it before, now takes it as one rest among the others.
    track_err, stance_err = [], []
    for seed in (0, 1):
        s = _swaying(seed)
        cal = calibrate_recording(s.recording)
        t_s = 0.5 * (cal.stance_start_s + cal.stance_end_s)
        for name in ("thigh", "pelvis", "upper_back"):
            truth = true_gyro_bias_dps(s, name, t_s)
            tracked = cal.bias_track(name).at(np.array([round(t_s * 100.0)]))[0]
            track_err.append(float(np.linalg.norm(tracked - truth)))
            stance = np.asarray(cal.sensors[name].gyro_bias_dps)
            stance_err.append(float(np.linalg.norm(stance - truth)))
    assert np.mean(track_err) < 0.2 and np.mean(track_err) < 0.75 * np.mean(stance_err), (
        track_err,
        stance_err,
    )


def test_a_stance_only_at_the_end_after_fidgeting_does_not_pin_the_gyro_bias() -> None:
    # The person fidgets until the stance at the very end, and the still
    # test takes the fidget's slow last 0.4 s into it: its mean rate holds
    # that turn (the upper back's 1.4 deg/s off the truth here). It is the
    # first still period of the data, so it pinned the track; now only a
    # stance the data opens with does (``pin_stance_s``).
    imp = without(IMPERFECTION_PRESETS["real"], ["slip", "loss"])
    cfg = SimConfig.preset("real", seed=4, sets=1, reps=6, mounting="arbitrary", imperfections=imp)
    s = simulate(replace(cfg, stance_kind="end_only"))
    stance_t_s = s.truth["calibration_stance"]["t_start_s"]
    for pin_s, ok in ((CalibrationSettings().pin_stance_s, True), (1e9, False)):
        settings = AnalysisSettings()
        settings = replace(settings, calibration=replace(settings.calibration, pin_stance_s=pin_s))
        cal = calibrate_recording(s.recording, settings)
        assert cal.stance_start_s < stance_t_s - 0.2  # the fidget's end in it: the case
        t_s = 0.5 * (cal.stance_start_s + cal.stance_end_s)
        truth = true_gyro_bias_dps(s, "upper_back", t_s)
        tracked = cal.bias_track("upper_back").at(np.array([round(t_s * 100.0)]))[0]
        err = float(np.linalg.norm(tracked - truth))
        assert err < 0.3 if ok else err > 1.0, (pin_s, err)


def test_held_lockout_is_a_still_period_right_after_the_hole() -> None:
    rate = 100.0
    up = np.array([0.0, 0.0, 9.81])
    tilted = np.array([9.81 * np.sin(np.radians(50.0)), 0.0, 9.81 * np.cos(np.radians(50.0))])
    pelvis = np.tile(up, (1000, 1))
    pelvis[200:300] = tilted  # a rep's hole at 2–3 s, then standing again
    knock = np.tile(up, (1000, 1))
    knock[600:605] = tilted  # a 0.05 s knock (handling the bar) is no hole
    cands = [(0, 150), (350, 500), (700, 900)]
    cs = CalibrationSettings()
    assert held_lockouts({"pelvis": pelvis}, cands, rate, cs).tolist() == [False, True, False]
    assert held_lockouts({"pelvis": knock}, cands, rate, cs).tolist() == [False, False, False]
    # a walking thigh swings as far as a rep's pelvis tilts: the thigh is not asked
    assert held_lockouts({"thigh": pelvis}, cands, rate, cs).tolist() == [False] * 3
