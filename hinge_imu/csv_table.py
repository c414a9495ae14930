"""Tables as plain columns, written as CSV exactly as pandas writes them, without pandas.

The rep report of ``analyse --reps-csv`` and the report's ``reps.csv``,
``angles.csv``, ``summary.csv`` and ``columns.csv`` are ``csv_text(table)``:
the bytes ``to_frame(table).to_csv(index=False, lineterminator="\\n")``
gives, made without importing pandas (~0.3 s of a command's start). A table
maps column names to columns of one of three kinds:

* a numpy float64 array: a cell is numpy's ``str`` of the value (the shortest
  text that reads back as the same number, as pandas writes it); NaN is empty;
* a numpy integer array, or a ``numpy.ma.MaskedArray`` of integers (pandas'
  ``Int64``): masked values are empty cells;
* any other sequence of Python values: None and NaN are empty cells, any other
  value is ``str(value)``; numbers only, with a float or a None among them, are
  written as floats, as pandas reads such a column (float64).

Text cells are quoted as the ``csv`` module quotes them (pandas uses it too).

``csv_text(table, float_decimals=3)`` writes every float as pandas'
``to_csv(..., float_format="%.3f")`` does: ``"%.3f" % value`` for each value
(-0.0 and -0.0004 as "-0.000", inf as "inf", 1e16 in full), NaN empty.
``csv_chunks`` gives the same text a block of rows at a time, for files too
long to hold as one string (an hour of ``analyse --angles-csv``).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

#: One column: a numpy array (float, integer, masked integer) or Python values.
Column = npt.NDArray[Any] | Sequence[object]
#: Column name → column, all of one length, in file order.
Table = Mapping[str, Column]


def table_from_rows(
    names: Sequence[str], rows: Sequence[Mapping[str, object]]
) -> dict[str, Column]:
    """Rows (dicts; a missing key is an empty cell) as a table of ``names``."""
    return {n: [row.get(n) for row in rows] for n in names}


#: Rows formatted at a time by ``csv_chunks`` (pandas' own ``to_csv`` block
#: is 100 000 cells): an hour at 100 Hz formatted at once peaked at 433 MB, not 309.
_CHUNK_ROWS = 10_000


def csv_text(table: Table, float_decimals: int | None = None) -> str:
    """``to_frame(table).to_csv(index=False, lineterminator="\\n")``, the same text.

    With ``float_decimals`` d, floats as ``to_csv(..., float_format=f"%.{d}f")`` writes them.
    """
    return "".join(csv_chunks(table, float_decimals))


def csv_chunks(
    table: Table, float_decimals: int | None = None, rows: int = _CHUNK_ROWS
) -> Iterator[str]:
    """``csv_text(table, float_decimals)`` in pieces: the header, then ``rows`` rows at a time."""
    names = list(table)
    columns = [_normalised(table[n]) for n in names]
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(names)
    yield head.getvalue()
    # Numbers need no quoting (csv quotes only a row of one empty cell):
    # joined directly, 180 000 rows an hour of angles.csv take 0.1 s, not 0.6.
    direct = len(names) >= 2 and all(isinstance(c, np.ndarray) for c in columns)
    n = lengths.pop() if lengths else 0
    for start in range(0, n, rows):
        cells = [_cells(c[start : start + rows], float_decimals) for c in columns]
        if direct:
            yield "".join(",".join(r) + "\n" for r in zip(*cells, strict=True))
        else:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(zip(*cells, strict=True))
            yield text.getvalue()


def _normalised(column: Column) -> npt.NDArray[Any] | list[str]:
    """A numpy column as it is; Python values as floats where pandas reads them so
    (decided on the whole column, not a block of it), else as their cells' text."""
    if isinstance(column, np.ndarray):
        if column.dtype.kind not in "fiu":
            raise TypeError(f"csv_table writes float and integer arrays, not {column.dtype}")
        return column
    values = list(column)
    if _as_floats(values):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return ["" if _missing(v) else str(v) for v in values]


