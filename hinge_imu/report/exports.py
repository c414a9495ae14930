"""CSV files for physiotherapists: reps, angles on a fixed grid, a per-session summary.

Files are UTF-8 **without** a byte-order mark (docs/recording-format.md says UTF-8, and a
BOM would turn the first column name into ``\\ufeffrep`` for plain CSV
readers); to open cleanly in Excel whatever its code page, every cell we
write is plain ASCII: the few non-ASCII signs our texts use (°, −, ≥, µ …)
are spelled out. Comma separator, '.' decimal point, no index column, empty
cell = no value. Units are in the column names (``_s``, ``_deg``) except in
``reps.csv``, whose names are fixed by the contract; ``columns.csv`` lists
every column of every file with its unit. See docs/reports.md.

Each file is made as plain columns (``reps_columns``, ``angles_columns``,
``summary_columns``, ``columns_columns``) and written by
``hinge_imu.csv_table.csv_text``, as pandas would write it, without importing
pandas; ``reps_frame`` … ``columns_frame`` give the same columns as DataFrames.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hinge_imu.conventions import ANGLE_NAMES, REP_METRICS
from hinge_imu.core.results import Session
from hinge_imu.csv_table import Column, Table, csv_text, from_frame, table_from_rows, to_frame
from hinge_imu.report.style import session_name

if TYPE_CHECKING:
    import pandas as pd

#: Default rate of the fixed time grid of ``angles.csv``, Hz (the hinge is
#: slower than 2 Hz; 50 Hz keeps every detail at half the size of 100 Hz).
ANGLES_RATE_HZ = 50.0

_ASCII = str.maketrans(
    {
        "°": " deg",
        "−": "-",
        "–": "-",
        "—": "-",
        "≥": ">=",
        "≤": "<=",
        "µ": "u",
        "²": "^2",
        "…": "...",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "×": "x",
        "±": "+/-",
        "→": "->",
    }
)


def ascii_text(text: str) -> str:
    """Text safe for any spreadsheet's import: our signs spelled out, accents dropped
    (``Übung`` → ``Ubung``), anything else left without an ASCII form becomes ``?``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.encode("ascii", "replace").decode("ascii")


def _ascii_column(column: Column) -> Column:
    if isinstance(column, np.ndarray):
        return column
    return [ascii_text(v) if isinstance(v, str) else v for v in column]


def reps_columns(session: Session) -> dict[str, Column]:
    """``reps.csv`` as plain columns: the contract's rep report (docs/outputs.md) in ASCII."""
    return {name: _ascii_column(col) for name, col in session.reps_columns().items()}


def reps_frame(session: Session) -> pd.DataFrame:
    """``reps.csv``: the contract's rep report (docs/outputs.md), cells in ASCII."""
    return to_frame(reps_columns(session))


