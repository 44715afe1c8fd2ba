"""Curves inside the database: shrinkage_curve, the forecast views, PL/Python where available.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

What it builds (SQL in the top-level sql/curves/ folder; see shrinkage.db.curve_functions):

- PostgreSQL / TimescaleDB: immutable SQL functions ``shrinkage_curve(a, b, c, t)`` (the
  main family a(1 - e^(-bt)) + ct), ``shrinkage_curve(family, a, b, c, t)`` (every family of
  shrinkage.modeling.curves, parameters by position) and ``shrinkage_batch_loss(family, a, b,
  c, quantity, age_days, horizon_days)``. SQLite has no stored functions: the engine
  registers the same three on every connection it opens.
- All three databases: the views ``shrinkage_active_curves`` (coefficients in force per
  product), ``shrinkage_stock_on_hand`` (book stock per batch and age after the product's last
  document), ``shrinkage_batch_forecast`` and ``shrinkage_product_forecast`` (expected loss
  over the configured horizons, per batch and summed per product).
- PostgreSQL with plpython3u on the server: ``shrinkage_product_curve(nomenclature_id, t)``
  and ``shrinkage_expected_loss(nomenclature_id, horizon_days)``, evaluating the product's
  model in force from its registry version's parameters. plpython3u is untrusted, so this
  needs a superuser; without the package or the right the migration logs why and builds
  everything else (the attempt runs in a savepoint).

Downgrade drops the views and the functions. The plpython3u extension stays installed, as
0002 leaves TimescaleDB (other objects may use it).
"""

from __future__ import annotations

from alembic import op

from shrinkage.db import analytics_views, curve_functions

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    curve_functions.create_sql_functions(connection)
    # As this revision built them (per product); 0005 rebuilds them per store.
    analytics_views.create_curve_views(connection, revision=analytics_views.BEFORE_WAREHOUSES)
    curve_functions.create_plpython_functions(connection)


def downgrade() -> None:
    connection = op.get_bind()
    curve_functions.drop_plpython_functions(connection)
    analytics_views.drop_curve_views(connection)
    curve_functions.drop_sql_functions(connection)
