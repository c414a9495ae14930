"""The analysis on what people record: the simulator's ``real`` preset (SIMULATED data).

Small sessions (one or two sets of a few reps, seconds each), one
condition each, as in ``benchmarks/accuracy.py --preset real``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from core_sim_helpers import matched, true_gyro_bias_dps, warming

from hinge_imu.cli import main
from hinge_imu.core.pipeline import analyse
from hinge_imu.errors import RecordingError
from hinge_imu.recording import write_recording
from hinge_imu.sim import SimConfig, simulate
from hinge_imu.sim.config import IMPERFECTION_PRESETS, without

#: Effects switched off so each test shows one difficulty (the others stay on).
_QUIET = ("slip", "loss")


@lru_cache(maxsize=16)
def real(seed: int, off: tuple[str, ...] = _QUIET, **kw: Any) -> Any:
    """A ``real`` session, arbitrary mounting (cached per arguments)."""
    cfg = SimConfig.preset(
        "real",
        seed=seed,
        mounting="arbitrary",
        imperfections=without(IMPERFECTION_PRESETS["real"], list(off)),
        **kw,
    )
    return simulate(cfg)


def _bottoms(session: Any) -> list[float]:
    return [r.metrics.t_bottom for r in session.reps]


def _all_found(session: Any, truth_reps: list[dict[str, Any]], tol_s: float = 0.6) -> bool:
    found = _bottoms(session)
    return len(found) == len(truth_reps) and all(
        any(abs(f - tr["t_bottom"]) < tol_s for f in found) for tr in truth_reps
    )


def test_stance_only_at_the_end_finds_and_judges_every_rep_before_it() -> None:
    s = real(3, sets=1, reps=6, stance_kind="end_only")
    session = analyse(s.recording)
    truth = s.truth["reps"]
    # calibrated on the stance at the very end …
    assert session.calibration["pelvis"].stance_start_s > truth[-1]["t_end"]
    # … and every rep before it found and judged
    assert _all_found(session, truth)
    assert all(r.judged for r in session.reps), [r.not_judged_reason for r in session.reps]


def test_walk_in_start_misses_no_rep_before_the_first_stance() -> None:
    s = real(5, sets=2, reps=4, stance_kind="walk_in")
    session = analyse(s.recording)
    truth = s.truth["reps"]
    first_stance = session.calibration["pelvis"].stance_start_s
    assert any(tr["t_bottom"] < first_stance for tr in truth)  # the case this is about
    assert _all_found(session, truth)
    assert all(r.judged for r in session.reps)


def test_an_extra_sensor_that_cannot_be_calibrated_is_reported_and_ignored() -> None:
    s = real(7, sets=1, reps=4, extras=("shank",))
    rec = s.recording
    shank = rec.sensors["shank"]
    # A shank sensor left lying on the bench: it never moves, so it shows no flexion axis.
    rng = np.random.default_rng(0)
    n = len(shank.t_s)
    lying = replace(
        shank,
        acc_mps2=np.tile([0.3, -0.2, 9.7], (n, 1)) + rng.normal(0.0, 0.02, (n, 3)),
        gyr_dps=np.tile([1.5, -2.0, 0.5], (n, 1)) + rng.normal(0.0, 0.3, (n, 3)),
    )
    session = analyse(replace(rec, sensors={**rec.sensors, "shank": lying}))
    assert not session.calibration["shank"].ok
    assert any(w.startswith("shank:") and "ignored" in w for w in session.warnings)
    assert _all_found(session, s.truth["reps"])
    assert all(r.judged for r in session.reps), [r.not_judged_reason for r in session.reps]


def test_stillness_is_found_on_a_large_gyro_bias_and_a_wrong_accelerometer_scale() -> None:
    # The raw levels are misleading: a pelvis gyro reading 14 °/s at rest, a
    # thigh accelerometer reading 30 % high. The stance is still found (from
    # how much the signals vary), the bias measured, and the reps judged.
    s = real(9, sets=1, reps=4, stance_kind="still")
    rec = s.recording
    bias = np.array([9.0, -8.0, 7.0])
    pelvis = replace(rec.sensors["pelvis"], gyr_dps=rec.sensors["pelvis"].gyr_dps + bias)
    thigh = replace(rec.sensors["thigh"], acc_mps2=rec.sensors["thigh"].acc_mps2 * 1.3)
    session = analyse(replace(rec, sensors={**rec.sensors, "pelvis": pelvis, "thigh": thigh}))
    true_start = s.truth["calibration_stance"]["t_start_s"]
    assert abs(session.calibration["pelvis"].stance_start_s - true_start) < 0.5
    truth_bias = np.asarray(s.truth["sensors"]["pelvis"]["errors"]["gyr_bias_dps"])
    np.testing.assert_allclose(
        session.calibration["pelvis"].gyro_bias_dps, truth_bias + bias, atol=0.5
    )
    assert _all_found(session, s.truth["reps"])
    assert all(r.judged for r in session.reps)


def test_no_still_moment_at_all_calibrates_on_the_upright_moments_between_reps() -> None:
    s = real(11, sets=2, reps=5, stance_kind="none")
    session = analyse(s.recording)
    assert {c.kind for c in session.calibration.values()} == {"upright"}
    assert any("upright moments between reps" in w for w in session.warnings)
    assert _all_found(session, s.truth["reps"])
    judged = [r for r in session.reps if r.judged]
    assert len(judged) >= len(s.truth["reps"]) - 1
    frame = session.reps_frame()
    assert set(frame["calibration"]) == {"upright"}
    for r in judged:
        by_id = {v.rule_id: v for v in r.judgement.verdicts}
        # the lockout is the reference: the rules reading it are not assessed …
        assert by_id["no_lockout"].fired is None and by_id["ribs_flared"].fired is None
        # … the others are
        assert by_id["back_rounded"].fired is not None
        assert by_id["shallow_hinge"].fired is not None
    # the angles are right against that reference
    for r, tr in matched(session, s.truth["reps"]):
        if r.judged:
            assert abs(r.metrics.hip_flexion_peak - tr["hip_flexion_peak"]) < 6.0


def test_a_sensor_sending_only_zeros_leaves_nothing_to_calibrate_on() -> None:
    s = real(11, sets=1, reps=3, stance_kind="none")
    rec = s.recording
    dead = rec.sensors["thigh"]
    dead = replace(dead, acc_mps2=np.zeros_like(dead.acc_mps2), gyr_dps=np.zeros_like(dead.gyr_dps))
    with pytest.raises(RecordingError, match="nothing to calibrate on: thigh"):
        analyse(replace(rec, sensors={**rec.sensors, "thigh": dead}))


def test_analyse_prints_the_calibration_it_used_on_a_recording_without_a_stance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = real(11, sets=1, reps=3, stance_kind="none")
    path = tmp_path / "none.csv"
    write_recording(path, s.recording)
    reps_csv = tmp_path / "none.reps.csv"
    assert main(["analyse", str(path), "--reps-csv", str(reps_csv)]) == 0
    out = capsys.readouterr().out
    assert "calibration ok: upright moments between reps (no still stance)" in out
    assert "gyro bias re-measured at" in out  # how the drift was tracked
    assert "3 reps, 3 judged" in out
    assert set(pd.read_csv(reps_csv)["calibration"]) == {"upright"}


def test_warming_gyros_late_reps_stay_accurate() -> None:
    # Each gyro drifts 1–2 °/s per axis within 2 minutes. With the bias taken
    # once at the stance, the last reps read lumbar flexion ~11° and pelvic
    # lockout ~5° off; measured again at every standing rest, ~5° and ~2.4°
    # (most rests of so short a session are brief and weigh little).
    s = warming(3)
    session = analyse(s.recording)
    late = [
        (r, tr)
        for r, tr in matched(session, s.truth["reps"])
        if r.judged and tr["t_bottom"] > 0.5 * s.truth["duration_s"]
    ]
    assert len(late) >= 6
    for metric, bound in (("lumbar_flexion_max", 6.5), ("pelvic_tilt_lockout", 3.2)):
        err = [abs(r.metrics.get(metric) - tr[metric]) for r, tr in late]
        assert float(np.mean(err)) < bound, (metric, err)
    # How the bias was tracked travels with the calibration.
    for name, cal in session.calibration.items():
        assert cal.bias_rests >= 10
        last = np.asarray(cal.last_gyro_bias_dps)
        true_end = true_gyro_bias_dps(s, name, s.truth["duration_s"])
        assert float(np.linalg.norm(last - true_end)) < 0.5, name
