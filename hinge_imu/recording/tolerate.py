"""What the reader accepts with a warning once the table is parsed (docs/recording-format.md).

* A clock offset (Unix time from a logger, a device's uptime): shifted so
  the first sample is at 0 s, the start kept in the header.
* Where a sensor sat at the limit of its range (saturated, clipped
  readings): found by :mod:`hinge_imu.saturation` (the detector live
  coaching runs too) and kept with each sensor's stream.
"""

from __future__ import annotations

from dataclasses import replace

from hinge_imu.errors import RecordingError
from hinge_imu.samples import SensorStream
from hinge_imu.saturation import SaturationSettings, describe_stretches, saturated_stretches

#: A first sample later than this (or before 0) is a clock offset, e.g. Unix
#: time from a logger: shifted to 0 (a short lead-in is kept as it is), s.
MAX_START_S = 60.0
#: A first sample at most this far before 0 is a sample stamped just before
#: the recording started (host clock jitter, a first packet in flight): shifted
#: to 0 and kept in the header like an offset, but not worth a warning, s.
MAX_EARLY_S = 1.0
#: Header key that keeps the shifted-away start time, s on the file's clock.
OFFSET_KEY = "t_offset_s"


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
    if t0 < -MAX_EARLY_S or t0 > MAX_START_S:
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
    sensors: dict[str, SensorStream],
    name: str,
    warnings: list[str],
    settings: SaturationSettings | None = None,
) -> dict[str, SensorStream]:
    """Sensors with their saturated stretches set (``saturated_s``), a warning for each such."""
    out = dict(sensors)
    for n, s in sensors.items():
        found = saturated_stretches(s.t_s, s.acc_mps2, s.gyr_dps, settings)
        if found:
            out[n] = replace(s, saturated_s=found)
            warnings.append(
                f"{name}: sensor '{n}' is saturated (held at its range limit) "
                f"{describe_stretches(found)}; reps touching them are not judged"
            )
    return out
