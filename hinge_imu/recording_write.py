"""Write recordings: :func:`write_recording` (batch, atomic) and
:class:`RecordingWriter` (streaming, crash-safe, for live sessions).

Both write ``t`` to 1 µs (``%.6f``) and the sensor values to 7 significant
digits by default, so a write → read round trip keeps every value to that
precision. Rows come out in time order across sensors (batch) or in arrival
order (streaming); within one sensor ``t`` always increases.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
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
_GZIP_LEVEL = 6  # as gzip(1); level 9 is ~5x slower for ~3 % smaller files


def _columns(with_mag: bool, with_seq: bool) -> list[str]:
    return [
        "t",
        "sensor",
        *ACC_COLS,
        *GYR_COLS,
        *(MAG_COLS if with_mag else ()),
        *(("seq",) if with_seq else ()),
    ]


def _header_text(header: Mapping[str, str], path: str) -> str:
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
    head = _header_text(header, name)

    codes, values, with_mag, with_seq = _long_table(recording)
    names = [n for n in SENSOR_NAMES if n in recording.sensors]
    # one %-format per sensor, the name built in; "%.0s" prints an absent
    # optional value (a placeholder 0) as an empty field
    fmts = [_row_format(recording.sensors[n], n, float_format, with_mag, with_seq) for n in names]
    n_required = 1 + len(ACC_COLS) + len(GYR_COLS)
    with atomic_write(path, "wb") as raw:
        out: IO[bytes] = raw
        gz = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0)
            if name.endswith(".gz")
            else None
        )
        if gz is not None:
            out = gz  # type: ignore[assignment]
        cols = _columns(with_mag, with_seq)
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


class RecordingWriter:
    """Stream samples into a recording file as they arrive (live recording).

    Writes under the **final name** from the start: for a live recording,
    keeping what was recorded when the process dies matters more than
    atomicity. Lines are buffered in memory and written whole, then fsynced,
    at least every ``flush_interval_s`` (by a background thread too, so a
    quiet moment does not hold data back): a killed process loses at most
    that much, and the file it leaves reads back (the reader drops a torn
    last line, and accepts a gzip stream cut short, with a warning).

    Args:
        path: ``*.csv`` or ``*.csv.gz``.
        header: ``# key: value`` header keys, written first, in order.
        flush_interval_s: longest time a written sample stays only in memory, s.
        with_mag: add the ``mag_x..z`` columns (µT).
        with_seq: add the ``seq`` column (device sample counter).
        float_format: format of acc, gyr and mag values; ``t`` is written to 1 µs.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: Mapping[str, str],
        *,
        flush_interval_s: float = 1.0,
        with_mag: bool = False,
        with_seq: bool = True,
        float_format: str = DEFAULT_FLOAT_FORMAT,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s must be > 0, got {flush_interval_s}")
        self.path = Path(path)
        self.flush_interval_s = float(flush_interval_s)
        self.with_mag = with_mag
        self.with_seq = with_seq
        self._fmt = float_format
        self._name = str(path)
        self._last_t: dict[str, float] = {}
        self._mag_seen: dict[str, bool] = {}
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._closed = False
        self.n_samples = 0
        head = _header_text(header, self._name) + ",".join(_columns(with_mag, with_seq)) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._raw = open(self.path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
        self._gz = (
            gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0)
            if self._name.endswith(".gz")
            else None
        )
        self._pending.append(head)
        self._last_flush = time.monotonic()
        self._flush_locked()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._flush_loop, name="RecordingWriter", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(
        self,
        sensor: str,
        t_s: float | npt.ArrayLike,
        acc_mps2: npt.ArrayLike,
        gyr_dps: npt.ArrayLike,
        seq: int | npt.ArrayLike | None = None,
        mag_ut: npt.ArrayLike | None = None,
    ) -> None:
        """Append one sample (t scalar, acc/gyr shape (3,)) or N samples (t (N,), (N, 3)).

        Raises:
            RecordingError: unknown sensor, wrong shapes, non-finite values,
                or time not after this sensor's previous sample (nothing of
                this call is written then).
        """
        if self._closed:
            raise RecordingError("the recording writer is closed", self._name)
        if sensor not in SENSOR_NAMES:
            raise RecordingError(
                f"unknown sensor name '{sensor}' (allowed: {', '.join(SENSOR_NAMES)})", self._name
            )
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        n = t.shape[0]
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3)
        mag = None if mag_ut is None else np.asarray(mag_ut, dtype=np.float64).reshape(-1, 3)
        sq = None if seq is None else np.atleast_1d(np.asarray(seq, dtype=np.int64))
        self._check(sensor, t, acc, gyr, mag, sq)
        lines = self._format(sensor, t, acc, gyr, mag, sq)
        with self._lock:
            self._pending.extend(lines)
            self._last_t[sensor] = float(t[-1])
            self.n_samples += n
            if time.monotonic() - self._last_flush >= self.flush_interval_s:
                self._flush_locked()

    def write_block(
        self,
        sensor: str,
        t_s: npt.ArrayLike,
        acc_mps2: npt.ArrayLike,
        gyr_dps: npt.ArrayLike,
        mag_ut: npt.ArrayLike | None = None,
        seq: npt.ArrayLike | None = None,
    ) -> None:
        """Like :meth:`write` for a block of samples (a live session's ``Block``).

        Magnetometer values are dropped when the writer was opened without
        mag columns, and ``seq`` when without a seq column, so any source's
        blocks can be recorded.
        """
        self.write(
            sensor,
            t_s,
            acc_mps2,
            gyr_dps,
            seq=seq if self.with_seq else None,
            mag_ut=mag_ut if self.with_mag else None,
        )

    def _check(
        self,
        sensor: str,
        t: npt.NDArray[np.float64],
        acc: npt.NDArray[np.float64],
        gyr: npt.NDArray[np.float64],
        mag: npt.NDArray[np.float64] | None,
        sq: npt.NDArray[np.int64] | None,
    ) -> None:
        n = t.shape[0]
        if t.ndim != 1 or acc.shape != (n, 3) or gyr.shape != (n, 3):
            raise RecordingError(
                f"sensor '{sensor}': t, acc and gyr sample counts differ", self._name
            )
        if (mag is not None and mag.shape != (n, 3)) or (sq is not None and sq.shape != (n,)):
            raise RecordingError(f"sensor '{sensor}': mag or seq sample count differs", self._name)
        if mag is not None and not self.with_mag:
            raise RecordingError("mag_ut given but the writer has no mag columns", self._name)
        if sq is not None and not self.with_seq:
            raise RecordingError("seq given but the writer has no seq column", self._name)
        if self.with_mag and self._mag_seen.setdefault(sensor, mag is not None) != (
            mag is not None
        ):
            raise RecordingError(
                f"sensor '{sensor}': give mag_ut on every sample or on none", self._name
            )
        vals = [t, acc, gyr] + ([mag] if mag is not None else [])
        if not all(np.isfinite(v).all() for v in vals):
            raise RecordingError(f"sensor '{sensor}': non-finite sample value", self._name)
        prev = self._last_t.get(sensor, -np.inf)
        steps = np.diff(np.concatenate(([prev], t)))
        if n and (steps <= 0).any():
            i = int(np.flatnonzero(steps <= 0)[0])
            before = prev if i == 0 else float(t[i - 1])
            raise RecordingError(
                f"time goes backwards for sensor '{sensor}' ({t[i]:.6f} s after "
                f"{before:.6f} s); not written",
                self._name,
            )

    def _format(
        self,
        sensor: str,
        t: npt.NDArray[np.float64],
        acc: npt.NDArray[np.float64],
        gyr: npt.NDArray[np.float64],
        mag: npt.NDArray[np.float64] | None,
        sq: npt.NDArray[np.int64] | None,
    ) -> list[str]:
        f = self._fmt
        lines = []
        for i in range(t.shape[0]):
            parts = [f"{t[i]:.6f}", sensor, *(f % v for v in acc[i]), *(f % v for v in gyr[i])]
            if self.with_mag:
                parts.extend(("", "", "") if mag is None else (f % v for v in mag[i]))
            if self.with_seq:
                parts.append("" if sq is None else str(int(sq[i])))
            lines.append(",".join(parts) + "\n")
        return lines

    def flush(self) -> None:
        """Write and fsync everything written so far."""
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        data = "".join(self._pending).encode("utf-8")
        self._pending.clear()
        if self._gz is not None:
            self._gz.write(data)
            self._gz.flush()  # Z_SYNC_FLUSH: everything so far decompresses
        else:
            view = memoryview(data)
            while view:  # whole lines in as few write() calls as the OS allows
                view = view[self._raw.write(view) or 0 :]
        os.fsync(self._raw.fileno())

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s / 2):
            with self._lock:
                if self._closed:
                    return
                if time.monotonic() - self._last_flush >= self.flush_interval_s / 2:
                    self._flush_locked()

    def close(self) -> None:
        """Flush, finish the gzip stream if any, fsync and close. Safe to call twice."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            if self._closed:
                return
            try:
                self._flush_locked()
                if self._gz is not None:
                    self._gz.close()
                    os.fsync(self._raw.fileno())
            finally:
                self._closed = True
                self._raw.close()
