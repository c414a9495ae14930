"""The CSV files are a contract: the fast writer of numeric files writes what pandas wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hinge_imu.report import exports


def _pandas_text(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def test_numeric_file_is_written_as_pandas_writes_it() -> None:
    rng = np.random.default_rng(3)
    angles = np.round(rng.normal(0, 40, 500), 2)
    angles[::7] = np.nan
    angles[1:4] = [-0.0, 0.0, -0.0]  # -0.0 equals 0.0 but is written "-0.0"
    odd = [1e-5, 1e16, -123456.789, 0.1 + 0.2, np.inf, -np.inf, 5e-324, 2.5]
    rep = pd.array(rng.integers(0, 9, 500), dtype="Int64")
    rep[rep == 0] = pd.NA
    df = pd.DataFrame(
        {
            "t_s": np.round(np.arange(500) / 50, 3),
            "rep": rep,
            "angle_deg": angles,
            "odd": np.resize(odd, 500),
            "count": np.arange(500, dtype=np.int64) - 250,
        }
    )
    assert exports._numeric_csv(df) is not None  # the fast path, not pandas
    assert exports.csv_bytes(df) == _pandas_text(df)
    assert exports.csv_bytes(df.iloc[:0]) == _pandas_text(df.iloc[:0])


def test_files_with_text_are_left_to_pandas() -> None:
    df = pd.DataFrame({"rep": [1, 2], "mistakes": ["a;b", 'say "x", then y']})
    assert exports._numeric_csv(df) is None
    assert exports.csv_bytes(df) == _pandas_text(df)
    one = pd.DataFrame({"t_s": [1.0, np.nan]})  # a lone empty cell is quoted by csv
    assert exports.csv_bytes(one) == _pandas_text(one)
