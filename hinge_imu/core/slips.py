"""Strap slips: a sensor turning on its strap while the body part does not.

Part of the calibration (``calibration.py``); see docs/analysis.md
("Strap slips"). Two ways to see one: a short burst of rotation on top of the
smooth movement (``find_slips``), or, when the slip fell in lost data, a
change of that sensor's gravity direction between the still moments around
the gap (``gap_slips``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from hinge_imu.core.angles import rotvec_to_matrix
from hinge_imu.core.calibration_settings import CalibrationSettings
from hinge_imu.core.stance import moving_mean, norm_rows, runs, unit

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
) -> dict[str, list[tuple[int, int, FloatArray]]]:
    """Strap slips hidden in long gaps: [(gap start, gap end, Q)] per sensor.

    A slip inside a gap leaves no trace in the gyro. It shows as a change of
    the sensor's gravity direction between the still periods around the gap
    while every other sensor's stayed put. ``Q`` is the smallest rotation
    (sensor frame) explaining it; a turn about the vertical is not observable.
    """
    out: dict[str, list[tuple[int, int, FloatArray]]] = {s: [] for s in acc}
    if len(acc) < 2:
        return out
    min_n = round(settings.gap_rest_min_s * rate_hz)
    rests = [(a, b) for a, b in runs(still) if b - a >= min_n]
    window = round(settings.gap_rest_window_s * rate_hz)
    for s in acc:
        gaps = [g for g in runs(~valid[s]) if g[1] - g[0] >= 2]
        # Rests must lie between this gap and the sensor's neighbouring gaps
        # or gyro-detected slips, or they would compare across another event.
        marks = sorted([x for g in gaps for x in g] + list((other_events or {}).get(s, [])))
        for g_lo, g_hi in gaps:
            if g_lo <= after_index:
                continue
            prev = max([m for m in marks if m < g_lo], default=0)
            nxt = min([m for m in marks if m > g_hi], default=still.shape[0])
            before = [r for r in rests if max(prev, g_lo - window) <= r[0] and r[1] <= g_lo]
            before = before[::-1]
            later = [r for r in rests if g_hi <= r[0] and r[1] <= min(nxt, g_hi + window)]
            # Pairs of rests in the same pose of every other sensor (standing
            # both times, not a pause at the bottom of a rep), nearest first.
            # A slip turns the sensor for good: the change must hold over
            # most of them, not only against one odd pose (a lockout with
            # the ribs flared turns the upper back alone, and only until the
            # ribs come down).
            own, first = [], None
            for (b0, b1), (a0, a1) in ((p, q) for q in later[:3] for p in before[:3]):
                d_b = {x: unit(acc[x][b0:b1].mean(axis=0)) for x in acc}
                d_a = {x: unit(acc[x][a0:a1].mean(axis=0)) for x in acc}
                turned = {
                    x: float(np.degrees(np.arccos(np.clip(d_b[x] @ d_a[x], -1.0, 1.0))))
                    for x in acc
                }
                others = max(turned[x] for x in acc if x != s)
                if others >= settings.gap_others_share * settings.gap_slip_deg:
                    continue
                own.append(turned[s])
                if first is None:
                    first = _min_rotation(d_b[s], d_a[s])
            if first is not None and float(np.median(own)) >= settings.gap_slip_deg:
                out[s].append((g_lo, g_hi, first))
    return out


def on_its_own(
    lo: int,
    hi: int,
    gyr_dps: FloatArray,
    others_dps: Sequence[FloatArray],
    rate_hz: float,
    settings: CalibrationSettings,
) -> bool:
    """Did the sensor turn on its own during ``[lo, hi)`` (a slip), not with the body?

    A strap slip turns one sensor while the body part under it, and so every
    other sensor, hardly moves; a fast deep rep turns the whole chain (the
    upper back at 300+ deg/s, the pelvis and thigh with it). So no other
    sensor (bias-free gyro, deg/s) may turn faster than ``slip_chain_share``
    of the sensor's own peak rate within ``slip_median_s`` of the burst.
    """
    pad = round(settings.slip_median_s * rate_hz)
    own = float(norm_rows(gyr_dps[lo:hi]).max())
    a = max(0, lo - pad)
    for g in others_dps:
        part = g[a : hi + pad]
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
    rough = norm_rows(gyr_dps - moving_mean(gyr_dps, w))
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