def _cells(column: npt.NDArray[Any] | list[str], float_decimals: int | None) -> list[str]:
    if isinstance(column, list):
        return column
    if isinstance(column, np.ma.MaskedArray):
        text = np.asarray(column.data, dtype=np.int64).astype(str).astype(object)
        text[np.ma.getmaskarray(column)] = ""
        out: list[str] = text.tolist()
        return out
    if column.dtype.kind == "f":
        values = np.asarray(column, dtype=np.float64)
        if float_decimals is None:
            return _float_cells(values)
        return _fixed_cells(values, float_decimals)
    ints: list[str] = column.astype(str).tolist()
    return ints


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_floats(values: list[object]) -> bool:
    """True for numbers only (not bool), with a float or a None among them (pandas: float64);
    all None is not (pandas: object)."""
    present = [v for v in values if v is not None]
    if not present or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in present
    ):
        return False
    return len(present) < len(values) or any(isinstance(v, float) for v in present)


def _float_cells(values: npt.NDArray[np.float64]) -> list[str]:
    """Each value as pandas writes it in a CSV; NaN as an empty cell.

    Each distinct value is formatted once: an angle rounded to 0.01° takes a
    few thousand values over a session.
    """
    # Distinct by bit pattern, so -0.0 stays "-0.0" (it equals 0.0).
    bits, index = np.unique(values.view(np.int64), return_inverse=True)
    distinct = bits.view(np.float64)
    text = distinct.astype(str).astype(object)
    text[np.isnan(distinct)] = ""
    out: list[str] = text[index.reshape(-1)].tolist()
    return out


def _fixed_cells(values: npt.NDArray[np.float64], decimals: int) -> list[str]:
    """Each value as pandas writes it with ``float_format=f"%.{decimals}f"``; NaN empty.

    pandas formats each value with the format itself (inf as "inf", -0.0 as
    "-0.000"); so does this. Analysis angles are rarely repeated, so there is
    no formatting each distinct value once.
    """
    out = list(map(f"%.{decimals}f".__mod__, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = ""
    return out


def to_frame(table: Table) -> pd.DataFrame:
    """The table as a DataFrame (masked integers as ``Int64``); imports pandas.

    Columns of Python values get the dtypes pandas gives them read as rows
    (numbers with a None: float64; no rows: object), the dtypes ``csv_text``
    writes them as.
    """
    import pandas as pd

    names = list(table)
    values = [n for n in names if not isinstance(table[n], np.ndarray)]
    rows = pd.DataFrame(list(zip(*(table[n] for n in values), strict=True)), columns=values)
    data: dict[str, object] = {}
    for name in names:
        column = table[name]
        if isinstance(column, np.ma.MaskedArray):
            ints = np.asarray(column.data, dtype=np.int64)
            data[name] = pd.arrays.IntegerArray(ints, np.ma.getmaskarray(column).copy())
        else:
            data[name] = column if isinstance(column, np.ndarray) else rows[name]
    return pd.DataFrame(data, columns=names)


def from_frame(df: pd.DataFrame) -> dict[str, Column]:
    """A DataFrame's columns as a table (``Int64`` as masked integers), for ``csv_text``."""
    import pandas as pd

    table: dict[str, Column] = {}
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.Int64Dtype):
            values = col.to_numpy(dtype=np.int64, na_value=0)
            table[str(name)] = np.ma.MaskedArray(values, mask=col.isna().to_numpy())
        elif isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
            if col.dtype.kind == "f" and col.dtype != np.float64:
                raise TypeError(f"column {name!r}: {col.dtype} is not written like float64")
            table[str(name)] = col.to_numpy()
        else:
            # Written as the objects' text, whatever they are (no float reading).
            table[str(name)] = ["" if _missing(v) or v is pd.NA else str(v) for v in col.tolist()]
    return table
