"""Read a recording file (docs/recording-format.md) into a :class:`~hinge_imu.samples.Recording`.

The fast path parses the table with pyarrow's multi-threaded CSV reader
(:mod:`hinge_imu.recording.fastcsv`) and validates it with vectorised numpy
checks. Only when something is wrong does the slow path read the whole text
with pandas and (:mod:`hinge_imu.recording.check`) walk it line by line to
name the exact line and problem, so valid files pay nothing for it, not even
importing pandas.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hinge_imu.conventions import (
    ACC_COLS,
    GYR_COLS,
    MAG_COLS,
    RECORDING_MAGIC,
    REQUIRED_SENSOR,
)
from hinge_imu.errors import RecordingError
from hinge_imu.recording.check import (
    MAX_SPAN_S,
    RowState,
    TableLayout,
    check_columns,
    diagnose_lines,
    parse_header_lines,
    row_problem,
    unknown_columns,
)
from hinge_imu.recording.split import split_streams
from hinge_imu.recording.tolerate import drop_dead_sensors, mark_saturation, shift_clock_offset
from hinge_imu.samples import Recording, SensorStream

if TYPE_CHECKING:
    import pandas as pd

_GZIP_MAGIC = b"\x1f\x8b"
_NUMERIC_COLS = ("t", *ACC_COLS, *GYR_COLS)
_DIAGNOSE_CHUNK_BYTES = 1 << 20


class _SlowPath(Exception):
    """The fast path met something it does not diagnose itself."""


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read and validate a ``.csv`` or ``.csv.gz`` recording.

    Returns a :class:`Recording` whose streams are in time order per sensor
    (t in s, acc in m/s², gyr in deg/s, mag in µT). Tolerated problems, such
    as a torn last line left by a killed recorder (dropped), are listed in
    ``Recording.warnings``.

    Raises:
        RecordingError: anything that breaks the contract, as
            ``"FILE:LINE: problem"``.
    """
    name = str(path)
    try:
        return _read_fast(Path(path), name)
    except (_SlowPath, OSError, EOFError, zlib.error, ValueError):
        # UnicodeDecodeError and every pyarrow error (fastcsv) are ValueErrors,
        # gzip.BadGzipFile an OSError
        return _read_slow(Path(path), name)


def _read_fast(path: Path, name: str) -> Recording:
    """Header lines read here, the table by pyarrow from just after them, then vectorised checks."""
    from hinge_imu.recording.fastcsv import parse_table, release_memory

    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        head: list[bytes] = []
        while True:
            line = fh.readline()
            if not line:
                raise _SlowPath  # empty, or header without table
            head.append(line)
            stripped = line.strip()
            if stripped and not stripped.startswith(b"#"):
                break
        head_bytes = b"".join(head)
        if head_bytes.startswith((b"\xef\xbb\xbf", _GZIP_MAGIC)):
            raise _SlowPath
        warnings: list[str] = []
        header, n_comment_lines, body_start = parse_header_lines(head_bytes, name, warnings)
        columns = check_columns(head_bytes[body_start:], name, n_comment_lines + 1)
    if not head_bytes.endswith(b"\n"):
        raise _SlowPath  # a column line without rows
    parsed = parse_table(path, len(head_bytes), columns)
    sensors = split_streams(parsed.sensor_names, parsed.blocks, columns, header)
    del parsed  # pyarrow's copy of the table, as big as the streams
    release_memory()
    if sensors is None or not sensors:
        raise _SlowPath
    warnings += _column_warnings(name, columns, n_comment_lines + 1)
    return _finish(sensors, header, name, warnings, n_comment_lines + 2)


