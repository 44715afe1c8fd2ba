"""The CLI (`shrinkage ingest`) and the Dagster per-file job leave the same database content.

Both paths go through ``shrinkage.app.ingest``; this runs the same sequence of files through
each, on SQLite and on PostgreSQL, into two databases, and compares every table row by row
(ids, foreign keys and timestamps aside): a new file, a second one, a file a blocking check
rejects, the same content under another name, and a changed file under an earlier name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from pipelines.definitions import build_definitions
from resources.database import dispose_engines
from resources.inbox import partition_key_for, source_files
from shrinkage.app.ingest import content_hash, ingest_file
from shrinkage.db import models as m
from shrinkage.db.engine import make_engine
from tests.dagster_helpers import demo_statements, resources_for, with_negative_outgoing

# Differ by construction between two databases (surrogate keys, clocks); everything else must match.
VOLATILE = {"id", "created_at", "updated_at", "upload_date", "process_timestamp", "detection_date",
            "created_date"}
# Process records, not data: the CLI writes one per file, Dagster one per step (tested elsewhere).
PROCESS_TABLES = {"data_lineage"}


def content(engine) -> dict[str, list[tuple]]:
    """Every row of every data table, without ids, foreign keys and timestamps, in a stable order."""
    result = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            if table.name in PROCESS_TABLES:
                continue
            columns = [c for c in table.c if c.name not in VOLATILE and not c.name.endswith("_id")]
            rows = conn.execute(sa.select(*columns)).all() if columns else []
            result[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return result


@pytest.fixture
def two_databases(db_kind, request, tmp_path) -> tuple[str, str]:
    if db_kind == "sqlite":
        template = request.getfixturevalue("sqlite_head_template")
        urls = []
        for name in ("cli.db", "dagster.db"):
            shutil.copy(template, tmp_path / name)
            urls.append(f"sqlite:///{tmp_path / name}")
        return tuple(urls)
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_head_template")
    return tuple(server.create_database(template=template).render_as_string(hide_password=False)
                 for _ in range(2))


def test_cli_and_dagster_leave_identical_rows(two_databases, tmp_path):
    cli_url, dagster_url = two_databases
    inbox = tmp_path / "inbox"
    first, second, third = demo_statements(inbox, weeks=3, products=3, seed=5)
    staging = tmp_path / "staging"
    staging.mkdir()
    for path in (first, second, third):  # the inbox is filled step by step below
        shutil.move(path, staging / path.name)
    rejected = with_negative_outgoing(staging / second.name, staging / "broken statement.xlsx")

    steps: list[tuple[Path, str]] = [  # (file content, name in the inbox)
        (staging / first.name, first.name),
        (staging / second.name, second.name),
        (rejected, rejected.name),
        (staging / first.name, "the same week again.xlsx"),
        (staging / third.name, first.name),  # a changed file under an earlier name
    ]
    cli = make_engine(cli_url)
    resources = resources_for(dagster_url, inbox)
    cli_statuses, dagster_ok = [], []
    with dg.instance_for_test() as instance:
        # Loading definitions reads the current instance's state storage: resolve inside it.
        job = build_definitions(resources).resolve_job_def("ingest_file_job")
        for origin, name in steps:
            target = inbox / name
            shutil.copy(origin, target)
            cli_statuses.append(ingest_file(cli, target).status)
            key = partition_key_for(target, content_hash(target))
            instance.add_dynamic_partitions(source_files.name, [key])
            result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
            dagster_ok.append(result.success)
    assert cli_statuses == ["loaded", "loaded", "rejected", "unchanged", "replaced"]
    assert dagster_ok == [True, True, False, True, True]

    dagster = resources["database"].engine()
    expected, found = content(cli), content(dagster)
    assert found == expected
    assert expected["batch_movements"] and expected["calculation_data"]
    assert any("False" in row for row in expected["source_data"])  # the rejected file is recorded
    cli.dispose()
    dispose_engines()
