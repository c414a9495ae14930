"""The one saturation detector (``hinge_imu.saturation``): what it takes for a clip, block by block.

The reader feeds it a whole stream, live coaching block by block: the
stretches must not depend on where the blocks are cut.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hinge_imu.saturation import SaturationDetector, SaturationSettings, saturated_stretches

RATE_HZ = 100.0


def _still_and_turning(n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(n) / RATE_HZ
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))  # still: 1 g held exactly, not a clip
    gyr = np.column_stack((300 * np.sin(t * 3), np.zeros(n), np.zeros(n)))  # peaks pass
    return t, acc, gyr


def _spans(found: tuple) -> list[tuple[float, float]]:
    return [(s.start_s, s.end_s) for s in found]


def test_held_extremes_are_stretches_and_ordinary_peaks_are_not() -> None:
    t, acc, gyr = _still_and_turning()
    assert saturated_stretches(t, acc, gyr) == ()
    gyr[100:106, 0] = 2000.0  # held at +2000 °/s for 6 samples
    acc[250:253, 1] = -156.9  # held at -16 g for 3 samples
    acc[300:302, 1] = -156.9  # twice only: a peak, not a clip
    found = saturated_stretches(t, acc, gyr)
    assert _spans(found) == [(1.0, 1.06), (2.5, 2.53)]
    assert found[0].channels == ("gyr_x",) and found[0].values == (2000.0,)
    assert found[1].channels == ("acc_y",) and found[1].values == (-156.9,)
    assert "acc_y at -156.9 m/s² (-16.0 g)" in found[1].describe()


def test_a_value_held_below_an_earlier_extreme_or_the_smallest_range_is_no_clip() -> None:
    t, acc, gyr = _still_and_turning()
    gyr[50:55, 1] = 900.0  # a real peak …
    gyr[200:210, 1] = 600.0  # … so a later plateau lower down is no range limit
    gyr[300:310, 2] = 100.0  # below the smallest gyro range (125 °/s)
    assert _spans(saturated_stretches(t, acc, gyr)) == [(0.5, 0.55)]
    loose = SaturationSettings(min_range_gyr_dps=90.0)
    assert _spans(saturated_stretches(t, acc, gyr, loose)) == [(0.5, 0.55), (3.0, 3.1)]


def test_channels_held_together_make_one_stretch_naming_each() -> None:
    t, acc, gyr = _still_and_turning()
    gyr[100:106, 2] = -2000.0
    acc[104:110, 0] = 156.9  # overlaps the gyro's stretch
    acc[110:113, 2] = 156.9  # touches it (starts where it ends)
    (s,) = saturated_stretches(t, acc, gyr)
    assert (s.start_s, s.end_s) == (1.0, 1.13)
    assert s.channels == ("acc_x", "acc_z", "gyr_z")
    assert s.duration_s == pytest.approx(0.13)


def test_a_stretch_running_to_the_end_ends_at_the_last_sample() -> None:
    t, acc, gyr = _still_and_turning()
    gyr[-4:, 0] = 2000.0
    assert _spans(saturated_stretches(t, acc, gyr)) == [(t[-4], t[-1])]


#: Values that make runs, ties and limits of both signs (acc m/s², gyr °/s) likely.
_ACC = st.sampled_from([0.0, 9.81, -9.81, 19.7, -19.7, 39.2, 156.9, -156.9, 3.3])
_GYR = st.sampled_from([0.0, 60.0, -60.0, 130.0, -130.0, 500.0, 2000.0, -2000.0, 7.5])


@st.composite
def _stream_and_cuts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    n = draw(st.integers(1, 120))
    # Values repeat for a while (held runs), then change: runs of 1–6 samples.
    runs = draw(st.lists(st.tuples(_ACC, _GYR, st.integers(0, 5), st.integers(1, 6)), min_size=1))
    acc, gyr = np.zeros((n, 3)), np.zeros((n, 3))
    i = 0
    for a, g, axis, length in runs * (n // len(runs) + 1):
        if i >= n:
            break
        (acc if axis < 3 else gyr)[i : i + length, axis % 3] = a if axis < 3 else g
        i += length
    t = np.cumsum(draw(st.lists(st.floats(0.004, 0.03), min_size=n, max_size=n)))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=12))))
    return t, acc, gyr, cuts


@settings(max_examples=150, deadline=None)
@given(case=_stream_and_cuts())
def test_blocks_of_any_size_find_the_same_stretches_as_the_whole(case) -> None:
    """A held stretch often straddles two (or more) blocks; the result must not change."""
    t, acc, gyr, cuts = case
    whole = saturated_stretches(t, acc, gyr)
    det = SaturationDetector()
    got = []
    for lo, hi in zip([0, *cuts], [*cuts, len(t)], strict=True):
        got += det.update(t[lo:hi], acc[lo:hi], gyr[lo:hi])
        assert all(det.touching(s.start_s, s.end_s) for s in got)
    got += det.finish()
    assert tuple(got) == whole
    assert all(a.end_s < b.start_s for a, b in itertools.pairwise(whole))  # merged, in order


def test_a_held_run_is_known_while_it_lasts() -> None:
    t, acc, gyr = _still_and_turning()
    gyr[100:130, 0] = 2000.0
    det = SaturationDetector()
    assert det.update(t[:102], acc[:102], gyr[:102]) == []
    assert not det.touching(0.5, 1.5)  # two samples held: not yet a clip
    assert det.update(t[102:110], acc[102:110], gyr[102:110]) == []
    assert det.touching(0.5, 1.0) and not det.touching(0.5, 0.99)  # open, still held
    (done,) = det.update(t[110:], acc[110:], gyr[110:])
    assert (done.start_s, done.end_s) == (1.0, 1.3)
    det.reset()
    assert det.found == [] and not det.touching(0.0, 10.0)


def test_a_held_value_between_the_limits_of_a_negative_channel_is_no_stretch() -> None:
    # Found by hypothesis: a gyro axis that never goes positive has a negative
    # "top"; -130 °/s held for 3 samples after -2000 °/s is neither limit seen
    # so far, in one pass as in blocks.
    gyr = np.zeros((6, 3))
    gyr[:, 0] = [-2000.0, -2000.0, -130.0, -130.0, -130.0, -2000.0]
    t = np.arange(6) * 0.01
    acc = np.tile([0.0, 0.0, 9.81], (6, 1))
    assert saturated_stretches(t, acc, gyr) == ()
    det = SaturationDetector()
    det.update(t[:5], acc[:5], gyr[:5])
    det.update(t[5:], acc[5:], gyr[5:])
    det.finish()
    assert det.found == []
