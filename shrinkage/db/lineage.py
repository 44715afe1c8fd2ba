"""data_lineage rows: one per asset step (and partition) of a run, or per file of a CLI ingest.

Written with an upsert on ``lineage_key`` so that recording the same run or file again
changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shrinkage.db.models import DataLineage
from shrinkage.db.services import Crud

MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class LineageRecord:
    lineage_key: str
    process_name: str
    status: str
    process_timestamp: datetime | None = None
    run_id: str | None = None
    step_key: str | None = None
    partition_key: str | None = None
    user_id: str | None = None
    input_records: int | None = None
    output_records: int | None = None
    error_message: str | None = None
    execution_time_ms: int | None = None
    version: str | None = None
    source_file_id: int | None = None
    source_file_name: str | None = None
    calculation_data_id: int | None = None


def write_lineage(session: Session, records: list[LineageRecord]) -> int:
    rows = []
    for record in records:
        row = asdict(record)
        if row["error_message"] and len(row["error_message"]) > MAX_ERROR_CHARS:
            row["error_message"] = row["error_message"][:MAX_ERROR_CHARS] + " …"
        row["process_timestamp"] = row["process_timestamp"] or datetime.now().replace(microsecond=0)
        rows.append(row)
    return Crud(session).upsert(DataLineage, rows, conflict_columns=["lineage_key"])
