"""Line-exact checks of a recording file: header lines, column line, rows.

Used by :mod:`hinge_imu.recording.read` for the header (always) and for the
table only after the fast vectorised path has found that something is
wrong, to name the first bad line and what is wrong with it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

from hinge_imu.conventions import (
    ACC_COLS,
    GYR_COLS,
    MAG_COLS,
    OPTIONAL_COLUMNS,
    RECORDING_MAGIC,
    REQUIRED_COLUMNS,
    SENSOR_NAMES,
)
from hinge_imu.errors import RecordingError

_NUMERIC_REQUIRED = tuple(c for c in REQUIRED_COLUMNS if c != "sensor")
_MAGIC_PREFIX = "# hinge-imu recording"

#: Beyond these no IMU reports a value, so a file holding one is broken
#: (a logger's overflow, a unit mix-up), not a hard movement: ±200 g covers
#: the high-g range of body-worn IMUs, ±10 000 °/s five times the usual
#: largest gyro range, ±5000 µT every magnetometer range.
ACC_LIMIT_MPS2 = 2000.0
GYR_LIMIT_DPS = 10_000.0
MAG_LIMIT_UT = 5000.0
#: column → (largest |value| accepted, unit).
VALUE_LIMITS: dict[str, tuple[float, str]] = {
    **dict.fromkeys(ACC_COLS, (ACC_LIMIT_MPS2, "m/s²")),
    **dict.fromkeys(GYR_COLS, (GYR_LIMIT_DPS, "deg/s")),
    **dict.fromkeys(MAG_COLS, (MAG_LIMIT_UT, "µT")),
}
#: Longest time between the earliest and the latest sample of a recording, s:
#: longer is sensors on different clocks or a clock jump, not a session.
MAX_SPAN_S = 24 * 3600.0


@dataclass(frozen=True)
class TableLayout:
    """Where the table is: file name, its columns, and the file line of its first row."""

    name: str
    columns: tuple[str, ...]
    first_row_line: int


def parse_header_lines(
    data: bytes, name: str, warnings: list[str] | None = None
) -> tuple[dict[str, str], int, int]:
    """Parse the leading ``# key: value`` lines (and blank lines among them).

    Returns (header keys in file order, number of lines before the column
    line, byte offset of the column line). Lines starting with ``#`` that
    have no ``:`` are plain comments and are skipped. A key given twice
    keeps its later value, with a warning appended to ``warnings``.
    """
    header: dict[str, str] = {}
    pos = 0
    line_no = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        raw = data[pos:end].decode("utf-8").strip()
        if raw and not raw.startswith("#"):
            break
        line_no += 1
        pos = end + 1
        if not raw:
            continue
        if raw.lower().startswith(_MAGIC_PREFIX):
            if line_no != 1:
                raise RecordingError(f"'{RECORDING_MAGIC}' must be the first line", name, line_no)
            if raw.split() != RECORDING_MAGIC.split():
                raise RecordingError(
                    f"unsupported format version '{raw[1:].strip()}' (this reader knows "
                    f"'{RECORDING_MAGIC[1:].strip()}')",
                    name,
                    line_no,
                )
            continue
        key, sep, value = raw[1:].partition(":")
        key = key.strip()
        if not sep or not key:
            continue
        value = value.strip()
        if key.startswith("rate_hz."):
            _check_rate(key, value, name, line_no)
        if key in header and warnings is not None:
            warnings.append(
                f"{name}:{line_no}: header key '{key}' given again; this later value is used"
            )
        header[key] = value
    return header, line_no, min(pos, len(data))


def _check_rate(key: str, value: str, name: str, line_no: int) -> None:
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise RecordingError(
            f"header '{key}' must be a positive number of Hz, not '{value}'", name, line_no
        )


def check_columns(raw: bytes, name: str, line_no: int) -> tuple[str, ...]:
    """Check the column line: no duplicates, all required columns, mag as a set."""
    text = raw.decode("utf-8").strip()
    if not text:
        raise RecordingError(
            "no column line: the file has header lines but no table", name, line_no
        )
    cols = tuple(c.strip() for c in next(csv.reader([text])))
    seen: set[str] = set()
    for c in cols:
        if not c:
            raise RecordingError("empty column name in the column line", name, line_no)
        if c in seen:
            raise RecordingError(f"duplicate column '{c}'", name, line_no)
        seen.add(c)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        which = ", ".join(f"'{c}'" for c in missing)
        hint = (
            "; the file seems to use ';' between fields: save it with ',' (and '.' for decimals)"
            if len(cols) == 1 and ";" in text
            else f" (the column line must name {', '.join(REQUIRED_COLUMNS)})"
        )
        raise RecordingError(
            f"missing required column{'s' if len(missing) > 1 else ''} {which}{hint}",
            name,
            line_no,
        )
    n_mag = sum(c in seen for c in MAG_COLS)
    if n_mag not in (0, 3):
        raise RecordingError("mag_x, mag_y, mag_z must come together or not at all", name, line_no)
    return cols


def unknown_columns(columns: tuple[str, ...]) -> list[str]:
    """Columns neither required nor optional (kept out of the Recording)."""
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    return [c for c in columns if c not in known]


def row_problem(text: str, columns: tuple[str, ...]) -> str | None:
    """What is wrong with one data line on its own, or None."""
    fields = next(csv.reader([text]), [])
    return _fields_problem(fields, columns)


def _fields_problem(fields: list[str], columns: tuple[str, ...]) -> str | None:
    if len(fields) != len(columns):
        return f"expected {len(columns)} fields ({','.join(columns)}), found {len(fields)}"
    row = dict(zip(columns, (f.strip() for f in fields), strict=True))
    sensor = row["sensor"]
    if not sensor:
        return "missing sensor name"
    if sensor not in SENSOR_NAMES:
        return f"unknown sensor name '{sensor}' (allowed: {', '.join(SENSOR_NAMES)})"
    for col in _NUMERIC_REQUIRED:
        problem = _number_problem(row[col], col, required=True)
        if problem:
            return problem
    for col in OPTIONAL_COLUMNS:
        if col in row:
            problem = _number_problem(row[col], col, required=False)
            if problem:
                return problem
    if row.get("seq") and float(row["seq"]) != round(float(row["seq"])):
        return f"'seq' must be a whole number, not '{row['seq']}'"
    return None


def _number_problem(value: str, col: str, *, required: bool) -> str | None:
    if not value:
        return f"missing value in column '{col}'" if required else None
    try:
        x = float(value)
    except ValueError:
        return f"'{value}' in column '{col}' is not a number"
    if not math.isfinite(x):
        return f"non-finite value '{value}' in column '{col}'"
    limit, unit = VALUE_LIMITS.get(col, (math.inf, ""))
    if abs(x) > limit:
        return (
            f"'{value}' in column '{col}' is beyond what any IMU reports "
            f"(±{limit:g} {unit}); the file is damaged or in other units"
        )
    return None


def span_problem(t: float, other_t: float) -> str:
    """The message for a sample further from another one than any session lasts (s)."""
    return (
        f"t = {t:.3f} s is more than {MAX_SPAN_S / 3600:g} h away from t = {other_t:.3f} s "
        "of another sample: sensors on different clocks, or a clock jump"
    )


@dataclass
class RowState:
    """What the rows read so far say, per sensor: last time, optional columns given or not."""

    last_t: dict[str, float] = field(default_factory=dict)
    present: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: earliest and latest time of any sensor so far, s
    first_t: float = math.inf
    latest_t: float = -math.inf


def diagnose_lines(
    chunk: bytes, name: str, cols: tuple[str, ...], first_line: int, state: RowState
) -> None:
    """Check the lines of ``chunk`` one by one, after the rows that gave ``state``.

    Raises for the first problem, naming its line (``first_line`` is the
    file line of the chunk's first line); returns normally if there is none.
    """
    idx = {c: i for i, c in enumerate(cols)}
    groups = [
        (group, [idx[c] for c in names])
        for group, names in (("mag", MAG_COLS), ("seq", ("seq",)))
        if names[0] in idx
    ]
    reader = csv.reader(io.StringIO(chunk.decode("utf-8"), newline=""))
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        problem = _fields_problem(fields, cols) or _order_problem(
            fields, idx["t"], idx["sensor"], groups, state
        )
        if problem is not None:
            raise RecordingError(problem, name, first_line + reader.line_num - 1)


def _order_problem(
    fields: list[str],
    i_t: int,
    i_sensor: int,
    groups: list[tuple[str, list[int]]],
    state: RowState,
) -> str | None:
    """Problems between rows of one sensor: time order, optional columns on some rows only."""
    sensor = fields[i_sensor].strip()
    t = float(fields[i_t])
    prev = state.last_t.get(sensor)
    if prev is not None and t <= prev:
        if t == prev:
            return f"time repeats for sensor '{sensor}' ({t:.3f} s twice; t must increase)"
        return f"time goes backwards for sensor '{sensor}' ({t:.3f} s after {prev:.3f} s)"
    state.last_t[sensor] = t
    state.first_t, state.latest_t = min(state.first_t, t), max(state.latest_t, t)
    if state.latest_t - state.first_t > MAX_SPAN_S:
        return span_problem(t, state.first_t if t == state.latest_t else state.latest_t)
    for group, members in groups:
        filled = [bool(fields[i].strip()) for i in members]
        present = all(filled)
        if not present and any(filled):
            return f"{group} values partly empty for sensor '{sensor}'"
        before = state.present.setdefault((sensor, group), present)
        if before != present:
            now = "empty" if not present else "present"
            return (
                f"{group} values {now} here but not on earlier rows of sensor '{sensor}' "
                f"(give them on every row of a sensor, or on none)"
            )
    return None
