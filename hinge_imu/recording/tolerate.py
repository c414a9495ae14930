"""What the reader accepts with a warning once the table is parsed (docs/recording-format.md).

* A clock offset (Unix time from a logger, a device's uptime): shifted so
  the first sample is at 0 s, the start kept in the header.
* Where a sensor sat at the limit of its range (saturated, clipped
  readings). A clipped channel holds its range's extreme value bit for bit
  while the true value is beyond it; a real movement passes its peak in one
  or two samples. So a channel is taken as saturated where it holds its own
  most extreme value for several samples in a row, and that value is at
  least the smallest range IMUs have (so a still sensor's 1 g is not flagged).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hinge_imu.errors import RecordingError
from hinge_imu.samples import FloatArray, SensorStream

#: A first sample later than this (or before 0) is a clock offset, e.g. Unix
#: time from a logger: shifted to 0 (a short lead-in is kept as it is), s.
MAX_START_S = 60.0
#: Header key that keeps the shifted-away start time, s on the file's clock.
OFFSET_KEY = "t_offset_s"

#: Smallest full-scale ranges IMUs have (±2 g, ±125 °/s): a held value below is no clip.
MIN_RANGE_ACC_MPS2 = 2 * 9.80665
MIN_RANGE_GYR_DPS = 125.0
#: Samples in a row at the extreme that make a saturated stretch.
MIN_HELD_SAMPLES = 3

Intervals = tuple[tuple[float, float], ...]


def shift_clock_offset(
    sensors: dict[str, SensorStream],
    header: dict[str, str],
    name: str,
    first_row_line: int,
    warnings: list[str],
) -> tuple[dict[str, SensorStream], dict[str, str]]:
    """Sensors and header with a clock offset shifted away (a warning appended), or as given."""
    t0 = min(float(s.t_s[0]) for s in sensors.values())
    if 0.0 <= t0 <= MAX_START_S:
        return sensors, header
    try:
        before_s = float(header.get(OFFSET_KEY, 0.0))  # a re-read file shifted before
    except ValueError:
        raise RecordingError(
            f"header '{OFFSET_KEY}' must be a number of seconds, not '{header[OFFSET_KEY]}'", name
        ) from None
    warnings.append(
        f"{name}:{first_row_line}: times start at {t0:.6f} s (a clock offset, e.g. Unix "
        f"time): shifted so the first sample is at 0 s; the start is kept as '{OFFSET_KEY}'"
    )
    shifted = {n: replace(s, t_s=s.t_s - t0) for n, s in sensors.items()}
    return shifted, {**header, OFFSET_KEY: f"{before_s + t0:.6f}"}


def drop_dead_sensors(
    sensors: dict[str, SensorStream], required: str, name: str, warnings: list[str]
) -> dict[str, SensorStream]:
    """Sensors without any that reads exact zeros throughout; refused if it is ``required``.

    An accelerometer reads 1 g at rest and noise in the last digit when
    still, so exactly 0 on every axis of every sample is a sensor that was
    never started (or is broken): nothing can be calibrated from it.
    """
    out = dict(sensors)
    for n, s in sensors.items():
        if len(s) < 2 or s.acc_mps2.any():
            continue
        what = (
            f"sensor '{n}' reads exactly 0 m/s² on every sample: it was never started, or is broken"
        )
        if n == required:
            raise RecordingError(f"{what}; nothing can be calibrated without it", name)
        warnings.append(f"{name}: {what}; left out, so the rules needing it are not assessed")
        del out[n]
    return out


def mark_saturation(
    sensors: dict[str, SensorStream], name: str, warnings: list[str]
) -> dict[str, SensorStream]:
    """Sensors with their saturated stretches set (``saturated_s``), a warning for each such."""
    out = dict(sensors)
    for n, s in sensors.items():
        clipped = saturated_intervals(s.t_s, s.acc_mps2, s.gyr_dps)
        if clipped:
            out[n] = replace(s, saturated_s=clipped)
            total_s = sum(b - a for a, b in clipped)
            warnings.append(
                f"{name}: sensor '{n}' is saturated (held at its range limit) in "
                f"{len(clipped)} stretch(es), {total_s:.2f} s in all, "
                f"the first at {clipped[0][0]:.2f} s"
            )
    return out


def saturated_intervals(t_s: FloatArray, acc_mps2: FloatArray, gyr_dps: FloatArray) -> Intervals:
    """Half-open ``[start_s, end_s)`` stretches where any acc or gyr channel is clipped.

    ``end_s`` is the time of the first sample after the stretch (the last
    sample's time when the stretch runs to the end). Sorted, merged.
    """
    runs: list[tuple[int, int]] = []
    for values, floor in ((acc_mps2, MIN_RANGE_ACC_MPS2), (gyr_dps, MIN_RANGE_GYR_DPS)):
        if values.size == 0:
            continue
        channels = np.ascontiguousarray(values.T)  # reductions along rows: ~10× faster
        for x, top, bottom in zip(
            channels, channels.max(axis=1), channels.min(axis=1), strict=True
        ):
            for extreme in (top, bottom):
                if abs(extreme) >= floor:
                    runs += _held_runs(np.flatnonzero(x == extreme))
    merged: list[list[int]] = []
    for a, b in sorted(runs):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    last = t_s.shape[0] - 1
    return tuple((float(t_s[a]), float(t_s[min(b, last)])) for a, b in merged)


def _held_runs(idx: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``[a, b)`` of consecutive sample indices in ``idx``, MIN_HELD_SAMPLES long or more."""
    if idx.size < MIN_HELD_SAMPLES:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate((idx[:1], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks] + 1, idx[-1:] + 1))
    return [
        (int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= MIN_HELD_SAMPLES
    ]
