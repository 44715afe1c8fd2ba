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

import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

EXECUTEMANY_CHUNK = 20_000


def _frame_to_csv(frame: pd.DataFrame) -> io.StringIO:
    """CSV for COPY, written by pandas' C writer; JSON columns serialised first, NULL as \\N."""
    out = frame.copy(deep=False)
    for name in out.columns:
        if out[name].dtype == object and out[name].map(lambda v: isinstance(v, (dict, list))).any():
            out[name] = out[name].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False, na_rep="\\N", lineterminator="\n",
               date_format="%Y-%m-%d %H:%M:%S.%f")
    buffer.seek(0)
    return buffer


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
        with raw.cursor() as cursor:
            cursor.copy_expert(
                f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')',
                _frame_to_csv(frame),
            )
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
    if not rows:
        return []
    result = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [r[0] for r in result]
