"""The long table of a recording split per sensor, with the contract's vectorised checks.

Both of the reader's parses end here: the fast one (pyarrow, in blocks of
rows) and the slow one (pandas, the whole table as one block). Each value is
copied once, from its block straight into its sensor's array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hinge_imu.conventions import ACC_COLS, GYR_COLS, MAG_COLS, SENSOR_NAMES
from hinge_imu.recording.check import MAX_SPAN_S, VALUE_LIMITS
from hinge_imu.samples import FloatArray, IntArray, SensorStream

#: One block of rows: per row the index of its sensor's name (-1: none), and
#: every known numeric column present (``t``, acc, gyr, mag, ``seq``; NaN: empty).
Block = tuple[IntArray, dict[str, FloatArray]]


def split_streams(
    raw_names: Sequence[str],
    blocks: Sequence[Block],
    cols: tuple[str, ...],
    header: dict[str, str],
) -> dict[str, SensorStream] | None:
    """One stream per sensor, in ``SENSOR_NAMES`` order; None if any check fails.

    ``raw_names`` are the sensor fields as written: "pelvis " and "pelvis"
    are one sensor (the line-by-line diagnosis strips fields too). The
    checks: every row names a known sensor; t finite; acc, gyr, mag within
    ``VALUE_LIMITS``; t increasing per sensor; mag and seq on every row of a
    sensor or on none; seq whole; all sensors within ``MAX_SPAN_S``.
    """
    stripped = [n.strip() for n in raw_names]
    names = list(dict.fromkeys(stripped))
    if not set(names) <= set(SENSOR_NAMES):
        return None
    remap = np.array([names.index(n) for n in stripped] + [-1], dtype=np.int64)
    order = sorted(range(len(names)), key=lambda k: SENSOR_NAMES.index(names[k]))
    has_mag = all(c in cols for c in MAG_COLS)
    has_seq = "seq" in cols
    # per block: the row indices of each sensor, in row order
    rows: list[list[IntArray]] = []
    for raw_codes, _ in blocks:
        codes = remap[raw_codes]  # code -1 (missing) stays -1
        if codes.size and codes.min() < 0:
            return None
        rows.append(_rows_by_code(codes, len(names)))
    streams: dict[str, SensorStream] = {}
    for k in order:
        n = sum(r[k].size for r in rows)
        if n == 0:
            continue
        t_s = np.empty(n)
        acc, gyr = np.empty((n, 3)), np.empty((n, 3))
        mag = np.empty((n, 3)) if has_mag else None
        seq = np.empty(n) if has_seq else None
        at = 0
        for (_, col), r in zip(blocks, rows, strict=True):
            idx = r[k]
            end = at + idx.size
            # Straight into place ("clip": unbuffered; the indices are rows of the block).
            col["t"].take(idx, out=t_s[at:end], mode="clip")
            for j in range(3):
                col[ACC_COLS[j]].take(idx, out=acc[at:end, j], mode="clip")
                col[GYR_COLS[j]].take(idx, out=gyr[at:end, j], mode="clip")
                if mag is not None:
                    col[MAG_COLS[j]].take(idx, out=mag[at:end, j], mode="clip")
            if seq is not None:
                col["seq"].take(idx, out=seq[at:end], mode="clip")
            at = end
        sensor = names[k]
        stream = _checked(t_s, acc, gyr, mag, seq, _rate_from_header(header, sensor))
        if stream is None:
            return None
        streams[sensor] = stream
    if streams:
        first = min(float(s.t_s[0]) for s in streams.values())
        if max(float(s.t_s[-1]) for s in streams.values()) - first > MAX_SPAN_S:
            return None
    return streams


def _rows_by_code(codes: IntArray, n_codes: int) -> list[IntArray]:
    """For each code 0…n_codes-1, the indices of the rows holding it, ascending."""
    if n_codes == 1:
        return [np.arange(codes.size)]
    # One pass per sensor (three at most): faster than a stable sort of the codes.
    return [np.flatnonzero(codes == c) for c in range(n_codes)]


def _checked(
    t_s: FloatArray,
    acc: FloatArray,
    gyr: FloatArray,
    mag: FloatArray | None,
    seq: FloatArray | None,
    rate_hz: float | None,
) -> SensorStream | None:
    """One sensor's stream if its values keep the contract, else None."""
    if not np.isfinite(t_s).all() or not (np.diff(t_s) > 0).all():
        return None
    if not (
        _within(acc, VALUE_LIMITS[ACC_COLS[0]][0]) and _within(gyr, VALUE_LIMITS[GYR_COLS[0]][0])
    ):
        return None
    mag_ut = _optional_block(mag)
    seq_i = _optional_seq(seq)
    if isinstance(mag_ut, bool) or isinstance(seq_i, bool):
        return None
    return SensorStream(
        t_s=t_s, acc_mps2=acc, gyr_dps=gyr, mag_ut=mag_ut, seq=seq_i, rate_hz=rate_hz
    )


def _within(x: FloatArray, limit: float) -> bool:
    """Every value finite and within ±limit (nan fails too: it propagates through max/min).

    Two reductions and no temporary array: cheaper than ``np.abs(x) <= limit``.
    """
    return x.size == 0 or bool(x.max() <= limit and x.min() >= -limit)


def _optional_block(block: FloatArray | None) -> FloatArray | bool | None:
    """Magnetometer: all present, or all empty (None); a mix is a problem (False)."""
    if block is None:
        return None
    if _within(block, VALUE_LIMITS[MAG_COLS[0]][0]):
        return block
    if np.isnan(block).all():
        return None
    return False


def _optional_seq(s: FloatArray | None) -> IntArray | bool | None:
    if s is None or np.isnan(s).all():
        return None
    if not np.isfinite(s).all() or (s != np.round(s)).any():
        return False
    return s.astype(np.int64)


def _rate_from_header(header: dict[str, str], sensor: str) -> float | None:
    value = header.get(f"rate_hz.{sensor}")
    return None if value is None else float(value)  # checked by parse_header_lines


__all__ = ["Block", "split_streams"]
