"""The rep detector's window helpers equal the plain numpy calls, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from hinge_imu.core.windowed import median_list, median_rows, sliding


@pytest.mark.parametrize("n", [2, 3, 5, 8, 30, 31])
def test_sliding_max_min_equal_numpy_windows(n: int) -> None:
    rng = np.random.default_rng(n)
    a = rng.normal(size=500) * 40.0
    a[rng.integers(0, 500, 40)] = -np.inf  # what NaNs become in the detector
    win = sliding_window_view(a, n)
    assert np.array_equal(sliding(a, n, np.maximum), win.max(axis=1))
    assert np.array_equal(sliding(a, n, np.minimum), win.min(axis=1))


@pytest.mark.parametrize("n", [2, 3, 29, 30])
def test_medians_equal_np_median(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    b = rng.normal(size=(300, n)) * rng.choice([1e-3, 1.0, 1e5], size=(300, 1))
    assert np.array_equal(median_rows(b), np.median(b, axis=1))
    for row in b:
        assert median_list(row.tolist()) == float(np.median(row))