def _resample(
    t_src: npt.NDArray[np.float64], y: npt.NDArray[np.float64], t_new: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Linear interpolation that never bridges missing data (NaN stays NaN)."""
    ok = np.isfinite(y)
    if not ok.any():
        return np.full(t_new.shape, np.nan)
    out = np.interp(t_new, t_src[ok], y[ok])
    # A grid point is missing if either source neighbour is missing.
    gap = np.interp(t_new, t_src, (~ok).astype(float)) > 0
    out[gap] = np.nan
    out[(t_new < t_src[0]) | (t_new > t_src[-1])] = np.nan
    return out


def angles_columns(session: Session, rate_hz: float = ANGLES_RATE_HZ) -> dict[str, Column]:
    """``angles.csv`` as plain columns: every angle on a fixed time grid ``t_s = k / rate_hz``.

    Columns: ``t_s`` (s), ``rep`` (rep number, masked between reps), then
    ``<angle>_deg`` for every angle of docs/rules.md (deg; NaN where not measured).
    """
    if not (rate_hz > 0 and math.isfinite(rate_hz)):
        raise ValueError(f"rate_hz must be positive, not {rate_hz}")
    t_src = session.angle_column("t_s")
    if len(t_src) == 0:
        t_new = np.zeros(0)
    else:
        k0 = math.ceil(t_src[0] * rate_hz - 1e-9)
        k1 = math.floor(t_src[-1] * rate_hz + 1e-9)
        t_new = np.arange(k0, k1 + 1) / rate_hz
    # Each rep's rows [first at or after t_start, last at or before t_end], by bisection
    # (a mask over the whole grid per rep is 600 passes over an hour's grid).
    number = np.zeros(len(t_new), dtype=np.int64)
    for r in session.reps:
        lo = np.searchsorted(t_new, r.metrics.t_start, side="left")
        hi = np.searchsorted(t_new, r.metrics.t_end, side="right")
        number[lo:hi] = r.rep
    data: dict[str, Column] = {
        "t_s": np.round(t_new, 3),
        "rep": np.ma.MaskedArray(number, mask=number == 0),
    }
    for angle in ANGLE_NAMES:
        y = session.angle_column(f"{angle}_deg")
        data[f"{angle}_deg"] = np.round(_resample(t_src, y, t_new), 2)
    return data


def angles_frame(session: Session, rate_hz: float = ANGLES_RATE_HZ) -> pd.DataFrame:
    """``angles.csv``: every angle on a fixed time grid ``t_s = k / rate_hz``.

    Columns: ``t_s`` (s), ``rep`` (rep number, empty between reps), then
    ``<angle>_deg`` for every angle of docs/rules.md (deg; empty where not measured).
    """
    return to_frame(angles_columns(session, rate_hz))


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n − 1); None where not defined."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    mean = round(float(np.mean(v)), 2) if v else None
    sd = round(float(np.std(v, ddof=1)), 2) if len(v) >= 2 else None
    return mean, sd


def summary_row(session: Session) -> dict[str, object]:
    """One session in numbers: reps, score, every metric's mean and spread, mistake counts."""
    judged = [r for r in session.reps if r.judged]
    t = session.angle_column("t_s")
    row: dict[str, object] = {
        "session": ascii_text(session_name(session)),
        "source": ascii_text(session.source),
        "simulated": "true" if session.is_simulated else "false",
        "rules": ascii_text(session.rules.source),
        "duration_s": round(float(t[-1] - t[0]), 2) if len(t) else 0.0,
        "reps": len(session.reps),
        "reps_judged": len(judged),
        "reps_bad": sum(r.judgement.bad for r in judged),
        "reps_without_mistake": sum(not r.judgement.mistakes for r in judged),
    }
    scores = [r.judgement.score for r in judged]
    row["score_mean"], row["score_sd"] = _stats(scores)
    row["score_min"] = min(scores) if scores else None
    row["score_max"] = max(scores) if scores else None
    for metric in REP_METRICS:
        values = [r.metrics.get(metric) for r in judged]
        mean, sd = _stats([v for v in values if v is not None])
        row[f"{metric}_mean_deg"], row[f"{metric}_sd_deg"] = mean, sd
    for rule_id in session.rules.ids:
        assessed = [r for r in judged if r.judgement[rule_id].assessed]
        # Never assessed is not the same as never fired: leave the count empty.
        row[f"{rule_id}_count"] = (
            sum(bool(r.judgement[rule_id].fired) for r in assessed) if assessed else None
        )
        row[f"{rule_id}_assessed"] = len(assessed)
    return row


def summary_columns(sessions: Sequence[Session]) -> dict[str, Column]:
    """``summary.csv`` as plain columns: one row per session, in the order given;
    the counts as masked integers (empty where None)."""
    rows = [summary_row(s) for s in sessions]
    table = table_from_rows(list(dict.fromkeys(k for row in rows for k in row)), rows)
    for name, column in table.items():
        if name.endswith(("_count", "_assessed")) or name.startswith("reps"):
            count = [v if isinstance(v, int) else 0 for v in column]
            table[name] = np.ma.MaskedArray(count, mask=[v is None for v in column], dtype=np.int64)
    return table


def summary_frame(sessions: Sequence[Session]) -> pd.DataFrame:
    """``summary.csv``: one row per session, in the order given."""
    return to_frame(summary_columns(sessions))


def columns_columns(files: Mapping[str, Iterable[str]]) -> dict[str, Column]:
    """``columns.csv`` as plain columns: every column of ``files`` (file name → its
    column names), with its unit and meaning."""
    rows = []
    for name, cols in files.items():
        for col in cols:
            unit, meaning = describe_column(name, col)
            rows.append({"file": name, "column": col, "unit": unit, "meaning": meaning})
    return table_from_rows(["file", "column", "unit", "meaning"], rows)


def columns_frame(reps: pd.DataFrame, angles: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``columns.csv``: every column of the three files, with its unit and meaning."""
    files = {"reps.csv": reps.columns, "angles.csv": angles.columns, "summary.csv": summary.columns}
    return to_frame(columns_columns({k: [str(c) for c in v] for k, v in files.items()}))


_REPS_WORDS = {
    "rep": ("", "rep number, 1, 2, 3 ... in time order"),
    "t_start": ("s", "start of the descent, on the recording's clock"),
    "t_bottom": ("s", "deepest point (peak hip flexion)"),
    "t_end": ("s", "end of the rep (lockout)"),
    "score": ("0-100", "100 minus the weights of the rules that fired; empty if not judged"),
    "mistakes": ("", "rule ids that fired, separated by ';'"),
    "judged": ("true/false", "false when the rep could not be judged (poor data)"),
    "not_judged_reason": ("", "why the rep was not judged"),
    "calibration": (
        "",
        "stance; short_stance: a stance under 1 s, gyro bias from the upright moments; "
        "or upright: no stance, calibrated on the upright moments",
    ),
}
_METRIC_WORDS = {
    "hip_flexion_peak": "hip flexion at the deepest point",
    "trunk_inclination_peak": "largest forward tilt of the upper back",
    "lumbar_flexion_max": "largest lumbar flexion (+ = rounding)",
    "lumbar_flexion_min": "smallest lumbar flexion (- = arching)",
    "pelvic_tilt_lockout": "pelvic tilt at lockout (- = posterior)",
    "hip_flexion_lockout": "hip flexion at lockout (<= 0 = full extension)",
    "thigh_inclination_bottom": "thigh inclination at the deepest point",
    "knee_cave": "largest inward thigh deviation",
    "head_extension_max": "largest head extension (empty without a head sensor)",
    "lumbar_flexion_min_descent": "smallest lumbar flexion on the way down and at the bottom",
    "thigh_inclination_at_hip20": "thigh inclination when hip flexion first reaches 20 deg",
    "lumbar_flexion_start": "lumbar flexion at the start of the rep",
    "lumbar_flexion_lockout": "lumbar flexion at lockout",
}
_SUMMARY_WORDS = {
    "session": ("", "session name (header 'session', else the file name)"),
    "source": ("", "the recording file"),
    "simulated": ("true/false", "true for simulated data"),
    "rules": ("", "the rules file used ('default rules' = docs/rules.md defaults)"),
    "duration_s": ("s", "length of the analysed recording"),
    "reps": ("count", "reps found"),
    "reps_judged": ("count", "reps that could be judged"),
    "reps_bad": ("count", "judged reps with a serious mistake (weight >= 20)"),
    "reps_without_mistake": ("count", "judged reps where no rule fired"),
    "score_mean": ("0-100", "mean score of the judged reps"),
    "score_sd": ("0-100", "standard deviation (n-1) of the scores"),
    "score_min": ("0-100", "lowest score"),
    "score_max": ("0-100", "highest score"),
}


def describe_column(file: str, col: str) -> tuple[str, str]:
    """(unit, meaning) of one exported column, in plain ASCII words."""
    if file == "reps.csv":
        if col in _REPS_WORDS:
            return _REPS_WORDS[col]
        if col in _METRIC_WORDS:
            return "deg", _METRIC_WORDS[col]
        return "true/false/empty", f"did rule '{col}' fire (empty = not assessed)"
    if file == "angles.csv":
        if col == "t_s":
            return "s", "time on the recording's clock, fixed grid"
        if col == "rep":
            return "", "rep number while inside a rep, empty between reps"
        return "deg", f"{col[: -len('_deg')]} (see docs/reports.md for signs)"
    if col in _SUMMARY_WORDS:
        return _SUMMARY_WORDS[col]
    for suffix, words in (("_mean_deg", "mean"), ("_sd_deg", "standard deviation (n-1)")):
        if col.endswith(suffix):
            metric = col[: -len(suffix)]
            return "deg", f"{words} over judged reps of: {_METRIC_WORDS.get(metric, metric)}"
    if col.endswith("_count"):
        return "count", f"judged reps where '{col[:-6]}' fired (empty = never assessed)"
    if col.endswith("_assessed"):
        return "count", f"judged reps where '{col[:-9]}' could be assessed"
    return "", ""


def csv_bytes(table: Table | pd.DataFrame) -> bytes:
    """One export as file content: UTF-8 (ASCII cells), no BOM, no index, '\\n' line ends.

    A table of plain columns (``reps_columns`` …) or a DataFrame, written as
    ``to_csv(index=False, lineterminator="\\n")`` writes the DataFrame (without pandas
    for plain columns).
    """
    if not isinstance(table, Mapping):
        table = from_frame(table)
    return csv_text(table).encode("utf-8")
