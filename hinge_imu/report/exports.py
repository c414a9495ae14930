"""CSV files for physiotherapists: reps, angles on a fixed grid, a per-session summary.

Files are UTF-8 **without** a byte-order mark (docs/recording-format.md says UTF-8, and a
BOM would turn the first column name into ``\\ufeffrep`` for plain CSV
readers); to open cleanly in Excel whatever its code page, every cell we
write is plain ASCII: the few non-ASCII signs our texts use (°, −, ≥, µ …)
are spelled out. Comma separator, '.' decimal point, no index column, empty
cell = no value. Units are in the column names (``_s``, ``_deg``) except in
``reps.csv``, whose names are fixed by the contract; ``columns.csv`` lists
every column of every file with its unit. See docs/reports.md.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from hinge_imu.conventions import ANGLE_NAMES, REP_METRICS
from hinge_imu.core.results import Session
from hinge_imu.report.style import session_name

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


def _ascii_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: ascii_text(v) if isinstance(v, str) else v)
    return out


def reps_frame(session: Session) -> pd.DataFrame:
    """``reps.csv``: the contract's rep report (docs/outputs.md), cells in ASCII."""
    return _ascii_frame(session.reps_frame())


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


def angles_frame(session: Session, rate_hz: float = ANGLES_RATE_HZ) -> pd.DataFrame:
    """``angles.csv``: every angle on a fixed time grid ``t_s = k / rate_hz``.

    Columns: ``t_s`` (s), ``rep`` (rep number, empty between reps), then
    ``<angle>_deg`` for every angle of docs/rules.md (deg; empty where not measured).
    """
    if not (rate_hz > 0 and math.isfinite(rate_hz)):
        raise ValueError(f"rate_hz must be positive, not {rate_hz}")
    t_src = session.angles["t_s"].to_numpy(dtype=float)
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
    rep = pd.array(number, dtype="Int64")
    rep[number == 0] = pd.NA
    data: dict[str, object] = {"t_s": np.round(t_new, 3), "rep": rep}
    for angle in ANGLE_NAMES:
        y = session.angles[f"{angle}_deg"].to_numpy(dtype=float)
        data[f"{angle}_deg"] = np.round(_resample(t_src, y, t_new), 2)
    return pd.DataFrame(data)


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n − 1); None where not defined."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    mean = round(float(np.mean(v)), 2) if v else None
    sd = round(float(np.std(v, ddof=1)), 2) if len(v) >= 2 else None
    return mean, sd


def summary_row(session: Session) -> dict[str, object]:
    """One session in numbers: reps, score, every metric's mean and spread, mistake counts."""
    judged = [r for r in session.reps if r.judged]
    t = session.angles["t_s"]
    row: dict[str, object] = {
        "session": ascii_text(session_name(session)),
        "source": ascii_text(session.source),
        "simulated": "true" if session.is_simulated else "false",
        "rules": ascii_text(session.rules.source),
        "duration_s": round(float(t.iloc[-1] - t.iloc[0]), 2) if len(t) else 0.0,
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


def summary_frame(sessions: Sequence[Session]) -> pd.DataFrame:
    """``summary.csv``: one row per session, in the order given."""
    df = pd.DataFrame([summary_row(s) for s in sessions])
    for col in df.columns:
        if col.endswith(("_count", "_assessed")) or col.startswith("reps"):
            df[col] = df[col].astype("Int64")
    return df


def columns_frame(reps: pd.DataFrame, angles: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``columns.csv``: every column of the three files, with its unit and meaning."""
    rows = []
    for name, df in (("reps.csv", reps), ("angles.csv", angles), ("summary.csv", summary)):
        for col in df.columns:
            unit, meaning = describe_column(name, col)
            rows.append({"file": name, "column": col, "unit": unit, "meaning": meaning})
    return pd.DataFrame(rows, columns=["file", "column", "unit", "meaning"])


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


def csv_bytes(df: pd.DataFrame) -> bytes:
    """One export as file content: UTF-8 (ASCII cells), no BOM, no index, '\\n' line ends."""
    fast = _numeric_csv(df)
    if fast is not None:
        return fast.encode("utf-8")
    text: str = df.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _numeric_csv(df: pd.DataFrame) -> str | None:
    """``df.to_csv(index=False, lineterminator="\\n")``, the same text, for a frame of
    numbers only (``angles.csv``: 180 000 rows an hour, 0.65 s in pandas); None for
    any other frame.

    pandas writes a float as ``numpy``'s ``astype(str)`` (the shortest text that
    reads back as the same number) and a missing value as an empty cell; so does
    this, formatting each distinct value once: an angle rounded to 0.01° takes
    a few thousand values over a session.
    """
    names = [str(c) for c in df.columns]
    # csv quotes a row of one empty cell and names with separators: pandas does those.
    if len(names) < 2 or any(set(n) & set(',"\r\n') for n in names):
        return None
    cells: list[list[str]] = []
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, np.dtype) and col.dtype == np.float64:
            cells.append(_float_cells(col.to_numpy()))
        elif isinstance(col.dtype, pd.Int64Dtype) or (
            isinstance(col.dtype, np.dtype) and col.dtype == np.int64
        ):
            missing = col.isna().to_numpy()
            text = col.to_numpy(dtype=np.int64, na_value=0).astype(str).astype(object)
            text[missing] = ""
            cells.append(text.tolist())
        else:
            return None
    return "\n".join([",".join(names), *map(",".join, zip(*cells, strict=True))]) + "\n"


def _float_cells(values: npt.NDArray[np.float64]) -> list[str]:
    """Each value as pandas writes it in a CSV; NaN as an empty cell."""
    # Distinct by bit pattern, so -0.0 stays "-0.0" (it equals 0.0).
    bits, index = np.unique(values.view(np.int64), return_inverse=True)
    distinct = bits.view(np.float64)
    text = distinct.astype(str).astype(object)
    text[np.isnan(distinct)] = ""
    out: list[str] = text[index].tolist()
    return out