def _read_slow(path: Path, name: str) -> Recording:
    """Whole file in memory; tolerant of a torn end; names the exact bad line."""
    warnings: list[str] = []
    data = _load_bytes(path, name, warnings)
    if not data or data.isspace():
        raise RecordingError("file is empty (no header, no samples)", name, 1)
    _check_utf8(data, name)
    if data.startswith(b"\xef\xbb\xbf"):  # BOM from spreadsheet exports
        data = data[3:]

    header, n_comment_lines, body_start = parse_header_lines(data, name, warnings)
    col_end = data.find(b"\n", body_start)
    col_end = len(data) if col_end < 0 else col_end
    column_line_no = n_comment_lines + 1
    columns = check_columns(data[body_start:col_end], name, column_line_no)
    layout = TableLayout(name, columns, first_row_line=column_line_no + 1)
    warnings.extend(_column_warnings(name, columns, column_line_no))
    table = data[col_end + 1 :] if col_end < len(data) else b""
    table = _drop_torn_last_line(table, layout, warnings)
    import pandas as pd  # only here: a valid file never needs it

    if not table or table.isspace():
        raise RecordingError(
            "no samples: the file has a header but no data rows", name, column_line_no
        )
    try:
        df = pd.read_csv(io.BytesIO(table), **_read_csv_options(columns))
        sensors = _streams_from_frame(df, columns, header)
    except (ValueError, pd.errors.ParserError) as err:
        _diagnose(table, layout, header)
        raise RecordingError(f"cannot parse the table ({err})", name) from None
    if sensors is None:
        _diagnose(table, layout, header)
        raise RecordingError("the table breaks the format", name)
    return _finish(sensors, header, name, warnings, layout.first_row_line)


def _finish(
    sensors: dict[str, SensorStream],
    header: dict[str, str],
    name: str,
    warnings: list[str],
    first_row_line: int,
) -> Recording:
    if REQUIRED_SENSOR not in sensors:
        found = ", ".join(sensors) or "none"
        raise RecordingError(
            f"no '{REQUIRED_SENSOR}' sensor (found: {found}); the pelvis sensor is required", name
        )
    sensors = drop_dead_sensors(sensors, REQUIRED_SENSOR, name, warnings)
    sensors, header = shift_clock_offset(sensors, header, name, first_row_line, warnings)
    sensors = mark_saturation(sensors, name, warnings)
    return Recording(sensors=sensors, header=header, source=name, warnings=tuple(warnings))


def _column_warnings(name: str, columns: tuple[str, ...], line_no: int) -> list[str]:
    return [f"{name}:{line_no}: ignored unknown column '{c}'" for c in unknown_columns(columns)]


def _read_csv_options(columns: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(unknown_columns(columns))
    dtypes = {c: "object" if c in unknown else "float64" for c in columns}
    dtypes["sensor"] = "category"
    return {
        "header": None,
        "names": list(columns),
        "dtype": dtypes,
        "engine": "c",
        "skip_blank_lines": True,
        "encoding": "utf-8",
    }


def _load_bytes(path: Path, name: str, warnings: list[str]) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RecordingError("file not found", name) from None
    except IsADirectoryError:
        raise RecordingError("is a directory, not a recording file", name) from None
    except OSError as err:
        raise RecordingError(f"cannot read file ({err.strerror})", name) from None
    if not (name.endswith(".gz") or raw.startswith(_GZIP_MAGIC)):
        return raw
    if not raw.startswith(_GZIP_MAGIC):
        raise RecordingError("not a gzip file (the name ends in .gz)", name)
    return _gunzip(raw, name, warnings)


def _gunzip(raw: bytes, name: str, warnings: list[str]) -> bytes:
    """Decompress all gzip members; a stream cut short (crashed writer) is kept with a warning."""
    out: list[bytes] = []
    rest = raw
    while rest:
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(rest))
        except zlib.error as err:
            raise RecordingError(f"corrupt gzip data ({err})", name) from None
        if not d.eof:
            if not out[0]:
                raise RecordingError("gzip stream cut short before any data", name)
            ends_at = sum(part.count(b"\n") for part in out) + 1
            warnings.append(
                f"{name}:{ends_at}: the compressed stream ends early, at this line (a copy "
                "that did not finish, or a recorder that did not close the file); "
                "the samples before it are used"
            )
            break
        rest = d.unused_data
        if rest and not rest.startswith(_GZIP_MAGIC):
            break  # trailing garbage after the last member is ignored, as gzip(1) does
    return b"".join(out)


