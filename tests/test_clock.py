"""SensorClock: simulated drift, positive BLE delays and losses → host times.

All data here are simulated: sample instants on a true host clock, a device
clock running 50 ppm fast, per-packet delays of a random connection-event
wait (0–15 ms) plus an exponential stack delay (mean 5 ms), and dropped
packets.
"""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.sensors.clock import ClockError, SensorClock, clock_for_profile
from hinge_imu.sensors.clock_skew import skew_report
from hinge_imu.sensors.profiles import load_profile

RATE_HZ = 100.0
N_PER_PACKET = 5
DRIFT = 50e-6  # device clock fast by 50 ppm
WRAP_S = 2**32 * 1e-6  # a 32-bit µs counter


def _simulate(
    source: str,
    duration_s: float = 120.0,
    loss: float = 0.03,
    seed: int = 1,
    device_start_s: float = 1234.5,
    seq_start: int = 0,
    min_delay_s: float = 0.0,
    busy_until_s: float = 0.0,
) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    true_t = 3.0 + np.arange(int(duration_s * RATE_HZ)) / RATE_HZ
    dev_t = (true_t - 3.0) * (1 + DRIFT) + device_start_s
    clock = SensorClock(RATE_HZ, source, time_wrap_s=WRAP_S, seq_modulus=65536)
    errors, times, arrivals, last_t, indices = [], [], [], [], []
    lost_true = 0
    for k in range(0, len(true_t), N_PER_PACKET):
        if k and rng.random() < loss:
            lost_true += N_PER_PACKET
            continue
        arrival = true_t[k + N_PER_PACKET - 1] + min_delay_s
        arrival += rng.uniform(0, 0.015) + rng.exponential(0.005)
        if true_t[k] - 3.0 < busy_until_s:  # a busy host delays, never hastens
            arrival += rng.uniform(0.0, 0.060)
        value = {
            "time": dev_t[k] % WRAP_S,
            "seq": (seq_start + k) % 65536,
            "count": None,
        }[source]
        out = clock.update(value, arrival, N_PER_PACKET)
        errors.append(out.t_s - true_t[k : k + N_PER_PACKET])
        times.append(true_t[k : k + N_PER_PACKET] - 3.0)
        arrivals.append(arrival)
        last_t.append(out.t_s[-1])
        indices.append(out.index)
    return {
        "clock": clock,
        "err": np.concatenate(errors),
        "since_start": np.concatenate(times),
        "late": np.asarray(last_t) - np.asarray(arrivals),
        "lost_true": lost_true,
        "index": np.concatenate(indices),
        "t": np.concatenate([e + t for e, t in zip(errors, times, strict=True)]),
    }


@pytest.mark.parametrize("source", ["time", "seq"])
def test_drift_delay_and_loss_recovered_within_2_ms(source: str) -> None:
    r = _simulate(source)
    err_ms = r["err"] * 1e3  # type: ignore[operator]
    settled = r["since_start"] > 5.0  # type: ignore[operator]
    assert np.percentile(np.abs(err_ms[settled]), 99) < 2.0
    assert np.abs(err_ms[settled]).max() < 3.0
    assert abs(np.mean(err_ms)) < 1.0
    clock = r["clock"]
    assert clock.lost == r["lost_true"] > 0  # type: ignore[attr-defined]
    if source == "time":
        # Device fast by 50 ppm → 50 ppm fewer host seconds per device second.
        assert clock.drift_ppm == pytest.approx(-50, abs=12)  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", ["time", "seq", "count"])
def test_no_sample_is_placed_after_its_arrival(source: str) -> None:
    r = _simulate(source, duration_s=60.0, loss=0.0 if source == "count" else 0.05)
    assert np.max(r["late"]) <= 0.0  # type: ignore[arg-type]
    assert np.all(np.diff(r["t"]) > 0)  # type: ignore[arg-type]


