"""Where a sensor sat at the limit of its range (saturated, clipped readings).

A clipped channel holds its range's extreme value bit for bit while the
true value is beyond it; a real movement passes its peak in one or two
samples. So a channel is taken as saturated where it holds its own most
extreme value for several samples in a row, and that value is at least the
smallest range IMUs have (so a still sensor's repeated 1 g is not flagged).
"""

from __future__ import annotations

import numpy as np

from hinge_imu.samples import FloatArray

#: Smallest full-scale ranges IMUs have (±2 g, ±125 °/s): a held value below is no clip.
MIN_RANGE_ACC_MPS2 = 2 * 9.80665
MIN_RANGE_GYR_DPS = 125.0
#: Samples in a row at the extreme that make a saturated stretch.
MIN_HELD_SAMPLES = 3

Intervals = tuple[tuple[float, float], ...]


def saturated_intervals(t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray) -> Intervals:
    """Half-open ``[start_s, end_s)`` stretches where any acc or gyr channel is clipped.

    ``end_s`` is the time of the first sample after the stretch (the last
    sample's time when the stretch runs to the end). Sorted, merged.
    """
    held = np.zeros(t_s.shape[0], dtype=bool)
    for values, floor in ((acc_mps2, MIN_RANGE_ACC_MPS2), (gyr_dps, MIN_RANGE_GYR_DPS)):
        # two whole-array reductions first: most recordings never come near a range
        if values.size == 0 or max(values.max(), -values.min()) < floor:
            continue
        for x in values.T:
            if x.size == 0:
                continue
            for extreme in (x.max(), x.min()):
                if abs(extreme) >= floor:
                    held |= _long_runs(x == extreme)
    if not held.any():
        return ()
    edges = np.flatnonzero(np.diff(np.concatenate(([0], held.view(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]
    last = t_s.shape[0] - 1
    return tuple(
        (float(t_s[a]), float(t_s[min(b, last)])) for a, b in zip(starts, ends, strict=True)
    )


def _long_runs(mask: np.ndarray) -> np.ndarray:
    """``mask`` with only its runs of at least MIN_HELD_SAMPLES True values kept."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    out = np.zeros_like(mask)
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a >= MIN_HELD_SAMPLES:
            out[a:b] = True
    return out
