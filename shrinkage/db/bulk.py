"""Bulk rows into a table inside the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

Row-by-row ORM inserts are far too slow for statements of hundreds of thousands of rows;
COPY streams them in one round trip. Both paths run on the session's own connection, so
the rows commit or roll back with everything else the caller does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

EXECUTEMANY_CHUNK = 20_000
COPY_CHUNK_ROWS = 20_000


def _frame_to_csv(frame: pd.DataFrame) -> io.StringIO:
    """CSV for COPY, written by pandas' C writer after the slow columns are pre-formatted.

    Datetimes repeat a lot (every batch row of a document shares its time), so each distinct
    value is formatted once; quantities kept in whole grams are written as ``<grams>e-3``,
    which PostgreSQL parses to the same double as the decimal text. NULL is ``\\N``.
    """
    out = frame.copy(deep=False)
    for name in out.columns:
        series = out[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[name] = _format_datetimes(series)
        elif pd.api.types.is_float_dtype(series):
            out[name] = _format_floats(series)
        elif series.dtype == object and series.map(lambda v: isinstance(v, (dict, list))).any():
            out[name] = series.map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False, na_rep="\\N", lineterminator="\n")
    buffer.seek(0)
    return buffer


class _CsvStream:
    """A file-like CSV of a frame, formatted chunk by chunk as COPY reads it.

    The server parses and inserts one chunk while this process formats the next, so the
    two cores work at the same time instead of in turn.
    """

    def __init__(self, frame: pd.DataFrame, rows_per_chunk: int = COPY_CHUNK_ROWS):
        self._chunks = (frame.iloc[i:i + rows_per_chunk] for i in range(0, len(frame), rows_per_chunk))
        self._pending = ""

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += _frame_to_csv(chunk).getvalue()
        if size < 0:
            data, self._pending = self._pending, ""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data



def _format_datetimes(series: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(series)
    text = np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d %H:%M:%S.%f"), dtype=object)
    result = np.where(codes >= 0, text[np.maximum(codes, 0)] if len(text) else None, None)
    return pd.Series(result, index=series.index, dtype=object)


# Beyond this many grams a float no longer holds whole grams (and Int64 overflows soon after).
_EXACT_GRAMS = 2.0 ** 53


def _format_floats(series: pd.Series) -> pd.Series:
    values = series.to_numpy(dtype=float)
    finite = np.isfinite(values)
    with np.errstate(over="ignore", invalid="ignore"):
        grams = np.round(values * 1000.0)
        if (np.abs(grams[finite]) >= _EXACT_GRAMS).any() or not np.allclose(
                grams[finite], values[finite] * 1000.0, rtol=0, atol=1e-6):
            return series  # not gram-precise (or huge): let pandas write the full repr
    text = pd.Series(grams, index=series.index).astype("Int64").astype(str) + "e-3"
    return text.where(finite, None)


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` (its columns name table columns) into ``table``."""
    if frame.empty:
        return 0
    unknown = set(frame.columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        raw = connection.connection.dbapi_connection
        statement = f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')'
        with raw.cursor() as cursor:
            try:
                cursor.copy_expert(statement, _CsvStream(frame), size=1 << 18)
            except connection.dialect.dbapi.IntegrityError as exc:
                # The same exception an ORM or Core insert would raise for a refused row.
                raise IntegrityError(statement, None, exc) from exc
        return len(frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    rows = _native_rows(frame)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
    for start in range(0, len(rows), EXECUTEMANY_CHUNK):
        connection.exec_driver_sql(sql, rows[start:start + EXECUTEMANY_CHUNK])
    return len(rows)


def _native_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as tuples of plain Python values in the forms SQLAlchemy's SQLite types store."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            values = text.where(series.notna(), None).tolist()
        elif pd.api.types.is_bool_dtype(series):
            values = series.astype(int).tolist()
        elif pd.api.types.is_float_dtype(series):
            values = series.tolist()  # NaN binds as NULL in SQLite
        elif pd.api.types.is_integer_dtype(series) and not series.hasnans:
            values = series.astype("int64").tolist()
        else:
            values = [None if _missing(v) else (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                      for v in series.tolist()]
        columns.append(values)
    return list(zip(*columns))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or value is pd.NA


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert a modest number of rows and return their ids in order (both dialects)."""
    return insert_returning_ids_on(session.connection(), table, rows)


def insert_returning_ids_on(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """:func:`insert_returning_ids` on a connection (migrations have no session)."""
    if not rows:
        return []
    result = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows))
    return [r[0] for r in result]