def test_lost_samples_stay_gaps_with_exact_indices() -> None:
    r = _simulate("seq", duration_s=30.0, loss=0.1)
    index = r["index"]
    assert np.all(np.diff(index) >= 1)  # type: ignore[arg-type]
    missing = int(index[-1] + 1 - len(index))  # type: ignore[index,arg-type]
    assert missing == r["lost_true"]
    # Gaps in time match the gaps in index: nothing interpolated into them.
    jumps = np.diff(r["t"])[np.diff(index) > 1]  # type: ignore[arg-type]
    assert np.all(jumps > 1.5 / RATE_HZ)


@pytest.mark.parametrize("source", ["time", "seq"])
def test_a_busy_start_does_not_pull_the_fit(source: str) -> None:
    # The first minute every packet is held up by up to 60 ms more (a loaded
    # host): the fit must rest on the packets that got through quickly, so
    # the drift and the times after the busy spell stay right.
    r = _simulate(source, duration_s=120.0, loss=0.0, busy_until_s=60.0)
    err_ms = r["err"] * 1e3  # type: ignore[operator]
    quiet = r["since_start"] > 65.0  # type: ignore[operator]
    assert np.percentile(np.abs(err_ms[quiet]), 99) < 2.0  # the old fit: 8 ms
    if source == "time":
        assert r["clock"].drift_ppm == pytest.approx(-50, abs=25)  # type: ignore[attr-defined]


def test_minimum_delay_is_a_constant_offset() -> None:
    # The smallest link delay cannot be observed: times come out late by it.
    r = _simulate("time", min_delay_s=0.008)
    settled = r["since_start"] > 5.0  # type: ignore[operator]
    err_ms = r["err"][settled] * 1e3  # type: ignore[index]
    assert np.median(err_ms) == pytest.approx(8.0, abs=1.5)


def test_time_stamp_wrap_is_unwrapped() -> None:
    r = _simulate("time", duration_s=30.0, device_start_s=WRAP_S - 10.0)
    settled = r["since_start"] > 5.0  # type: ignore[operator]
    assert np.abs(r["err"][settled]).max() < 3e-3  # type: ignore[index]
    assert r["clock"].lost == r["lost_true"]  # type: ignore[attr-defined]


def test_sequence_wrap_is_unwrapped() -> None:
    r = _simulate("seq", duration_s=20.0, seq_start=65536 - 700)
    assert r["clock"].lost == r["lost_true"]  # type: ignore[attr-defined]
    assert np.all(np.diff(r["index"]) >= 1)  # type: ignore[arg-type]


def test_counter_clock_follows_an_imu_rate_off_by_half_a_percent() -> None:
    # No time stamps, and the IMU's 100 Hz is really 100.5 Hz (a MetaMotion stream).
    rng = np.random.default_rng(3)
    true_t = np.arange(6000) / 100.5
    clock = SensorClock(100.0, "count")
    err = []
    for k in range(0, len(true_t), 3):
        arrival = true_t[k + 2] + rng.uniform(0, 0.015) + rng.exponential(0.005)
        out = clock.update(None, arrival, 3)
        err.append(out.t_s - true_t[k : k + 3])
    e = np.concatenate(err)[1000:] * 1e3
    assert np.percentile(np.abs(e), 99) < 3.0
    assert clock.drift_ppm == pytest.approx(-4975, rel=0.05)


def test_reset_and_bad_input() -> None:
    clock = SensorClock(100.0, "seq", seq_modulus=256)
    clock.update(10, 1.0, 5)
    clock.update(20, 1.2, 5)
    assert clock.lost == 5
    clock.reset()
    assert clock.lost == 0 and clock.received == 0
    with pytest.raises(ClockError, match="needs a device time or counter"):
        clock.update(None, 1.0, 5)
    with pytest.raises(ClockError, match="at least one sample"):
        clock.update(0, 1.0, 0)
    with pytest.raises(ClockError, match="clock source 'gps' unknown"):
        SensorClock(100.0, "gps")


