"""Migration 0005 on the TimescaleDB test double, over hypertables holding data in compressed
chunks: stores filled, chunks decompressed and segmented per store and product, the movement
key's trigger checking the store, and back down to 0004 with every row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shrinkage.db import migrate
from shrinkage.db.engine import make_engine
from shrinkage.db.timeseries import HYPERTABLES, our_hypertables
from tests.db_ops_helpers import migration_counts, seed_0004
from tests.tsdb_server import TsdbServer, start_tsdb_server

pytestmark = pytest.mark.timescaledb


@pytest.fixture(scope="module")
def tsdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsdbServer]:
    with start_tsdb_server(tmp_path_factory.mktemp("tsdb-warehouses")) as server:
        yield server


@pytest.fixture(scope="module")
def engine(tsdb: TsdbServer) -> Iterator[sa.Engine]:
    engine = make_engine(tsdb.url, null_pool=True)
    yield engine
    engine.dispose()


def compressed(engine: sa.Engine, table: str) -> list[bool]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = :t"),
            {"t": table}).scalars())


def segment_by(engine: sa.Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT attname FROM timescaledb_information.compression_settings "
            "WHERE hypertable_name = :t AND segmentby_column_index IS NOT NULL ORDER BY segmentby_column_index"),
            {"t": table}).scalars())


def test_upgrade_over_compressed_chunks_and_back(engine):
    migrate.upgrade(engine, "0004")
    files = seed_0004(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("calculation_data", "batch_movements"):
            conn.execute(sa.text("SELECT compress_chunk(c) FROM show_chunks(CAST(:t AS regclass)) c"), {"t": table})
    assert all(compressed(engine, "batch_movements")) and compressed(engine, "batch_movements")
    before = migration_counts(engine)

    migrate.upgrade(engine)
    assert migration_counts(engine) == before
    with engine.connect() as conn:
        assert set(our_hypertables(conn)) == set(HYPERTABLES)
        stores = conn.execute(sa.text("SELECT count(*) FROM warehouses")).scalar_one()
        filled = conn.execute(sa.text(
            "SELECT count(*) FROM batch_movements m JOIN source_data s ON s.id = m.source_data_id "
            "WHERE m.warehouse_id = s.warehouse_id")).scalar_one()
        movement = conn.execute(sa.text("SELECT * FROM batch_movements WHERE source_data_id = :s"),
                                {"s": files["a"]}).mappings().one()
        other_store = conn.execute(sa.text("SELECT warehouse_id FROM source_data WHERE id = :s"),
                                   {"s": files["c"]}).scalar_one()
    assert stores == 2 and filled == before["batch_movements"]
    assert segment_by(engine, "batch_movements") == ["warehouse_id", "nomenclature_id"]
    assert segment_by(engine, "calculation_data") == ["warehouse_id", "nomenclature_id"]
    assert not any(compressed(engine, "batch_movements"))
    copy = {k: movement[k] for k in ("calculation_data_id", "source_data_id", "nomenclature_id", "document_type",
                                     "document_kind", "document_datetime")}
    with pytest.raises(IntegrityError, match="foreign key"):  # the trigger checks the store too
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO batch_movements (calculation_data_id, source_data_id, nomenclature_id, warehouse_id, "
                "source_row, document_type, document_kind, document_datetime) VALUES (:calculation_data_id, "
                ":source_data_id, :nomenclature_id, :w, 99, :document_type, :document_kind, :document_datetime)"),
                {**copy, "w": other_store})
    with engine.begin() as conn:  # a negative balance goes in
        conn.execute(sa.text("UPDATE batch_movements SET closing = -0.05 WHERE id = :i"), {"i": movement["id"]})
        conn.execute(sa.text("UPDATE batch_movements SET closing = 0.75 WHERE id = :i"), {"i": movement["id"]})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("SELECT compress_chunk(c) FROM show_chunks('batch_movements') c"))

    migrate.downgrade(engine, "0004")
    assert migration_counts(engine) == before
    assert segment_by(engine, "batch_movements") == ["nomenclature_id"]
    with engine.connect() as conn:
        assert "warehouses" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT count(*) FROM shrinkage_stock_on_hand")).scalar_one() == 1
    migrate.upgrade(engine)
    assert migration_counts(engine) == before
