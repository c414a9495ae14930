"""Small exact window helpers of the rep detector (pure).

Each gives bit for bit what the obvious numpy call gives, without its
per-call overhead or its n-fold work; the detector calls them often.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


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