def test_clock_for_profile_picks_the_best_time_source() -> None:
    assert clock_for_profile(load_profile("movesense"), 104).source == "time"
    assert clock_for_profile(load_profile("polar-verity"), 52).time_wrap_s is None  # 64-bit ns
    assert clock_for_profile(load_profile("metamotion"), 100).source == "count"
    custom = clock_for_profile(load_profile("custom"), 100)
    assert custom.source == "time" and custom.time_wrap_s == pytest.approx(WRAP_S)


def test_skew_report_between_sensors() -> None:
    a = _simulate("time", duration_s=60.0, seed=1)["clock"]
    b = _simulate("seq", duration_s=60.0, seed=2)["clock"]
    report = skew_report({"pelvis": a, "thigh": b})  # type: ignore[dict-item]
    assert [r.sensor for r in report.rows] == ["pelvis", "thigh"]
    assert report.relative_drift_ppm[("pelvis", "thigh")] == pytest.approx(-50, abs=15)
    text = report.format()
    assert "pelvis" in text and "drift apart" in text
    assert report.rows[0].delay_min_ms >= 0.0


def test_a_much_faster_packet_keeps_both_rules() -> None:
    # Slow packets first, then one 40 ms faster: the fit drops by 4 sample periods.
    clock = SensorClock(100.0, "seq")
    t_prev = -np.inf
    for k, delay in enumerate([0.05, 0.05, 0.05, 0.01, 0.01]):
        arrival = (5 * k + 4) / 100.0 + delay
        out = clock.update(5 * k, arrival, 5)
        assert out.t_s[-1] <= arrival
        assert out.t_s[0] > t_prev and np.all(np.diff(out.t_s) > 0)
        t_prev = out.t_s[-1]


def test_a_counter_or_time_stamp_going_back_is_refused_and_changes_nothing() -> None:
    clock = SensorClock(RATE_HZ, "seq", seq_modulus=65536)
    clock.update(0, 1.00, 5)
    clock.update(5, 1.05, 5)
    with pytest.raises(ClockError, match="went back"):
        clock.update(3, 1.10, 5)  # a stale or garbled packet
    out = clock.update(10, 1.10, 5)
    assert out.lost == 0 and out.index[0] == 10  # as if the bad one never came
    clock.restart()  # a reconnected device starts its counter again
    assert clock.update(0, 2.0, 5).lost == 0
    timed = SensorClock(RATE_HZ, "time", time_wrap_s=WRAP_S)
    timed.update(WRAP_S - 0.1, 1.00, 5)
    with pytest.raises(ClockError, match="went back"):
        timed.update(WRAP_S - 0.15, 1.05, 5)
    assert timed.update(WRAP_S - 0.05, 1.05, 5).lost == 0
    assert timed.update(0.0, 1.10, 5).lost == 0  # not "back": the stamp wrapped


def test_time_stamps_with_a_counter_refuse_a_counter_going_back() -> None:
    """The custom protocol sends both: a counter going back is malformed even if the time is not."""
    clock = SensorClock(RATE_HZ, "time", seq_modulus=65536)
    clock.update(0.00, 1.00, 5, seq=65530)
    clock.update(0.05, 1.05, 5, seq=65535)  # the counter wraps inside this packet
    with pytest.raises(ClockError, match="counter went back to 65000"):
        clock.update(0.10, 1.10, 5, seq=65000)
    assert clock.update(0.10, 1.10, 5, seq=4).lost == 0  # as if the bad one never came
    out = clock.update(0.20, 1.20, 5, seq=14)  # 5 samples lost, by the counter
    assert out.lost == 5 and out.index[0] == 20
    clock.restart()  # reconnected: the counter starts again, the time stamps measure the gap
    out = clock.update(1.00, 2.00, 5, seq=0)
    assert out.lost == 75 and out.index[0] == 100
    with pytest.raises(ClockError, match="counter went back"):
        clock.update(1.05, 2.05, 5, seq=2)
    assert clock.update(1.05, 2.05, 5, seq=5).lost == 0
