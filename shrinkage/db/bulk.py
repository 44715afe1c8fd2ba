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
    records = _records(frame)
    for start in range(0, len(records), EXECUTEMANY_CHUNK):
        connection.execute(insert(table), records[start:start + EXECUTEMANY_CHUNK])
    return len(records)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert a modest number of rows and return their ids in order (both dialects)."""
    if not rows:
        return []
    result = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [r[0] for r in result]
