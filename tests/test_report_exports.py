"""The CSV files are a contract: the one writer of tables writes what pandas' ``to_csv`` wrote."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hinge_imu.core.pipeline import analyse
from hinge_imu.core.results import Session
from hinge_imu.core.rules import judge_rep
from hinge_imu.csv_table import Table, csv_chunks, csv_text, from_frame, to_frame
from hinge_imu.report import exports

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"


def _pandas_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


def test_numeric_table_is_written_as_pandas_writes_it() -> None:
    rng = np.random.default_rng(3)
    angles = np.round(rng.normal(0, 40, 500), 2)
    angles[::7] = np.nan
    angles[1:4] = [-0.0, 0.0, -0.0]  # -0.0 equals 0.0 but is written "-0.0"
    odd = [1e-5, 1e16, -123456.789, 0.1 + 0.2, np.inf, -np.inf, 5e-324, 2.5]
    number = rng.integers(0, 9, 500)
    table: Table = {
        "t_s": np.round(np.arange(500) / 50, 3),
        "rep": np.ma.MaskedArray(number, mask=number == 0),
        "angle_deg": angles,
        "odd": np.resize(odd, 500),
        "count": np.arange(500, dtype=np.int64) - 250,
    }
    # The frame as pandas itself makes it, Int64 with NA where masked.
    rep = pd.array(number, dtype="Int64")
    rep[number == 0] = pd.NA
    df = pd.DataFrame({**table, "rep": rep})
    assert csv_text(table) == _pandas_text(df)
    pd.testing.assert_frame_equal(to_frame(table), df)
    assert exports.csv_bytes(df) == _pandas_text(df).encode()  # a DataFrame: the same writer
    empty = {k: v[:0] for k, v in table.items()}
    assert csv_text(empty) == _pandas_text(df.iloc[:0])


def test_python_values_are_written_as_pandas_writes_them() -> None:
    rows = [
        {"n": 1, "x": 0.5, "k": 3, "t": "a;b", "none": None, "mixed": 2},
        {"n": 2, "x": None, "k": None, "t": 'say "x", then y', "none": None, "mixed": 2.5},
        {"n": 3, "x": -0.0, "k": 4, "t": "two\nlines\r", "none": None, "mixed": -1},
        {"n": 4, "x": float("nan"), "k": 5, "t": None, "none": None, "mixed": 1e16},
        {"n": 5, "x": 1e-5, "k": 6, "t": "", "none": None, "mixed": 0},
    ]
    names = list(rows[0])
    table = {n: [r[n] for r in rows] for n in names}
    df = pd.DataFrame(rows, columns=names)  # pandas reads k and mixed as float64
    assert csv_text(table) == _pandas_text(df)
    assert to_frame(table).dtypes.tolist() == df.dtypes.tolist()
    assert exports.csv_bytes(df) == _pandas_text(df).encode()
    # An object column keeps its objects: ints with a None are not floats there.
    obj = pd.DataFrame({"id": pd.Series([1, None, 3], dtype=object), "s": ["a", "b", "c"]})
    assert csv_text(from_frame(obj)) == _pandas_text(obj)
    # Names needing quotes; a lone empty cell is quoted by csv; no rows at all.
    odd_names = {'a,"b"': [1.0, np.nan], "c": ["x", "y"]}
    assert csv_text(odd_names) == _pandas_text(pd.DataFrame(odd_names))
    one = {"t_s": np.array([1.0, np.nan])}
    assert csv_text(one) == _pandas_text(pd.DataFrame(one))
    no_rows = {n: [] for n in names}
    assert csv_text(no_rows) == _pandas_text(pd.DataFrame([], columns=names))


def test_fixed_decimals_are_written_as_pandas_float_format_writes_them() -> None:
    # analyse --angles-csv: to_csv(float_format="%.3f"); each value that formats oddly
    tricky = [np.nan, -0.0, 0.0, -0.0004, 0.0005, 0.0015, 0.0025, 1.0005, -2.0005]
    tricky += [np.inf, -np.inf, 1e16, -1e16, 1e300, 5e-324, -5e-324, 2.2250738585072014e-308]
    tricky += [3.0, -7.0, 123456789.1234567, 179.9995, -179.9995]
    n = len(tricky)
    table: Table = {
        "t_s": np.array(tricky),
        "ints_as_floats": np.arange(n, dtype=np.float64) - 5,
        "count": np.arange(n, dtype=np.int64),  # integers keep no decimals
        "rep": np.ma.MaskedArray(np.arange(n), mask=np.arange(n) % 2 == 0),
        "mixed": [None if i % 3 == 0 else i for i in range(n)],  # read as float64
    }
    df = to_frame(table)
    for decimals in (3, 0, 4):
        expected = df.to_csv(index=False, lineterminator="\n", float_format=f"%.{decimals}f")
        assert csv_text(table, float_decimals=decimals) == expected
    # In blocks of rows the text is the same, whatever the block.
    assert "".join(csv_chunks(table, 3, rows=4)) == csv_text(table, float_decimals=3)
    with pytest.raises(ValueError, match="different lengths"):
        csv_text({"a": np.zeros(2), "b": np.zeros(3)})


@pytest.fixture(scope="module")
def sessions() -> list[Session]:
    mistakes = analyse(RECORDINGS / "sim_mistakes_set.csv.gz")
    first = mistakes.reps[0]
    why = 'pelvis lost, "twice" − 0.8 s'  # quotes, a comma and a sign spelled out in ASCII
    unjudged = replace(
        first, not_judged_reason=why, judgement=judge_rep(first.metrics, mistakes.rules, why)
    )
    mistakes = replace(mistakes, reps=(unjudged, *mistakes.reps[1:]))
    return [mistakes, analyse(RECORDINGS / "sim_harsh_arbitrary.csv.gz")]


def test_the_report_files_are_what_pandas_writes_of_their_frames(sessions: list[Session]) -> None:
    for s in sessions:
        reps = exports.reps_columns(s)
        assert exports.csv_bytes(reps).decode() == _pandas_text(exports.reps_frame(s))
        assert exports.csv_bytes(reps).isascii()
        angles = exports.angles_columns(s, rate_hz=20)
        assert exports.csv_bytes(angles).decode() == _pandas_text(exports.angles_frame(s, 20))
        no_reps = replace(s, reps=())
        assert exports.csv_bytes(exports.reps_columns(no_reps)).decode() == _pandas_text(
            exports.reps_frame(no_reps)
        )
    summary = exports.summary_columns(sessions)  # two sessions, one row each
    frame = exports.summary_frame(sessions)
    assert exports.csv_bytes(summary).decode() == _pandas_text(frame)
    assert frame["back_rounded_count"].dtype == "Int64"
    files = {"reps.csv": list(reps), "angles.csv": list(angles), "summary.csv": list(summary)}
    columns = exports.columns_frame(exports.reps_frame(s), exports.angles_frame(s), frame)
    assert exports.csv_bytes(exports.columns_columns(files)).decode() == _pandas_text(columns)
