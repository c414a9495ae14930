"""The slope of the lower envelope of (device time, arrival) points: the drift fit.

:class:`~hinge_imu.sensors.clock.SensorClock` keeps one point per bucket
(its fastest packet) and asks here for the slope of the line under them:
host seconds per device second. This is a robust line fit with no clock in
it (no sources, counters or wraps): plain arrays in, a slope out, so it is
read and tested apart from the per-packet bookkeeping of the clock.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from hinge_imu.samples import FloatArray

#: The drift is fitted through the buckets' quick packets (near the lower
#: envelope) only if they are at least this share of the window…
ENVELOPE_MIN_SHARE = 0.2
#: …and at least this many.
ENVELOPE_MIN_POINTS = 4


def envelope_slope(xs: FloatArray, ys: FloatArray, tolerance_s: float, max_drift: float) -> float:
    """Slope of the lower envelope through the fastest packet of each bucket.

    A busy host only ever delays packets: the true line lies under the
    points, with the quick ones within a fraction of a ms above it and the
    held-up ones (load, interference) far above. Every edge of the points'
    lower convex hull is a line under all of them. The edge above the mean
    device time (the linear-programming fit of Moon, Skelly & Towsley 1999:
    the line under all points closest to them on average) is the default;
    another edge with a plausible slope (within ``max_drift``) is taken if
    more points lie within ``tolerance_s`` above it. The slope is then the
    least-squares line through those points, averaging their scatter, far
    steadier than one hull edge. So spells in which every packet was held
    up, even at the ends of the window, cannot pull it. With too few such
    points (``ENVELOPE_MIN_SHARE``) the whole window was held up alike and
    :func:`trimmed_slope` of all points is used.
    """
    hull: list[int] = []  # lower convex hull, by increasing x (xs are sorted)
    for i in range(len(xs)):
        while len(hull) >= 2:
            j, k = hull[-2], hull[-1]
            cross = (xs[k] - xs[j]) * (ys[i] - ys[j]) - (ys[k] - ys[j]) * (xs[i] - xs[j])
            if cross > 0:
                break
            hull.pop()
        hull.append(i)
    x_mean = float(np.mean(xs))
    candidates: list[tuple[int, bool, npt.NDArray[np.bool_]]] = []
    for j, k in itertools.pairwise(hull):
        edge = (ys[k] - ys[j]) / (xs[k] - xs[j])
        central = bool(xs[j] <= x_mean <= xs[k])
        if central or abs(edge - 1.0) <= max_drift:
            near = ys - ys[j] - edge * (xs - xs[j]) <= tolerance_s
            candidates.append((int(near.sum()), central, near))
    # The most points near it; the central edge wins a tie.
    best = max(candidates, key=lambda c: (c[0], c[1]), default=None)
    if best is None or best[0] < max(ENVELOPE_MIN_POINTS, ENVELOPE_MIN_SHARE * len(xs)):
        # No quick stretch to rest on (every packet held up alike): the
        # scatter is then even, and a fit through all of them is steadiest.
        return trimmed_slope(xs, ys)
    near = best[2]
    return float(np.polyfit(xs[near], ys[near], 1)[0])


def trimmed_slope(xs: FloatArray, ys: FloatArray) -> float:
    """Least-squares slope, refitted without the points well above the line."""
    keep = np.ones(len(xs), dtype=bool)
    slope = 1.0
    for _ in range(3):
        slope, icept = np.polyfit(xs[keep], ys[keep], 1)
        resid = ys - (slope * xs + icept)
        mad = float(np.median(np.abs(resid[keep] - np.median(resid[keep])))) or 1e-6
        new_keep = resid < np.median(resid[keep]) + 3.0 * mad
        if new_keep.sum() < ENVELOPE_MIN_POINTS or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return float(slope)