def _check_utf8(data: bytes, name: str) -> None:
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise RecordingError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8", name, line
        ) from None


def _drop_torn_last_line(table: bytes, layout: TableLayout, warnings: list[str]) -> bytes:
    """Drop a last line without newline that does not parse: what a killed writer leaves."""
    if not table or table.endswith(b"\n"):
        return table
    cut = table.rfind(b"\n") + 1
    last = table[cut:]
    line_no = layout.first_row_line + table.count(b"\n", 0, cut)
    text = last.decode("utf-8", errors="replace").rstrip("\r")
    problem = row_problem(text, layout.columns)
    if problem is None:
        return table
    warnings.append(
        f"{layout.name}:{line_no}: dropped an incomplete last line ({problem}); "
        "a recorder that was stopped abruptly leaves one"
    )
    return table[:cut]


def _diagnose(table: bytes, layout: TableLayout, header: dict[str, str]) -> None:
    """Find the first bad line of a table the fast path rejected, and raise for it.

    Chunk by chunk, each checked fast with pandas and numpy (carrying each
    sensor's last time over); only the first chunk that fails is walked line
    by line. Returns normally if nothing is found.
    """
    import pandas as pd

    state = RowState()
    opts = _read_csv_options(layout.columns)
    has_mag = all(c in layout.columns for c in MAG_COLS)
    offset, line = 0, layout.first_row_line
    while offset < len(table):
        end = table.find(b"\n", offset + _DIAGNOSE_CHUNK_BYTES)
        end = len(table) if end < 0 else end + 1
        chunk = table[offset:end]
        try:
            streams = _streams_from_frame(
                pd.read_csv(io.BytesIO(chunk), **opts), layout.columns, header
            )
        except (ValueError, pd.errors.ParserError):
            streams = None
        if streams is not None and _continues(streams, state, has_mag, "seq" in layout.columns):
            for sensor, s in streams.items():
                state.last_t[sensor] = float(s.t_s[-1])
                state.first_t = min(state.first_t, float(s.t_s[0]))
                state.latest_t = max(state.latest_t, float(s.t_s[-1]))
        else:
            diagnose_lines(chunk, layout.name, layout.columns, line, state)
        line += chunk.count(b"\n")
        offset = end


def _continues(
    streams: dict[str, SensorStream], state: RowState, has_mag: bool, has_seq: bool
) -> bool:
    """Whether a chunk that is fine on its own also fits the rows before it."""
    lo = min(state.first_t, *(float(s.t_s[0]) for s in streams.values()))
    if max(state.latest_t, *(float(s.t_s[-1]) for s in streams.values())) - lo > MAX_SPAN_S:
        return False
    for sensor, s in streams.items():
        if s.t_s[0] <= state.last_t.get(sensor, -np.inf):
            return False
        for group, has, given in (("mag", has_mag, s.mag_ut), ("seq", has_seq, s.seq)):
            if has and state.present.setdefault((sensor, group), given is not None) != (
                given is not None
            ):
                return False
    return True


def _streams_from_frame(
    df: pd.DataFrame, cols: tuple[str, ...], header: dict[str, str]
) -> dict[str, SensorStream] | None:
    """The slow path's table (pandas, sensor as a category) split per sensor; None if bad."""
    sensor_cat = df["sensor"].cat
    codes = sensor_cat.codes.to_numpy().astype(np.int64)  # -1: missing
    numbers = {
        c: df[c].to_numpy(dtype=np.float64) for c in (*_NUMERIC_COLS, *MAG_COLS, "seq") if c in cols
    }
    names = [str(c) for c in sensor_cat.categories]
    return split_streams(names, [(codes, numbers)], cols, header)


__all__ = ["RECORDING_MAGIC", "read_recording"]
