"""Write recordings: :func:`write_recording` (batch, atomic), plus the pieces
it shares with the streaming writer in :mod:`hinge_imu.recording.stream`.

Both writers write ``t`` to 1 µs (``%.6f``) and the sensor values to 7 significant
digits by default, so a write → read round trip keeps every value to that
precision. Rows come out in time order across sensors (batch) or in arrival
order (streaming); within one sensor ``t`` always increases.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from hinge_imu.atomic import atomic_write
from hinge_imu.conventions import (
    ACC_COLS,
    GYR_COLS,
    MAG_COLS,
    RECORDING_MAGIC,
    REQUIRED_SENSOR,
    SENSOR_NAMES,
)
from hinge_imu.errors import RecordingError
from hinge_imu.samples import Recording, SensorStream

DEFAULT_FLOAT_FORMAT = "%.7g"
_CHUNK_ROWS = 50_000
GZIP_LEVEL = 6  # as gzip(1); level 9 is ~5x slower for ~3 % smaller files


def columns(with_mag: bool, with_seq: bool) -> list[str]:
    """The column line's names, in the order both writers use."""
    return [
        "t",
        "sensor",
        *ACC_COLS,
        *GYR_COLS,
        *(MAG_COLS if with_mag else ()),
        *(("seq",) if with_seq else ()),
    ]


def header_text(header: Mapping[str, str], path: str) -> str:
    """The header lines: the format line, then ``# key: value`` in order."""
    lines = [RECORDING_MAGIC]
    for key, value in header.items():
        k, v = str(key).strip(), str(value).strip()
        if not k or ":" in k or "\n" in k or "\r" in k or "\n" in v or "\r" in v:
            raise RecordingError(
                f"header key {key!r} or its value cannot be written on one '# key: value' line",
                path,
            )
        lines.append(f"# {k}: {v}")
    return "\n".join(lines) + "\n"


def _check_stream(name: str, s: SensorStream, path: str) -> None:
    if name not in SENSOR_NAMES:
        raise RecordingError(
            f"unknown sensor name '{name}' (allowed: {', '.join(SENSOR_NAMES)})", path
        )
    n = len(s)
    shapes_ok = s.acc_mps2.shape == (n, 3) and s.gyr_dps.shape == (n, 3)
    shapes_ok &= s.mag_ut is None or s.mag_ut.shape == (n, 3)
    shapes_ok &= s.seq is None or s.seq.shape == (n,)
    if not shapes_ok:
        raise RecordingError(f"sensor '{name}': arrays do not all have {n} samples", path)
    if s.mag_ut is not None and not np.isfinite(s.mag_ut).all():
        raise RecordingError(f"sensor '{name}': non-finite magnetometer value", path)
    bad = np.flatnonzero(np.diff(s.t_s) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise RecordingError(
            f"sensor '{name}': time does not increase at sample {i} "
            f"({s.t_s[i]:.6f} s after {s.t_s[i - 1]:.6f} s)",
            path,
        )


def write_recording(
    path: str | os.PathLike[str],
    recording: Recording,
    *,
    float_format: str = DEFAULT_FLOAT_FORMAT,
) -> None:
    """Write ``recording`` to ``path`` (gzip-compressed if it ends in ``.gz``), atomically.

    The file appears complete under its final name or not at all: it is
    written to a temp file in the same directory, fsynced and renamed.
    ``rate_hz.<sensor>`` header keys are written from ``SensorStream.rate_hz``
    where set. ``float_format`` formats acc (m/s²), gyr (deg/s) and mag (µT);
    ``t`` (s) is always written to 1 µs.

    Raises:
        RecordingError: no pelvis stream, unknown sensor name, arrays of
            different lengths, time not increasing, non-finite values.
    """
    name = str(path)
    if REQUIRED_SENSOR not in recording.sensors:
        raise RecordingError(f"no '{REQUIRED_SENSOR}' stream; a recording needs one", name)
    for sensor, stream in recording.sensors.items():
        _check_stream(sensor, stream, name)
    header = dict(recording.header)
    for sensor, stream in recording.sensors.items():
        if stream.rate_hz is not None:
            header[f"rate_hz.{sensor}"] = f"{stream.rate_hz:g}"
    head = header_text(header, name)

    codes, values, with_mag, with_seq = _long_table(recording)
    names = [n for n in SENSOR_NAMES if n in recording.sensors]
    # one %-format per sensor, the name built in; "%.0s" prints an absent
    # optional value (a placeholder 0) as an empty field
    fmts = [_row_format(recording.sensors[n], n, float_format, with_mag, with_seq) for n in names]
    n_required = 1 + len(ACC_COLS) + len(GYR_COLS)
    with atomic_write(path, "wb") as raw:
        out: IO[bytes] = raw
        gz = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
            if name.endswith(".gz")
            else None
        )
        if gz is not None:
            out = gz  # type: ignore[assignment]
        cols = columns(with_mag, with_seq)
        out.write(head.encode("utf-8") + (",".join(cols) + "\n").encode("utf-8"))
        for start in range(0, len(codes), _CHUNK_ROWS):
            chunk = values[start : start + _CHUNK_ROWS]
            # checked per chunk, as written: a bad value late in the data is
            # found mid-way, and atomic_write then leaves nothing behind
            if not np.isfinite(chunk[:, :n_required]).all():
                raise RecordingError("non-finite sample value (inf or nan); nothing written", name)
            text = "".join(
                fmts[c] % tuple(row)
                for c, row in zip(
                    codes[start : start + _CHUNK_ROWS].tolist(), chunk.tolist(), strict=True
                )
            )
            out.write(text.encode("utf-8"))
        if gz is not None:
            gz.close()


def _row_format(
    s: SensorStream, sensor: str, float_format: str, with_mag: bool, with_seq: bool
) -> str:
    fields = ["%.6f", sensor, *[float_format] * 6]
    if with_mag:
        fields += [float_format if s.mag_ut is not None else "%.0s"] * 3
    if with_seq:
        fields.append("%d" if s.seq is not None else "%.0s")
    return ",".join(fields) + "\n"


def _long_table(
    recording: Recording,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], bool, bool]:
    """All samples as (sensor index, value rows), sorted by time (ties in sensor order).

    Value columns: t, acc, gyr, then mag and seq if any stream has them
    (0 where a stream lacks them; its row format prints those as empty).
    """
    with_mag = any(s.mag_ut is not None for s in recording.sensors.values())
    with_seq = any(s.seq is not None for s in recording.sensors.values())
    names = [n for n in SENSOR_NAMES if n in recording.sensors]
    codes, blocks = [], []
    for k, sensor in enumerate(names):
        s = recording.sensors[sensor]
        n = len(s)
        cols: list[npt.NDArray[Any]] = [s.t_s[:, None], s.acc_mps2, s.gyr_dps]
        if with_mag:
            cols.append(s.mag_ut if s.mag_ut is not None else np.zeros((n, 3)))
        if with_seq:
            cols.append((s.seq if s.seq is not None else np.zeros(n))[:, None])
        blocks.append(np.hstack(cols).astype(np.float64))
        codes.append(np.full(n, k, dtype=np.intp))
    code = np.concatenate(codes)
    values = np.concatenate(blocks)
    order = np.lexsort((code, values[:, 0]))
    return code[order], values[order], with_mag, with_seq
