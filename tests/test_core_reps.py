"""Rep segmentation on synthetic hip-flexion traces and a simulated session (docs/rules.md)."""

from __future__ import annotations

import numpy as np
import pytest
from core_sim_helpers import sim

from hinge_imu import analyse
from hinge_imu.core.reps import RepDetector, tilt_angle_deg

RATE = 100.0


def _ramp(a: float, b: float, dur_s: float) -> np.ndarray:
    n = int(dur_s * RATE)
    x = np.linspace(0, 1, n, endpoint=False)
    return a + (b - a) * (10 * x**3 - 15 * x**4 + 6 * x**5)


def _rep(peak: float, down_s: float, up_s: float, end: float = 0.0, hold_s: float = 1.0):
    return np.concatenate(
        [_ramp(0, peak, down_s), _ramp(peak, end, up_s), np.full(int(hold_s * RATE), end)]
    )


def _run(hip: np.ndarray, tilt: np.ndarray | None = None, chunk: int | None = None):
    det = RepDetector(rate_hz=RATE)
    tilt = hip * 0.8 if tilt is None else tilt
    events = []
    step = chunk or hip.size
    for i in range(0, hip.size, step):
        events += det.update(hip[i : i + step], tilt[i : i + step])
    events += det.finish()
    return [e for e in events if e.kind == "finished"], [e for e in events if e.kind == "rejected"]


def test_reps_with_pauses_slow_and_fast() -> None:
    hip = np.concatenate(
        [np.zeros(200), _rep(70, 2.5, 2.0), _rep(60, 0.7, 0.6), _rep(80, 3.5, 3.0)]
    )
    fin, _ = _run(hip)
    assert len(fin) == 3
    b = fin[0].bounds
    assert b is not None
    assert hip[b.start] > 5.0 and hip[b.start - 1] <= 5.0  # starts 5° above standing
    assert b.bottom == int(np.argmax(hip[: b.end]))
    assert abs(hip[b.end - 1]) < 1.0  # lockout within 1° of the settled pose


def test_back_to_back_reps_split_at_the_lowest_point() -> None:
    one = np.concatenate([_ramp(0, 70, 1.5), _ramp(70, 2, 1.0)])
    hip = np.concatenate(
        [
            np.zeros(200),
            one,
            one + np.concatenate([np.full(1, 2), np.zeros(one.size - 1)]),
            np.zeros(150),
        ]
    )
    fin, _ = _run(hip)
    assert len(fin) == 2
    first, second = fin[0].bounds, fin[1].bounds
    assert first is not None and second is not None
    assert first.end <= second.start
    assert hip[first.end - 1] < 3.0


def test_small_bows_steps_and_knocks_are_not_reps() -> None:
    bow = _rep(15, 1.0, 1.0)  # peak under 20°
    step = _rep(30, 0.4, 0.4)  # thigh swing; pelvis/trunk stay upright
    hip = np.concatenate([np.zeros(100), bow, step, np.zeros(100)])
    tilt = np.concatenate([np.zeros(100), bow * 0.8, step * 0.1, np.zeros(100)])
    fin, rej = _run(hip, tilt)
    assert fin == []
    assert len(rej) == 2
    knock = np.concatenate([np.zeros(100), _ramp(0, 30, 0.15), _ramp(30, 0, 0.15), np.zeros(100)])
    fin, rej = _run(knock)
    assert fin == [] and "knock" in rej[0].reason


@pytest.mark.parametrize("peak", [70.0, 40.0])  # 40°: stops over half way up, still a stop
def test_missed_lockout_still_ends_the_rep(peak: float) -> None:
    rep = _rep(peak, 1.5, 1.2, end=22.0, hold_s=1.5)
    hip = np.concatenate([np.zeros(100), rep, _ramp(22, 0, 1.0), np.zeros(100)])
    fin, _ = _run(hip)
    assert len(fin) == 1
    b = fin[0].bounds
    assert b is not None and abs(hip[b.end - 1] - 22.0) < 1.0


