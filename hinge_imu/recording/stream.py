"""Streaming recording writer for live sessions: crash-safe rather than atomic.

See :class:`RecordingWriter` and ``docs/recording-format.md``.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import SENSOR_NAMES
from hinge_imu.errors import RecordingError
from hinge_imu.recording.write import DEFAULT_FLOAT_FORMAT, GZIP_LEVEL, columns, header_text


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
        #: Checked samples not yet formatted: (sensor, rows of t/acc/gyr[/mag], seq).
        self._blocks: list[tuple[str, npt.NDArray[np.float64], npt.NDArray[np.int64] | None]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._error: RecordingError | None = None
        self.n_samples = 0
        head = header_text(header, self._name) + ",".join(columns(with_mag, with_seq)) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._raw = open(self.path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
        except OSError as err:
            raise RecordingError(f"cannot create the file ({err.strerror})", self._name) from None
        self._gz = (
            gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
            if self._name.endswith(".gz")
            else None
        )
        self._pending.append(head)
        self._last_flush = time.monotonic()
        try:
            self._flush_locked()
        except RecordingError:
            self._raw.close()
            raise
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
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RecordingError("the recording writer is closed", self._name)
        if sensor not in SENSOR_NAMES:
            raise RecordingError(
                f"unknown sensor name '{sensor}' (allowed: {', '.join(SENSOR_NAMES)})", self._name
            )
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        n = t.shape[0]
        if n == 0:
            return
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=np.float64).reshape(-1, 3)
        mag = None if mag_ut is None else np.asarray(mag_ut, dtype=np.float64).reshape(-1, 3)
        sq = None if seq is None else np.atleast_1d(np.asarray(seq, dtype=np.int64))
        values = self._check(sensor, t, acc, gyr, mag, sq)
        # Formatted at the flush, all at once: per block only the checks run
        # (a live session writes ~60 small blocks a second).
        block = (sensor, values, None if sq is None else sq.copy())
        with self._lock:
            self._blocks.append(block)
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
    ) -> npt.NDArray[np.float64]:
        """Raise RecordingError on bad input; the samples as rows (t, acc, gyr[, mag])."""
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
        # One array for the finiteness check and the formatting: per-call numpy
        # overhead, not the values, dominates for a live session's small blocks.
        values = np.hstack((t[:, None], acc, gyr) if mag is None else (t[:, None], acc, gyr, mag))
        if not np.isfinite(values).all():
            raise RecordingError(f"sensor '{sensor}': non-finite sample value", self._name)
        prev = self._last_t.get(sensor, -np.inf)
        if not (t[0] > prev and (n == 1 or (t[1:] > t[:-1]).all())):
            steps = np.diff(np.concatenate(([prev], t)))
            i = int(np.flatnonzero(steps <= 0)[0])
            before = prev if i == 0 else float(t[i - 1])
            raise RecordingError(
                f"time goes backwards for sensor '{sensor}' ({t[i]:.6f} s after "
                f"{before:.6f} s); not written",
                self._name,
            )
        return values

    def _format(
        self, sensor: str, values: npt.NDArray[np.float64], sq: npt.NDArray[np.int64] | None
    ) -> str:
        """The lines of checked samples (rows of t, acc, gyr[, mag]), as one string."""
        f = self._fmt
        # One %-format per line: the same text as formatting value by value
        # ("%.6f" for t, the float format for the rest), a fraction of the cost.
        row = "%.6f," + sensor.replace("%", "%%") + "," + ",".join([f] * (values.shape[1] - 1))
        if self.with_mag and values.shape[1] == 7:
            row += ",,,"  # this sensor has no magnetometer
        rows = values.tolist()
        if self.with_seq:
            if sq is None:
                row += ","
            else:
                row += ",%d"
                for r, q in zip(rows, sq.tolist(), strict=True):
                    r.append(q)
        row += "\n"
        return "".join([row % tuple(r) for r in rows])

    def flush(self) -> None:
        """Write and fsync everything written so far."""
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._pending and not self._blocks:
            return
        self._pending.extend(self._format(*b) for b in self._blocks)
        self._blocks.clear()
        data = "".join(self._pending).encode("utf-8")
        self._pending.clear()
        try:
            if self._gz is not None:
                self._gz.write(data)
                self._gz.flush()  # Z_SYNC_FLUSH: everything so far decompresses
            else:
                view = memoryview(data)
                while view:  # whole lines in as few write() calls as the OS allows
                    view = view[self._raw.write(view) or 0 :]
            os.fsync(self._raw.fileno())
        except OSError as err:
            # kept so that the next write()/close() reports it, also when the
            # background thread met it
            self._error = _write_failed(err, self._name)
            raise self._error from None

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s / 2):
            with self._lock:
                if self._closed:
                    return
                if time.monotonic() - self._last_flush >= self.flush_interval_s / 2:
                    try:
                        self._flush_locked()
                    except RecordingError:
                        return  # reported by the next write() or close()

    def close(self) -> None:
        """Flush, finish the gzip stream if any, fsync and close. Safe to call twice."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            if self._closed:
                return
            try:
                if self._error is None:
                    self._flush_locked()
                    if self._gz is not None:
                        self._gz.close()
                        os.fsync(self._raw.fileno())
            except OSError as err:
                self._error = _write_failed(err, self._name)
            finally:
                self._closed = True
                self._raw.close()
            if self._error is not None:
                raise self._error


def _write_failed(err: OSError, name: str) -> RecordingError:
    """One line for a disk that is full or gone: the session stops, the file keeps what it has."""
    return RecordingError(
        f"cannot write the recording ({err.strerror or err}); recording stopped, "
        "the samples written before are in the file and read back",
        name,
    )
