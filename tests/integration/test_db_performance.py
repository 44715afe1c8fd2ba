"""The most frequent reads use their indexes on a realistically sized PostgreSQL table."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shrinkage.db import queries
from shrinkage.db.engine import make_engine

pytestmark = pytest.mark.postgres
ROWS = 100_000
PRODUCTS = 500


@pytest.fixture(scope="module")
def big_engine(pg_server, pg_head_template):
    """100k calculation rows and 100k movements over 500 products and ~3 years, analysed."""
    engine = make_engine(pg_server.create_database(template=pg_head_template), null_pool=True)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO warehouses (name, normalized_name) VALUES ('Склад', 'склад')"))
        conn.execute(sa.text(
            "INSERT INTO source_data (file_name, file_hash, warehouse_id) VALUES ('big.xls', 'big', 1)"))
        conn.execute(sa.text(
            "INSERT INTO nomenclature (name, normalized_name, product_type) "
            "SELECT 'P ' || g, 'p ' || g, 'salted' FROM generate_series(1, :n) g"), {"n": PRODUCTS})
        conn.execute(sa.text(
            "INSERT INTO calculation_data (source_data_id, warehouse_id, nomenclature_id, calculation_date, "
            "incoming, outgoing, manual_review_required) "
            "SELECT 1, 1, 1 + g % :p, "
            "TIMESTAMP '2022-01-01' + (g / :p) * INTERVAL '5 days' + (g % 7) * INTERVAL '1 hour', "
            "g % 13, g % 11, g % 200 = 0 FROM generate_series(0, :rows - 1) g"), {"p": PRODUCTS, "rows": ROWS})
        conn.execute(sa.text(  # one movement per calculation row (its key names the row, file and product)
            "INSERT INTO batch_movements (calculation_data_id, source_data_id, nomenclature_id, warehouse_id, "
            "source_row, document_type, document_kind, document_datetime, opening, incoming, outgoing, closing) "
            "SELECT id, source_data_id, nomenclature_id, warehouse_id, g, 'Реализация', 'sale', "
            "TIMESTAMP '2022-01-01' + g * INTERVAL '15 minutes', 10, 0, 1, 9 "
            "FROM (SELECT *, row_number() OVER (ORDER BY id) - 1 AS g FROM calculation_data) c"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    yield engine
    engine.dispose()


def plan_indexes(engine: sa.Engine, stmt) -> tuple[set[str], dict]:
    with engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    found: set[str] = set()

    def walk(node: dict) -> None:
        if "Index Name" in node:
            found.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found, plan[0]["Plan"]


def test_movements_of_a_product_in_a_time_range_use_the_store_product_time_index(big_engine):
    stmt = queries.movements_in_range(1, 42, dt.datetime(2022, 2, 1), dt.datetime(2022, 3, 1))
    used, plan = plan_indexes(big_engine, stmt)
    assert "ix_batch_movements_store_product_time" in used, plan


def test_calculation_history_of_a_product_uses_the_product_date_index(big_engine):
    used, plan = plan_indexes(big_engine, queries.calculation_history(42, since=dt.datetime(2023, 1, 1)))
    assert "ix_calculation_data_nomenclature_date" in used, plan


def test_rows_needing_review_use_the_partial_index(big_engine):
    used, plan = plan_indexes(big_engine, queries.rows_needing_review())
    assert "ix_calculation_data_needs_review" in used, plan


def test_the_queries_return_the_right_rows(big_engine):
    with Session(big_engine) as session:
        moves = session.scalars(
            queries.movements_in_range(1, 42, dt.datetime(2022, 1, 1), dt.datetime(2023, 1, 1))).all()
        review = session.scalars(queries.rows_needing_review(limit=10_000)).all()
    assert moves and all(m.nomenclature_id == 42 for m in moves)
    assert [m.document_datetime for m in moves] == sorted(m.document_datetime for m in moves)
    assert len(review) == ROWS // 200 and all(r.manual_review_required for r in review)