def test_chunking_does_not_change_the_reps() -> None:
    hip = np.concatenate(
        [np.zeros(150), _rep(70, 1.5, 1.0), _rep(65, 1.2, 1.0, hold_s=0.1), _rep(50, 2.0, 1.5)]
    )
    whole, _ = _run(hip)
    for chunk in (1, 7, 64):
        parts, _ = _run(hip, chunk=chunk)
        assert [e.bounds for e in parts] == [e.bounds for e in whole]


def _butt_wink(rebound_deg: float = 0.0) -> np.ndarray:
    """A squat whose pelvis tucks in the hole: 112° → 92°, held 0.5 s, then up."""
    hole = np.full(50, 92.0)
    rebound = _ramp(92, 92 + rebound_deg, 0.3) if rebound_deg else np.zeros(0)
    return np.concatenate(
        [
            _ramp(0, 112, 1.5),
            _ramp(112, 92, 0.3),
            hole,
            rebound,
            _ramp(92 + rebound_deg, 0, 1.2),
            np.zeros(120),
        ]
    )


def test_a_pause_in_the_hole_does_not_split_the_rep() -> None:
    for rebound in (0.0, 7.0):  # settles at 92°; or settles, rises 7°, then comes up
        hip = np.concatenate([np.zeros(150), _butt_wink(rebound), _butt_wink(rebound)])
        for chunk in (None, 1, 37):
            fin, rej = _run(hip, chunk=chunk)
            assert len(fin) == 2 and rej == []
            for e in fin:
                b = e.bounds
                assert b is not None
                assert abs(hip[b.bottom] - 112.0) < 0.5
                assert abs(hip[b.end - 1]) < 1.0  # ends at the standing lockout


def test_the_first_rep_after_a_walk_starts_where_the_person_bends() -> None:
    # Walking swings the thigh ±19° (pelvis and trunk upright), ends with the
    # leg behind, then the person stands at 1° for 3 s and does a rep.
    t = np.arange(int(7.75 * RATE)) / RATE
    walk = 19.0 * np.sin(2 * np.pi * 1.0 * t)
    stand = np.concatenate([_ramp(-19.0, 1.0, 0.5), np.full(300, 1.0)])
    lead = np.concatenate([np.zeros(150), walk, stand])
    hip = np.concatenate([lead, _rep(70, 1.5, 1.2) + 1.0])
    tilt = np.concatenate([np.zeros(lead.size), (hip[lead.size :] - 1.0) * 0.8])
    for chunk in (None, 1, 53):
        fin, rej = _run(hip, tilt, chunk=chunk)
        assert len(fin) == 1 and len(rej) >= 7  # every step is rejected, not counted
        b = fin[0].bounds
        assert b is not None
        assert b.start > lead.size and hip[b.start] > 6.0 >= hip[b.start - 1]


def test_simulated_reps_after_walks_start_with_their_descent() -> None:
    # SIMULATED: three sets with a walk before sets 2 and 3 (the first reps
    # after them once started ~6 s early, at the last step).
    s = sim("typical", sets=3, reps=3, seed=5)
    session = analyse(s.recording)
    truth = s.truth["reps"]
    assert len(session.reps) == len(truth) == 9
    for rep, tr in zip(session.reps, truth, strict=True):
        assert abs(rep.metrics.t_start - tr["t_start"]) < 0.2


def test_a_step_is_judged_on_its_own_tilt_not_on_what_follows_its_lockout() -> None:
    # A step (thigh swing to 22°, pelvis and trunk upright), then the thigh
    # sensor's data is lost for 0.25 s while the trunk reads 18° (a filter
    # artefact, or the next movement); the step's lockout, its lowest point,
    # is known only when the driver rises again after that. Only the step's
    # own samples decide: it is not a rep.
    step = np.concatenate([_ramp(0, 22, 0.4), _ramp(22, -15, 0.5)])
    lost = np.full(25, np.nan)
    nxt = _ramp(-14, 10, 0.4)
    hip = np.concatenate([np.zeros(100), step, lost, nxt, np.full(100, 10.0)])
    tilt = np.zeros(hip.size)
    tilt[100 + step.size : 100 + step.size + lost.size] = 18.0
    for chunk in (None, 1, 29):
        fin, rej = _run(hip, tilt, chunk=chunk)
        assert fin == [] and any("tilted only" in e.reason for e in rej)


