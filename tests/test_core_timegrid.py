"""The common time grid: resampling, gaps, chunk independence, alignment; grid helpers."""

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
    from hinge_imu.core.stance import column_median

    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 7, 50, 51):
        x = rng.normal(size=(n, 3)) * 1e3
        assert np.array_equal(column_median(x), np.median(x, axis=0))
    x = rng.normal(size=(6, 3))
    x[2, 1] = np.nan
    assert np.array_equal(column_median(x), np.median(x, axis=0), equal_nan=True)
