"""The analytical relations on SQLite (views) and PostgreSQL (materialized views + refresh)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from shrinkage.db.analytics_views import ANALYTICS_VIEWS, BASE_RELATIONS, analytics_kind, refresh_analytics
from tests.db_ops_helpers import ANALYTICS_COLUMNS, expected_analytics, read_analytics, seed_timeseries, view_columns


def test_relations_exist_with_the_same_columns_everywhere(engine, db_kind):
    with engine.connect() as conn:
        assert analytics_kind(conn) == db_kind
        for view in ANALYTICS_VIEWS:
            assert view_columns(conn, view) == ANALYTICS_COLUMNS[view]
        if db_kind == "postgresql":
            matviews = set(conn.execute(sa.text("SELECT matviewname FROM pg_matviews")).scalars())
            assert matviews == set(BASE_RELATIONS)


def test_refreshed_relations_equal_the_python_oracle(engine, db_kind):
    seeded = seed_timeseries(engine, weeks=9)
    refreshed = refresh_analytics(engine)
    assert refreshed == (None if db_kind == "sqlite" else "postgresql")
    with engine.connect() as conn:
        got = read_analytics(conn)
    expected = expected_analytics(seeded)
    for name, rows in expected.items():
        assert got[name] == rows, name
    assert len(got["product_weekly"]) > 9 * 4 and len(got["product_monthly"]) >= 3 * 4


def test_materialized_views_lag_until_refreshed(engine, db_kind):
    seed_timeseries(engine, weeks=2)
    refresh_analytics(engine)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT sum(calc_rows) FROM shrinkage_type_monthly")).scalar_one()
    seed_timeseries(engine, weeks=2, start=dt.datetime(2024, 6, 3))
    with engine.connect() as conn:
        stale = conn.execute(sa.text("SELECT sum(calc_rows) FROM shrinkage_type_monthly")).scalar_one()
    refresh_analytics(engine)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT sum(calc_rows) FROM shrinkage_type_monthly")).scalar_one()
    assert after == 2 * before
    assert stale == (before if db_kind == "postgresql" else after)