def test_a_small_bow_that_settles_back_where_it_started_has_ended() -> None:
    # Standing reads 4.5° (a calibration a little off); a bow to 15° (trunk
    # 17°) comes back to 5.5° and stays there, then a walking step swings
    # the thigh to 22° (trunk upright). The bow never came 10° under its
    # peak, but it is back where it started: it ended there (not a rep:
    # under 20°), and the step is a movement of its own (not a rep: the
    # trunk upright) instead of the two making one "rep".
    bow = _rep(10.4, 1.0, 1.0, end=1.0, hold_s=1.2) + 4.5
    step = np.concatenate([_ramp(5.5, 22.0, 0.4), _ramp(22.0, -12.0, 0.5), _ramp(-12.0, 4.5, 0.4)])
    hip = np.concatenate([np.full(150, 4.5), bow, step, np.full(100, 4.5)])
    tilt = np.concatenate([np.zeros(150), (bow - 4.5) * 1.6, np.zeros(step.size + 100)])
    for chunk in (None, 1, 41):
        fin, rej = _run(hip, tilt, chunk=chunk)
        assert fin == [] and len(rej) == 2


def _walk_after_a_turn() -> dict[str, np.ndarray]:
    """Standing, then walking steps while the pelvis reads a tilt error.

    After a 180° turn the accelerometer's error left in the orientation
    filter's state reads as a tilt (docs/analysis.md, "Limits"): here the
    pelvis 15° and the upper back 6°, settling over 3 s. Hip flexion is
    pelvic tilt + thigh inclination, so it carries the pelvis' error too.
    """
    t = np.arange(int(6.0 * RATE)) / RATE
    walking = t >= 2.0
    after = np.clip((t - 2.0) / 0.5, 0.0, 1.0) * np.exp(-np.clip(t - 2.5, 0.0, None) / 3.0)
    thigh = np.where(walking, 17.0 * np.sin(2 * np.pi * (t - 2.0) / 1.1), 0.0)
    pelvis = 15.0 * after + np.where(walking, 2.0 * np.sin(2 * np.pi * (t - 2.0) / 0.55), 0.0)
    return {"hip_flexion": pelvis + thigh, "pelvic_tilt": pelvis, "trunk_inclination": 6.0 * after}


def test_a_step_while_the_pelvis_reads_a_turns_tilt_error_is_not_a_rep() -> None:
    a = _walk_after_a_turn()
    # Read on the larger of pelvis and trunk, a step is a "rep": the pelvis'
    # error makes both its hip flexion (> 20°) and its tilt (> 15°).
    fin, _ = _run(a["hip_flexion"], np.fmax(a["pelvic_tilt"], a["trunk_inclination"]))
    assert fin
    for chunk in (None, 1, 37):
        fin, rej = _run(a["hip_flexion"], tilt_angle_deg(a), chunk=chunk)
        assert fin == [] and any("tilted only" in e.reason for e in rej)


def test_the_trunk_decides_where_read_the_pelvis_without_an_upper_back() -> None:
    hip = np.concatenate([np.zeros(100), _rep(60, 1.5, 1.5)])

    def reps(pelvis: np.ndarray, trunk: np.ndarray) -> int:
        tilt = tilt_angle_deg({"pelvic_tilt": pelvis, "trunk_inclination": trunk})
        return len(_run(hip, tilt)[0])

    # An arched back: the trunk inclines 20° while the pelvis tilts 45°.
    assert reps(hip * 0.75, hip / 3.0) == 1
    # Without an upper back (or where its samples are lost) the pelvis decides.
    assert reps(hip * 0.75, np.full(hip.size, np.nan)) == 1
    assert reps(hip * 0.75, np.zeros(hip.size)) == 0
