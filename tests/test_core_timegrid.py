"""The common time grid: resampling, gaps, chunk independence, alignment; grid helpers and
the rest finding that runs on the grid (the same rests whatever the chunking)."""

from __future__ import annotations

import numpy as np

from hinge_imu.core.timegrid import GridAligner, GridResampler, GridSettings


def _stream(rate_hz: float, dur_s: float, drop: slice | None = None):
    t = np.arange(0, dur_s, 1 / rate_hz)
    acc = np.stack([np.sin(t), np.cos(t), t], axis=1)
    gyr = np.stack([t, 2 * t, -t], axis=1)
    if drop is not None:
        keep = np.ones(t.size, bool)
        keep[drop] = False
        t, acc, gyr = t[keep], acc[keep], gyr[keep]
    return t, acc, gyr


def test_resampling_52hz_onto_100hz_interpolates_linearly() -> None:
    t, acc, gyr = _stream(52.0, 3.0)
    out = GridResampler(GridSettings(rate_hz=100.0)).update(t, acc, gyr)
    tk = np.arange(len(out)) / 100.0
    assert tk[-1] <= t[-1] + 1e-9 and len(out) == int(np.floor(t[-1] * 100)) + 1
    np.testing.assert_allclose(out.gyr_dps[:, 1], 2 * tk, atol=1e-9)  # linear signal: exact
    assert not out.gap.any()


def test_short_gap_bridged_long_gap_flagged() -> None:
    t, acc, gyr = _stream(100.0, 5.0, drop=slice(100, 110))  # 0.1 s lost
    out = GridResampler(GridSettings(max_bridge_s=0.25)).update(t, acc, gyr)
    assert not out.gap.any()
    t, acc, gyr = _stream(100.0, 5.0, drop=slice(100, 160))  # 0.6 s lost
    out = GridResampler(GridSettings(max_bridge_s=0.25)).update(t, acc, gyr)
    flagged = np.nonzero(out.gap)[0]
    assert flagged.size >= 55 and flagged.min() >= 99 and flagged.max() <= 161


def test_result_does_not_depend_on_chunking() -> None:
    t, acc, gyr = _stream(104.0, 4.0, drop=slice(50, 90))
    whole = GridResampler().update(t, acc, gyr)
    rs = GridResampler()
    parts = []
    rng = np.random.default_rng(0)
    i = 0
    while i < t.size:
        n = int(rng.integers(0, 40))
        parts.append(rs.update(t[i : i + n], acc[i : i + n], gyr[i : i + n]))
        i += n
    np.testing.assert_allclose(np.vstack([p.acc_mps2 for p in parts]), whole.acc_mps2)
    np.testing.assert_array_equal(np.concatenate([p.gap for p in parts]), whole.gap)


def test_aligner_emits_rows_once_every_sensor_has_them() -> None:
    al = GridAligner(["a", "b"], 1, 100.0)
    assert len(al.update("a", np.ones((5, 1)))) == 0
    rows = al.update("b", 2 * np.ones((3, 1)))
    assert len(rows) == 3 and rows.k0 == 0
    rows = al.update("b", 2 * np.ones((4, 1)))
    assert len(rows) == 2 and rows.k0 == 3
    rest = al.flush()
    assert len(rest) == 2 and np.isnan(rest.channels["a"]).all()


def test_column_median_is_numpy_median_bit_for_bit():
    # The rest-bias stage replaced np.median by it for speed; results must not move.
    from hinge_imu.core.arrays import column_median

    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 7, 50, 51, 5000, 5001):  # short runs sorted, long ones selected
        x = rng.normal(size=(n, 3)) * 1e3
        assert np.array_equal(column_median(x), np.median(x, axis=0))
    for n in (6, 5000):
        x = rng.normal(size=(n, 3))
        x[2, 1] = np.nan
        assert np.array_equal(column_median(x), np.median(x, axis=0), equal_nan=True)


