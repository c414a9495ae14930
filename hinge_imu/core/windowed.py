"""Small exact window helpers of the rep detector (pure).

Each gives bit for bit what the obvious numpy call gives, without its
per-call overhead or its n-fold work; the detector calls them often.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def sliding(
    a: FloatArray, n: int, op: Callable[[FloatArray, FloatArray], FloatArray]
) -> FloatArray:
    """``op`` (max or min) over every window of n consecutive values: (len(a) - n + 1,).

    Doubling windows (1, 2, 4 … samples), then two overlapping ones: log2(n)
    passes instead of n; max and min are exact in any order.
    """
    out, w = a, 1
    while 2 * w <= n:
        out = op(out[:-w], out[w:])
        w *= 2
    k = a.shape[0] - n + 1
    return out[:k] if w == n else op(out[:k], out[n - w : n - w + k])


def median_rows(b: FloatArray) -> FloatArray:
    """Median of each row of finite values (k, n): ``np.median(b, axis=1)``, bit for bit."""
    n = b.shape[1]
    h = n // 2
    if n % 2:
        return np.partition(b, h, axis=1)[:, h]
    part = np.partition(b, (h - 1, h), axis=1)
    return (part[:, h - 1] + part[:, h]) / 2.0


def median_list(v: list[float]) -> float:
    """Median of a short list of finite values: ``np.median``, bit for bit, without its overhead."""
    v = sorted(v)
    h = len(v) // 2
    return v[h] if len(v) % 2 else (v[h - 1] + v[h]) / 2.0


def settle_windows(ext: FloatArray, n: int, range_deg: float) -> tuple[BoolArray, FloatArray]:
    """Per window of n consecutive values of ``ext``: may the pose have settled there, and its max.

    A window qualifies when its last value is finite, at least half of it is
    finite and its finite values span less than ``range_deg``. Both arrays
    are (len(ext) - n + 1,), one per window end.
    """
    fin = np.isfinite(ext)
    mx = sliding(np.where(fin, ext, -np.inf), n, np.maximum)
    mn = sliding(np.where(fin, ext, np.inf), n, np.minimum)
    c = np.concatenate(([0], np.cumsum(fin)))
    count = c[n:] - c[:-n]
    return fin[n - 1 :] & (count >= n // 2) & (mx - mn < range_deg), mx


def settled_blocks(
    blocks: FloatArray, range_deg: float, max_level_deg: float
) -> tuple[FloatArray, IntArray]:
    """The standing levels of blocks of a still pose, and the last such block up to each.

    ``blocks`` (B, n): a block is a standing level when its values span less
    than ``range_deg`` (a NaN: never) and their median is within
    ``max_level_deg`` of 0. Returns each block's level (its median; NaN: not
    one) and the index of the last level block up to each (−1: none yet).
    """
    with np.errstate(invalid="ignore"):
        settled = blocks.max(axis=1) - blocks.min(axis=1) < range_deg
    level = np.full(blocks.shape[0], np.nan)
    cand = np.flatnonzero(settled)
    if cand.size:
        level[cand] = median_rows(blocks[cand])
    new = settled & (np.abs(level) <= max_level_deg)
    level[~new] = np.nan
    return level, np.maximum.accumulate(np.where(new, np.arange(blocks.shape[0]), -1))
