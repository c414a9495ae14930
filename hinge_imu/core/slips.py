"""Strap slips: a sensor turning on its strap while the body part does not.

Part of the calibration (``calibration.py``); see docs/analysis.md
("Strap slips"). Two ways to see one: a short burst of rotation on top of the
smooth movement (``find_slips``), or, when the slip fell in lost data, a
change of that sensor's gravity direction between the still moments around
the gap (``gap_slips``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import angle_between_deg, rotvec_to_matrix
from hinge_imu.core.arrays import column_mean, moving_mean, norm_rows, runs, unit
from hinge_imu.core.calibration_settings import CalibrationSettings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: Rests either side of a gap that are compared, nearest first (every pair of them).
PAIRED = 3


def _moving_median(x: FloatArray, n: int) -> FloatArray:
    """Centred moving median over n (odd) samples along axis 0 of (N, C) data."""
    half = n // 2
    padded = np.pad(x, [(half, half), (0, 0)], mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, n, axis=0)
    return np.asarray(np.median(win, axis=-1))


def _min_rotation(a: FloatArray, b: FloatArray) -> FloatArray:
    """The smallest rotation matrix turning direction a into direction b."""
    a, b = unit(a), unit(b)
    axis = np.cross(a, b)
    sin, cos = float(np.linalg.norm(axis)), float(np.dot(a, b))
    if sin < 1e-9:
        return np.eye(3)
    return rotvec_to_matrix(np.degrees(np.arctan2(sin, cos)) * axis / sin)


def gap_slips(
    acc: Mapping[str, FloatArray],
    valid: Mapping[str, BoolArray],
    still: BoolArray,
    after_index: int,
    rate_hz: float,
    settings: CalibrationSettings,
    other_events: Mapping[str, list[int]] | None = None,
    standing: Mapping[str, FloatArray] | None = None,
    bridged: Mapping[str, BoolArray] | None = None,
) -> dict[str, list[tuple[int, int, FloatArray]]]:
    """Strap slips hidden in lost data: [(gap start, gap end, Q)] per sensor.

    A slip inside a gap leaves no trace in the gyro (bridged, its burst
    becomes a line). It shows as a change of the sensor's gravity direction
    between the still periods around the gap while every other sensor's
    stayed put. ``Q`` is the smallest rotation (sensor frame) explaining it;
    a turn about the vertical is not observable. ``standing``: each sensor's
    gravity direction (unit, sensor frame) in the standing pose; a still
    period counts only where every other sensor is within
    ``pose_tolerance_deg`` of it (standing, not a pause at the bottom of a
    rep, where two reps of different depth can leave one sensor alone turned).
    ``bridged``: where a sensor's lost data was short enough to be bridged;
    such a gap is only looked at when the person stood still on both sides
    of it, within ``gap_rest_near_s`` (bridged gaps are many; a slip hidden
    in one happened in a stand).
    """
    out: dict[str, list[tuple[int, int, FloatArray]]] = {s: [] for s in acc}
    if len(acc) < 2:
        return out
    min_n = round(settings.gap_rest_min_s * rate_hz)
    # Still periods' starts and ends as arrays: every gap picks its rests from all of them.
    still_runs = np.array(runs(still), dtype=np.int64).reshape(-1, 2)
    rest_a, rest_b = still_runs[still_runs[:, 1] - still_runs[:, 0] >= min_n].T
    cos_tol = np.cos(np.deg2rad(settings.pose_tolerance_deg))

    # Each still period's mean direction per sensor, computed once: every
    # gap and every sensor looks at the same few periods again and again.
    directions: dict[tuple[str, int, int], FloatArray] = {}

    def direction(x: str, lo: int, hi: int) -> FloatArray:
        key = (x, lo, hi)
        if key not in directions:
            directions[key] = unit(column_mean(acc[x][lo:hi]))
        return directions[key]

    upright: dict[tuple[str, int, int], bool] = {}  # … and whether it is the standing one
    rest_of_body = {s: [x for x in acc if x != s and x in (standing or {})] for s in acc}

    def standing_but(s: str, r: tuple[int, int]) -> bool:
        for x in rest_of_body[s]:
            key = (x, *r)
            if key not in upright:
                upright[key] = float(direction(*key) @ standing[x]) >= cos_tol  # type: ignore[index]
            if not upright[key]:
                return False
        return True

    window = round(settings.gap_rest_window_s * rate_hz)
    near = round(settings.gap_rest_near_s * rate_hz)
    for s in acc:
        gaps = [g for g in runs(~valid[s]) if g[1] - g[0] >= 2]
        short_s = bridged.get(s) if bridged is not None else None
        # Rests must lie between this gap and the sensor's neighbouring long
        # gaps or gyro-detected slips, or they would compare across another event.
        edges = [x for g in gaps if short_s is None or not short_s[g[0]] for x in g]
        marks = sorted(edges + list((other_events or {}).get(s, [])))
        for g_lo, g_hi in gaps:
            if g_lo <= after_index:
                continue
            prev = max([m for m in marks if m < g_lo], default=0)
            nxt = min([m for m in marks if m > g_hi], default=still.shape[0])
            # Rests within the window of the gap (a bridged one: touching it).
            lo_ok, hi_ok = max(prev, g_lo - window), min(nxt, g_hi + window)
            short = short_s is not None and bool(short_s[g_lo])
            # A still period running into the gap (its ticks bridged) counts up to it.
            end = np.minimum(rest_b, g_lo)
            # The nearest PAIRED standing rests either side (only they are compared).
            pick = (rest_a >= lo_ok) & (end - rest_a >= min_n)
            in_window = zip(rest_a[pick][::-1].tolist(), end[pick][::-1].tolist(), strict=True)
            before = list(islice((r for r in in_window if standing_but(s, r)), PAIRED))
            begin = np.maximum(rest_a, g_hi)
            pick = (rest_b <= hi_ok) & (rest_b - begin >= min_n)
            in_window = zip(begin[pick].tolist(), rest_b[pick].tolist(), strict=True)
            later = list(islice((r for r in in_window if standing_but(s, r)), PAIRED))
            if short and not (
                before and later and before[0][1] >= g_lo - near and later[0][0] <= g_hi + near
            ):
                continue
            # Pairs of rests in the same pose of every other sensor (standing
            # both times, not a pause at the bottom of a rep), nearest first.
            # A slip turns the sensor for good: the change must hold over
            # every such pair, not only against one odd pose (a lockout with
            # the ribs flared turns the upper back alone, and only until the
            # ribs come down, maybe in the gap).
            pairs = [(p, q) for q in later for p in before]
            if not pairs:
                continue
            names = list(acc)
            me = names.index(s)
            # Every sensor's direction in each rest of each pair (P, sensors, 3), one angle each.
            d_b, d_a = (
                np.array([[direction(x, *r[i]) for x in names] for r in pairs]) for i in (0, 1)
            )
            turned = angle_between_deg(d_b, d_a)
            others = np.delete(turned, me, axis=1).max(axis=1)
            keep = ~(others >= settings.gap_others_share * settings.gap_slip_deg)
            if keep.any() and float(turned[keep, me].min()) >= settings.gap_slip_deg:
                # The turn between the mean directions either side (a small
                # shift in any one still moment averages out).
                q = _min_rotation(np.mean(d_b[keep, me], axis=0), np.mean(d_a[keep, me], axis=0))
                out[s].append((g_lo, g_hi, q))
    return out


def on_its_own(
    lo: int,
    hi: int,
    gyr_dps: FloatArray,
    others: Sequence[tuple[FloatArray, BoolArray]],
    rate_hz: float,
    settings: CalibrationSettings,
) -> bool:
    """Did the sensor turn on its own during ``[lo, hi)`` (a slip), not with the body?

    A strap slip turns one sensor while the body part under it, and so every
    other sensor, hardly moves; a fast deep rep turns the whole chain (the
    upper back at 300+ deg/s, the pelvis and thigh with it). So no other
    sensor (``others``: its bias-free gyro, deg/s, and where it has data:
    lost data does not turn) may turn faster than ``slip_chain_share`` of
    the sensor's own peak rate within ``slip_median_s`` of the burst.
    """
    pad = round(settings.slip_median_s * rate_hz)
    own = float(norm_rows(gyr_dps[lo:hi]).max())
    a = max(0, lo - pad)
    for g, valid in others:
        part = np.where(valid[a : hi + pad, None], g[a : hi + pad], 0.0)
        if part.shape[0] and float(norm_rows(part).max()) > settings.slip_chain_share * own:
            return False
    return True


def find_slips(
    gyr_dps: FloatArray, valid: BoolArray, rate_hz: float, settings: CalibrationSettings
) -> list[tuple[int, int, FloatArray]]:
    """Strap slips of one sensor: [(first, last grid index, rotation vector in S, deg)].

    A slip is a short burst of rotation on top of the smooth body movement:
    the gyro minus its ``slip_median_s`` running median exceeds
    ``slip_rate_dps`` and the burst, integrated, turns the sensor at least
    ``slip_min_deg``.
    """
    cs = settings
    w = max(3, round(cs.slip_median_s * rate_hz) | 1)
    # A cheap screen (distance from the running mean), then the exact test
    # (distance from the running median) only around the candidates.
    mean = moving_mean(gyr_dps, w)
    rough = norm_rows(np.subtract(gyr_dps, mean, out=mean))
    rough[~valid] = 0.0
    out = []
    pad = 2 * w
    for c_lo, c_hi in runs(rough > cs.slip_screen_share * cs.slip_rate_dps):
        lo0, hi0 = max(0, c_lo - pad), min(gyr_dps.shape[0], c_hi + pad)
        part = gyr_dps[lo0:hi0]
        resid = part - _moving_median(part, w)
        norm = norm_rows(resid)
        norm[~valid[lo0:hi0]] = 0.0
        for lo, hi in runs(norm > cs.slip_edge_share * cs.slip_rate_dps):
            if lo0 + lo < c_lo - w or lo0 + hi > c_hi + w:
                continue  # belongs to a neighbouring candidate
            too_long = hi - lo > settings.slip_max_s * rate_hz
            if norm[lo:hi].max() < settings.slip_rate_dps or too_long:
                continue
            rotvec = resid[lo:hi].sum(axis=0) / rate_hz
            if float(np.linalg.norm(rotvec)) >= settings.slip_min_deg:
                out.append((lo0 + lo, lo0 + hi, rotvec))
    return out


def own_slips(
    own_dps: FloatArray,
    valid: BoolArray,
    others: Sequence[tuple[FloatArray, BoolArray]],
    rate_hz: float,
    settings: CalibrationSettings,
) -> list[tuple[int, int, FloatArray]]:
    """The strap slips of one sensor (:func:`find_slips`) that it made on its own
    (:func:`on_its_own`: no other sensor of ``others``, each its gyro, deg/s,
    and where it has data, turned with it)."""
    return [
        (lo, hi, rv)
        for lo, hi, rv in find_slips(own_dps, valid, rate_hz, settings)
        if on_its_own(lo, hi, own_dps, others, rate_hz, settings)
    ]
