"""Time-series storage and analytical relations (TimescaleDB when present).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

What it builds, by database (the SQL lives in the top-level sql/ folder):

- TimescaleDB (extension installed, or available and preloaded): calculation_data,
  forecasts, analytics and batch_movements become hypertables chunked by their time column;
  compression policy on all four, retention policy only when configured
  (``shrinkage.config.TimeSeriesPolicies``); the analytical base layer as real-time
  continuous aggregates with refresh policies.
- PostgreSQL without it: the same base layer as materialized views, refreshed by
  ``shrinkage.db.analytics_views.refresh_analytics`` (a SECURITY DEFINER function, so the
  application role can refresh what it does not own).
- SQLite: plain views.
The views analysts query (shrinkage per product / product type per week / month, forecast
accuracy per model per month) have the same names and columns on all three.

Why the keys change on TimescaleDB, and why this way:
a hypertable may only have unique indexes that contain its time column. So
(1) primary keys become (id, time). The alternative, a surrogate id unique on its own,
is impossible to enforce across chunks; ``id`` stays unique in practice because only its
sequence fills it, and the ORM keeps mapping ``id`` alone as the identity, which is why the
ORM is not changed (a composite identity would break every ``session.get(Model, id)``).
(2) batch_movements' unique (source_data_id, source_row) becomes (source_data_id,
source_row, document_datetime): a source row has one document date, so it identifies the
same rows. (3) Foreign keys pointing AT a hypertable (coefficients, validation_errors,
preliminary_forecasts, data_lineage and batch_movements -> calculation_data; the two
analytics association tables -> analytics) would need a unique index on id alone, which
cannot exist. Dropping them would lose both the integrity check and the ON DELETE
CASCADE / SET NULL the ORM relies on (its relationships use passive_deletes), and making
them composite (id, time) would add a time column to five child tables and change the
ORM. So each becomes a pair of triggers under the constraint's own name: the child refuses
an unknown id with SQLSTATE 23503 (the error a foreign key raises, so callers see the same
IntegrityError) and the parent cascades or nulls on delete. Foreign keys FROM hypertables to
plain tables stay real foreign keys. The alembic autogenerate comparison on TimescaleDB
therefore differs from the ORM by exactly these deliberate items (tested).

Downgrade drops the analytical relations and, on TimescaleDB, rebuilds each hypertable as
a plain table with its data, original keys, indexes and real foreign keys (there is no
"un-hypertable" operation). The extension itself stays installed (other databases objects
may use it).
"""

from __future__ import annotations

from alembic import op

from shrinkage.config import CONFIG
from shrinkage.db import analytics_views, timeseries

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    kind = timeseries.database_kind(connection, CONFIG.timeseries)
    if kind == "timescaledb":
        timeseries.convert_to_hypertables(connection, CONFIG.timeseries)
    # As this revision built them (per product); 0005 rebuilds them per store.
    analytics_views.create_analytics_relations(connection, kind, CONFIG.timeseries,
                                               revision=analytics_views.BEFORE_WAREHOUSES)
    if kind == "timescaledb":
        timeseries.apply_policies(connection, CONFIG.timeseries)


def downgrade() -> None:
    connection = op.get_bind()
    analytics_views.drop_analytics_relations(connection)
    if connection.dialect.name == "postgresql" and timeseries.our_hypertables(connection):
        timeseries.revert_hypertables(connection)