def _rests_and_moves(rate_hz: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC: 3 s rests between shaky 1.5 s tilts of 30° (one paused at 30° for 3 s),
    noise, a drifting gyro bias."""
    rng = np.random.default_rng(5)
    t = np.arange(0, 45.0, 1 / rate_hz)
    phase = t % 4.5
    moving = phase >= 3.0
    tilt_rad = np.where(moving, np.deg2rad(30) * np.sin(np.pi * (phase - 3.0) / 1.5) ** 2, 0.0)
    tilt_rad[(t >= 21.75) & (t < 25.5)] = np.deg2rad(30)  # a pause in the hole
    rate_dps = np.degrees(np.gradient(tilt_rad, 1 / rate_hz))
    gyr = np.array([0.5, -0.3, 0.2]) + 0.01 * t[:, None] + rng.normal(0, 0.05, (t.size, 3))
    gyr[:, 0] += rate_dps
    gyr[moving] += rng.normal(0, 20.0, (int(moving.sum()), 3))  # not quiet
    acc = 9.81 * np.stack([0 * t, np.sin(tilt_rad), np.cos(tilt_rad)], axis=1)
    return acc + rng.normal(0, 0.02, acc.shape), gyr


def test_rests_are_found_the_same_whatever_the_chunking() -> None:
    # Live feeds the bias tracking a block at a time; offline, the whole
    # recording at once: every rest, its measurement and the bias after it agree.
    from hinge_imu.core.bias_model import BiasState
    from hinge_imu.core.calibration_settings import CalibrationSettings
    from hinge_imu.core.rest_bias import RestBias, RestBiasSettings
    from hinge_imu.core.timegrid import GridChunk

    acc, gyr = _rests_and_moves()
    gap = np.zeros(acc.shape[0], dtype=bool)
    gap[1500:1530] = True  # lost data inside a rest

    def found(sizes: list[int]) -> list[tuple[int, int, bytes, bytes]]:
        start = BiasState.start(0, np.zeros(3), 1.0, 0.002)
        up = np.array([0.0, 0.0, 1.0])  # standing: a pause in the hole is no rest
        stage = RestBias(RestBiasSettings(), CalibrationSettings(), 100.0, start, standing_up=up)
        out, lo = [], 0
        for n in sizes:
            chunk = GridChunk(lo, acc[lo : lo + n], gyr[lo : lo + n], gap[lo : lo + n])
            out += stage.update(chunk)
            lo += n
        out += stage.finish()
        return [
            (e.apply_k, e.measured.k, e.measured.mean_dps.tobytes(), e.state.x.tobytes())
            for e in out
        ]

    whole = found([acc.shape[0]])
    assert len(whole) >= 8  # a rest between most two tilts
    rng = np.random.default_rng(0)
    for top in (3, 40, 700):
        sizes = rng.integers(1, top, size=acc.shape[0]).tolist()
        assert found(sizes) == whole


def test_array_helpers_are_numpy_bit_for_bit() -> None:
    # The calibration calls them on every tick of a recording in place of the
    # numpy calls for speed; a result moving in its last bit would move angles.
    from hinge_imu.core.arrays import column_mean, moving_mean, norm_rows, run_bounds, runs, unit

    rng = np.random.default_rng(4)
    x = rng.normal(size=(5001, 3)) * 9.81
    assert np.array_equal(norm_rows(x), np.linalg.norm(x, axis=1))
    assert all(np.array_equal(unit(v), v / np.linalg.norm(v)) for v in x[:200])
    for n in (1, 2, 17, 333):
        assert np.array_equal(column_mean(x[:n]), x[:n].mean(axis=0))
    # The moving mean is a cumulative sum of the edge-padded data (its own
    # arithmetic, no numpy twin): it must not change the data it is given.
    before = x.copy()
    mm = moving_mean(x, 20)
    assert np.array_equal(x, before) and mm is not x
    np.testing.assert_allclose(mm[10:-9, 0], np.convolve(x[:, 0], np.ones(20) / 20, "valid"))
    mask = rng.random(1000) < 0.6
    assert run_bounds(mask).tolist() == [list(r) for r in runs(mask)]
    starts = np.flatnonzero(mask & ~np.r_[False, mask[:-1]])
    assert run_bounds(mask)[:, 0].tolist() == starts.tolist()
