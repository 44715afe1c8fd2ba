"""Migration 0005 on a database with data (SQLite and PostgreSQL; the TimescaleDB double in
test_db_timescale.py): stores filled from the files, nothing lost or cascaded by SQLite's table
rebuilds, negative balances allowed, and back down to 0004 intact."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shrinkage.config import get_settings
from shrinkage.db import migrate
from shrinkage.db.engine import make_engine
from shrinkage.db.models import Base
from tests.db_ops_helpers import migration_counts as counts
from tests.db_ops_helpers import seed_0004


@pytest.fixture
def at_0004(empty_db_url):
    engine = make_engine(empty_db_url, null_pool=True)
    migrate.upgrade(engine, "0004")
    yield engine
    engine.dispose()


def test_upgrade_fills_stores_keeps_every_row_and_downgrade_restores_0004(at_0004):
    engine = at_0004
    files = seed_0004(engine)
    before = counts(engine)
    migrate.upgrade(engine)
    assert counts(engine) == before  # SQLite's table rebuilds cascaded nothing
    with engine.connect() as conn:
        stores = dict(conn.execute(sa.text("SELECT name, id FROM warehouses")).tuples().all())
        of_file = dict(conn.execute(sa.text("SELECT id, warehouse_id FROM source_data")).tuples().all())
        per_table = {t: conn.execute(sa.text(f"SELECT DISTINCT warehouse_id FROM {t} ORDER BY 1")).scalars().all()
                     for t in ("calculation_data", "batch_movements", "coefficients", "forecasts",
                               "preliminary_forecasts")}
    assert set(stores) == {"Магазин на Ленина", get_settings().default_warehouse}
    lenina, default = stores["Магазин на Ленина"], stores[get_settings().default_warehouse]
    assert of_file[files["a"]] == of_file[files["b"]] == lenina and of_file[files["c"]] == default
    assert None in of_file.values()  # the rejected file has no rows, so no store
    assert all(found == sorted([lenina, default]) for found in per_table.values()), per_table

    with engine.begin() as conn:  # 0005 allows negative balances
        conn.execute(sa.text("UPDATE batch_movements SET closing = -0.05 WHERE id = 1"))
    with pytest.raises(RuntimeError, match="negative balances are stored"):
        migrate.downgrade(engine, "0004")
    assert migrate.current_revision(engine) == "0005" and counts(engine) == before
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE batch_movements SET closing = 0.75 WHERE id = 1"))

    migrate.downgrade(engine, "0004")
    assert counts(engine) == before
    with engine.connect() as conn:
        assert "warehouses" not in sa.inspect(conn).get_table_names()
        assert "warehouse_id" not in {c["name"] for c in sa.inspect(conn).get_columns("batch_movements")}
        # the 0004 views are back: per product, the three files' copies of one line are one
        assert conn.execute(sa.text("SELECT count(*) FROM shrinkage_stock_on_hand")).scalar_one() == 1
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
        on_hand = conn.execute(sa.text(
            "SELECT warehouse_id, quantity FROM shrinkage_stock_on_hand ORDER BY warehouse_id")).all()
    assert diff == []
    # per store now: the last document of a store's product is read from one file only
    assert sorted(w for w, _ in on_hand) == sorted([lenina, default])
