"""In-rep monitor: rules fire during the rep, once, with the RuleSet's thresholds.

The movements are the real rep detector's (its events in the analysis step),
as in a live session.
"""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.core.reps import RepDetector, RepSettings
from hinge_imu.core.rules import load_rules
from hinge_imu.core.step import AnalysisStep
from hinge_imu.live.inrep import InRepMonitor

FS = 100.0


def rep_angles(
    t0: float, hip_peak=80.0, lumbar_peak=10.0, thigh_bottom=15.0, knee_cave=2.0, dur=3.0
):
    """One smooth rep from standing to standing (angles, deg) on a 100 Hz grid."""
    t = np.arange(0.0, dur, 1 / FS)
    shape = np.sin(np.pi * t / dur) ** 2  # 0 → 1 → 0
    hip = hip_peak * shape
    return t0 + t, {
        "hip_flexion": hip,
        "pelvic_tilt": 0.6 * hip,
        "trunk_inclination": 0.6 * hip + lumbar_peak * shape,
        "lumbar_flexion": lumbar_peak * shape,
        "thigh_inclination": thigh_bottom * shape,
        "knee_cave": knee_cave * shape,
    }


def monitor(rules=None, reps: RepSettings | None = None) -> InRepMonitor:
    return InRepMonitor(rules or load_rules(), reps or RepSettings(), FS)


def run(m: InRepMonitor, t, angles, chunk=13):
    """Angles through the rep detector and the monitor in chunks, as analysis steps."""
    nan = np.full(len(t), np.nan)
    driver = angles["hip_flexion"]
    driver = np.where(np.isfinite(driver), driver, angles["trunk_inclination"])
    tilt = np.fmax(angles["pelvic_tilt"], angles["trunk_inclination"])
    det = RepDetector(m.reps, FS, round(t[0] * FS))
    out = []
    for i in range(0, len(t), chunk):
        events = det.update(driver[i : i + chunk], tilt[i : i + chunk])
        rows = {k: angles.get(k, nan)[i : i + chunk] for k in angles}
        out += m.update(AnalysisStep(t[i : i + chunk], rows, tuple(events), in_rep=det.in_rep))
    return out + m.update(AnalysisStep(events=tuple(det.finish())))


def crossing_time(t, series, threshold):
    return float(t[np.nonzero(series > threshold)[0][0]])


def test_clean_rep_fires_nothing() -> None:
    m = monitor()
    t, a = rep_angles(1.0)
    assert run(m, t, a) == []
    assert m.candidate == 1


def test_back_rounded_fires_once_when_the_data_first_shows_it() -> None:
    m = monitor()
    t, a = rep_angles(1.0, lumbar_peak=30.0)
    found = run(m, t, a)
    assert [f.rule_id for f in found] == ["back_rounded"]
    f = found[0]
    assert f.t_s == pytest.approx(crossing_time(t, a["lumbar_flexion"], 20.0))
    assert f.makes_rep_bad and f.threshold_deg == 20.0 and f.value_deg > 20.0


def test_each_in_rep_rule_and_bad_weight() -> None:
    m = monitor()
    t, a = rep_angles(1.0, thigh_bottom=50.0, knee_cave=12.0)
    found = {f.rule_id: f for f in run(m, t, a)}
    assert set(found) == {"squatting", "knees_caving", "knees_forward"}
    assert found["squatting"].makes_rep_bad
    assert not found["knees_caving"].makes_rep_bad
    # squatting shows as soon as the thigh passes 40° on the way down
    assert found["squatting"].t_s == pytest.approx(crossing_time(t, a["thigh_inclination"], 40.0))


def test_squatting_not_read_on_the_way_up() -> None:
    # thigh inclination peaks late, after the bottom, as the person stands up
    m = monitor()
    t, a = rep_angles(1.0, thigh_bottom=30.0)
    late = np.clip((t - t[0] - 1.9) / 0.3, 0, 1) * np.clip((t[-1] - t + 0.1) / 0.6, 0, 1)
    a["thigh_inclination"] = a["thigh_inclination"] + 30.0 * late
    assert "squatting" not in {f.rule_id for f in run(m, t, a)}


def test_thresholds_come_from_the_rules_file() -> None:
    rules = load_rules().with_threshold("back_rounded", 12.0)
    t, a = rep_angles(1.0, lumbar_peak=15.0)
    assert [f.rule_id for f in run(monitor(rules), t, a)] == ["back_rounded"]
    assert run(monitor(), t, a) == []


def test_small_bow_never_warns_and_each_rep_gets_its_own_warning() -> None:
    m = monitor()
    t1, bow = rep_angles(1.0, hip_peak=15.0, lumbar_peak=25.0)
    assert run(m, t1, bow) == []
    t2, r2 = rep_angles(5.0, lumbar_peak=30.0)
    t3, r3 = rep_angles(9.0, lumbar_peak=30.0)
    found = run(m, t2, r2) + run(m, t3, r3)
    assert [f.rule_id for f in found] == ["back_rounded", "back_rounded"]
    assert found[0].candidate != found[1].candidate


def test_missing_thigh_sensor_skips_thigh_rules() -> None:
    m = monitor()
    t, a = rep_angles(1.0, thigh_bottom=50.0, lumbar_peak=30.0)
    for k in ("thigh_inclination", "knee_cave"):
        a[k] = np.full_like(a[k], np.nan)
    a["hip_flexion"] = np.full_like(a["hip_flexion"], np.nan)  # it needs the thigh
    found = run(m, t, a)  # the movement is followed on the trunk instead
    assert [f.rule_id for f in found] == ["back_rounded"]
    assert found[0].t_s == pytest.approx(crossing_time(t, a["lumbar_flexion"], 20.0))


def test_a_rep_qualifies_by_the_detectors_settings() -> None:
    # A 25° hinge: a rep by the default min_peak_deg (20°), a bow by 30°.
    t, a = rep_angles(1.0, hip_peak=25.0, lumbar_peak=30.0, thigh_bottom=5.0)
    assert [f.rule_id for f in run(monitor(), t, a)] == ["back_rounded"]
    assert run(monitor(reps=RepSettings(min_peak_deg=30.0)), t, a) == []


def test_the_movement_starts_where_the_detector_says() -> None:
    m = monitor(reps=RepSettings(start_above_deg=10.0))
    t, a = rep_angles(1.0, lumbar_peak=30.0)
    (f,) = run(m, t, a)
    assert f.movement_start_s == pytest.approx(crossing_time(t, a["hip_flexion"], 10.0))
    assert not m.in_movement  # the detector closed the rep
