"""Roles on the real PostgreSQL server: the application role reads and writes but has no DDL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError

from shrinkage.db import catalog, roles
from shrinkage.db.analytics_views import refresh_analytics
from shrinkage.db.engine import make_engine
from tests.db_ops_helpers import HOSTILE_NAMES, seed_timeseries

pytestmark = pytest.mark.postgres


@pytest.fixture
def role_urls(pg_server, pg_head_template):
    """A migrated database with roles applied and one login user per role."""
    url = pg_server.create_database(template=pg_head_template)
    admin = make_engine(url, null_pool=True)
    seed_timeseries(admin, weeks=1, names=HOSTILE_NAMES)
    refresh_analytics(admin)
    users = {}
    with admin.begin() as conn:
        for key in ("app", "reporting"):
            name, password = f"u_{key}_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
            conn.execute(sa.text(f"CREATE ROLE {name} LOGIN PASSWORD :pw"), {"pw": password})
            users[key] = url.set(username=name, password=password)
    roles.apply_roles(admin, {key: [u.username] for key, u in users.items()})
    admin.dispose()
    return users


def run(url, sql, params=None):
    engine = make_engine(url, null_pool=True)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params or {})
            return result.all() if result.returns_rows else result.rowcount
    finally:
        engine.dispose()


@pytest.mark.parametrize("ddl", [
    "CREATE TABLE intruder (id int)",
    "DROP TABLE nomenclature",
    "ALTER TABLE nomenclature ADD COLUMN x int",
    "TRUNCATE calculation_data",
    "DROP MATERIALIZED VIEW agg_product_weekly CASCADE",
])
def test_application_role_has_no_ddl(role_urls, ddl):
    with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
        run(role_urls["app"], ddl)


def test_application_role_reads_writes_and_refreshes(role_urls):
    app = role_urls["app"]
    assert run(app, "SELECT count(*) FROM nomenclature")[0][0] == len(HOSTILE_NAMES)
    new_id = run(app, "INSERT INTO nomenclature (name, normalized_name) VALUES (:n, :k) RETURNING id",
                 {"n": HOSTILE_NAMES[0] + " new", "k": "new"})[0][0]
    assert run(app, "UPDATE nomenclature SET product_type = 'salted' WHERE id = :i", {"i": new_id}) == 1
    assert run(app, "DELETE FROM nomenclature WHERE id = :i", {"i": new_id}) == 1
    engine = make_engine(app, null_pool=True)
    assert refresh_analytics(engine) == "postgresql"  # through the SECURITY DEFINER function
    engine.dispose()
    assert run(app, "SELECT sum(calc_rows) FROM shrinkage_type_weekly")[0][0] > 0


def test_reporting_role_only_reads(role_urls):
    reporting = role_urls["reporting"]
    assert run(reporting, "SELECT count(*) FROM calculation_data")[0][0] > 0
    assert run(reporting, "SELECT count(*) FROM shrinkage_product_monthly")[0][0] > 0
    for sql in ("INSERT INTO models (name, model_type, version) VALUES ('x', 'y', 'z')",
                "UPDATE nomenclature SET name = 'x'", "DELETE FROM forecasts", "CREATE TABLE t (i int)"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            run(reporting, sql)


def test_roles_are_idempotent_and_refuse_unknown_users(pg_server, pg_head_template):
    engine = make_engine(pg_server.create_database(template=pg_head_template), null_pool=True)
    roles.apply_roles(engine)
    roles.apply_roles(engine)
    with pytest.raises(catalog.OpsError, match="does not exist"):
        roles.apply_roles(engine, {"app": ["nobody_here"]})
    with pytest.raises(catalog.OpsError, match="not a plain role name"):
        roles.apply_roles(engine, {"app": ['x"; DROP TABLE nomenclature; --']})
    with engine.connect() as conn:
        owner = conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'nomenclature'")).scalar_one()
    assert owner == "shrinkage_owner"
    engine.dispose()
