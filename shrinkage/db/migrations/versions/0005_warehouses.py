"""Stores are a dimension; balances may be negative; superseded documents; typed-by markers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Real 1C exports (docs/DOMAIN.md "What real exports contain") need four changes:

- **Negative balances.** 1C books a sale before the receipt it belongs to on an empty-label
  ("no batch") line with a negative balance, so the non-negative CHECKs on balances go:
  ``opening``/``closing`` of batch_movements, ``initial_balance``/``final_balance`` of
  calculation_data. Quantities in and out keep theirs.
- **Stores.** A chain exports one statement per store with the same product names, and
  shrinkage is a property of a product in a store. A ``warehouses`` table (one row per name
  up to case, spaces and Ё) and ``warehouse_id`` on every per-store table: source_data
  (NULL for a file never loaded), calculation_data and batch_movements (NOT NULL), and the
  modelling's results coefficients, forecasts, preliminary_forecasts,
  surplus_recommendations, analytics and surplus_patterns (NULL: chain-wide, or made before
  this revision). Registry versions, models, priority periods, specifications and
  validation errors are not per store (a fit run covers all stores; errors hang on their
  calculation row). Nomenclature stays one row per product name.
  batch_movements' composite key (0003) gains the store: a movement is of its calculation
  row's file, product AND store, still one check per row. Indexes lead with
  (warehouse_id, nomenclature_id, time) where the readers group per store and product.
  Existing rows get the store named by their file, or ``Settings.default_warehouse``.
- **Overlapping exports.** ``batch_movements.superseded``: a more recent export of the same
  store holds this document; its copy here is history (shrinkage.db.documents).
  ``calculation_data.start_unknown``: the books of the store and product do not continue
  from the file before (a missing export), so the first count in the row's period has no
  known start.
- **Corrections stick.** ``nomenclature.product_type_source`` says what decided the type
  (name, group, user ...); a user's correction is never re-typed by a load or a keyword import.

The analytical relations (0002) and the forecast views (0004) group per store and product
from here on: they are dropped first and rebuilt at the end (which also lets SQLite rebuild
the tables that views read). TimescaleDB: the four hypertables' chunks are decompressed
(compression settings cannot change over compressed chunks; the policy compresses them
again), the segment-by of the per-store hypertables becomes (warehouse_id,
nomenclature_id), the movement key's child trigger checks four columns, and the unique
index that backs the key elsewhere is not built there (as in 0003). SQLite rebuilds tables
in batch mode with foreign keys off (shrinkage.db.migrate), so a rebuild cascades nothing.

Downgrade restores 0004 exactly; it refuses (and changes nothing) while negative balances are
stored, which the 0004 schema cannot hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from shrinkage.config import get_settings
from shrinkage.db import analytics_views, timeseries
from shrinkage.db.warehouses import warehouse_id

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WAREHOUSES = "warehouses"
SOURCES, CALCULATIONS, MOVEMENTS = "source_data", "calculation_data", "batch_movements"
# Per-store results of the modelling: filled from their calculation row / coefficient where they have one.
DERIVED = ("coefficients", "forecasts", "preliminary_forecasts", "surplus_recommendations", "analytics",
           "surplus_patterns")
FILL_FROM = {
    "coefficients": f"SELECT c.warehouse_id FROM {CALCULATIONS} c WHERE c.id = coefficients.calculation_data_id",
    "preliminary_forecasts": (f"SELECT c.warehouse_id FROM {CALCULATIONS} c "
                              "WHERE c.id = preliminary_forecasts.calculation_data_id"),
    "forecasts": "SELECT k.warehouse_id FROM coefficients k WHERE k.id = forecasts.coefficient_id",
}
BALANCE_CHECKS = {CALCULATIONS: ("initial_balance", "final_balance"), MOVEMENTS: ("opening", "closing")}
MOVEMENT_KEY = "fk_batch_movements_calculation_data_id_calculation_data"
ROW_IDENTITY = "uq_calculation_data_row_identity"
KEY_COLUMNS = ["calculation_data_id", "source_data_id", "nomenclature_id"]
PARENT_COLUMNS = ["id", "source_data_id", "nomenclature_id"]
OLD_MOVEMENT_INDEX = ("ix_batch_movements_product_time", ["nomenclature_id", "document_datetime"])
NEW_MOVEMENT_INDEX = ("ix_batch_movements_store_product_time", ["warehouse_id", "nomenclature_id", "document_datetime"])
CALCULATION_INDEX = ("ix_calculation_data_store_product_date", ["warehouse_id", "nomenclature_id", "calculation_date"])
# TimescaleDB compression segments: per store and product where the table is per store.
SEGMENT_BY = {CALCULATIONS: "warehouse_id, nomenclature_id", MOVEMENTS: "warehouse_id, nomenclature_id",
              "analytics": "warehouse_id, nomenclature_id"}


def _fk(table: str) -> str:
    return f"fk_{table}_warehouse_id_{WAREHOUSES}"


def _ix(table: str) -> str:
    return f"ix_{table}_warehouse_id"


def _check(table: str, column: str) -> str:
    return op.f(f"ck_{table}_{column}_non_negative")  # final: not renamed by the naming convention


def _on_timescaledb(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql" and CALCULATIONS in timeseries.our_hypertables(connection)


def _decompress(connection: Connection) -> None:
    for table in timeseries.our_hypertables(connection):
        connection.execute(sa.text(
            "SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks(CAST(:t AS regclass)) c"),
            {"t": table})


def _segment_by(connection: Connection, settings: dict[str, str]) -> None:
    for table, columns in settings.items():
        connection.exec_driver_sql(f'ALTER TABLE "{table}" SET (timescaledb.compress_segmentby = \'{columns}\')')


def _movement_child_trigger(connection: Connection, columns: list[str], parent_columns: list[str]) -> None:
    """The child side of the movement key's trigger pair (0002/0003), checking ``columns`` together."""
    args = [columns[0], CALCULATIONS, parent_columns[0]]
    for column, parent_column in zip(columns[1:], parent_columns[1:]):
        args += [column, parent_column]
    arguments = ", ".join(f"'{a}'" for a in args)
    connection.exec_driver_sql(f'DROP TRIGGER "{MOVEMENT_KEY}" ON "{MOVEMENTS}"')
    connection.exec_driver_sql(
        f'CREATE TRIGGER "{MOVEMENT_KEY}" BEFORE INSERT OR UPDATE OF {", ".join(columns)} '
        f'ON "{MOVEMENTS}" FOR EACH ROW EXECUTE FUNCTION shrinkage_fk_check_parent({arguments})')


def _fill_warehouses(connection: Connection) -> None:
    """Every loaded file gets the store it names (or the default store); its rows follow."""
    default = get_settings().default_warehouse
    files = connection.execute(sa.text(
        f"SELECT s.id, s.warehouse FROM {SOURCES} s "
        f"WHERE EXISTS (SELECT 1 FROM {CALCULATIONS} c WHERE c.source_data_id = s.id)")).all()
    ids: dict[str, int] = {}
    for source_id, name in files:
        name = (name or "").strip() or default
        if name not in ids:
            ids[name] = warehouse_id(connection, name)
        connection.execute(sa.text(f"UPDATE {SOURCES} SET warehouse_id = :w WHERE id = :s"),
                           {"w": ids[name], "s": source_id})
    connection.exec_driver_sql(
        f"UPDATE {CALCULATIONS} SET warehouse_id = "
        f"(SELECT s.warehouse_id FROM {SOURCES} s WHERE s.id = {CALCULATIONS}.source_data_id)")
    connection.exec_driver_sql(
        f"UPDATE {MOVEMENTS} SET warehouse_id = "
        f"(SELECT c.warehouse_id FROM {CALCULATIONS} c WHERE c.id = {MOVEMENTS}.calculation_data_id)")
    for table in ("coefficients", "preliminary_forecasts", "forecasts"):  # forecasts after coefficients
        connection.exec_driver_sql(f"UPDATE {table} SET warehouse_id = ({FILL_FROM[table]})")


def upgrade() -> None:
    connection = op.get_bind()
    tsdb = _on_timescaledb(connection)
    kind = analytics_views.analytics_kind(connection)
    analytics_views.drop_curve_views(connection)
    analytics_views.drop_analytics_relations(connection)
    if tsdb:
        _decompress(connection)

    op.create_table(
        WAREHOUSES,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("normalized_name", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_warehouses"),
        sa.UniqueConstraint("normalized_name", name="uq_warehouses_normalized_name"),
    )
    # Plain ALTERs (a SQLite rebuild would lose the expression index it cannot reflect).
    op.add_column("nomenclature", sa.Column("product_type_source", sa.String(length=16), nullable=True))
    for table in (SOURCES, CALCULATIONS, MOVEMENTS, *DERIVED):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("warehouse_id", sa.Integer(), nullable=True))
    for table in (CALCULATIONS, MOVEMENTS):
        flag = "start_unknown" if table == CALCULATIONS else "superseded"
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(flag, sa.Boolean(), server_default=sa.false(), nullable=False))
    _fill_warehouses(connection)

    with op.batch_alter_table(SOURCES) as batch:
        batch.create_foreign_key(_fk(SOURCES), WAREHOUSES, ["warehouse_id"], ["id"], ondelete="RESTRICT")
        batch.create_index(_ix(SOURCES), ["warehouse_id"])
    for table in DERIVED:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(_fk(table), WAREHOUSES, ["warehouse_id"], ["id"], ondelete="CASCADE")
            batch.create_index(_ix(table), ["warehouse_id"])
    with op.batch_alter_table(CALCULATIONS) as batch:
        batch.alter_column("warehouse_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(_fk(CALCULATIONS), WAREHOUSES, ["warehouse_id"], ["id"], ondelete="RESTRICT")
        for column in BALANCE_CHECKS[CALCULATIONS]:
            batch.drop_constraint(_check(CALCULATIONS, column), type_="check")
        batch.create_index(*CALCULATION_INDEX)

    if tsdb:
        # No key can point at a hypertable: the trigger checks the four columns (0003 did three).
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.alter_column("warehouse_id", existing_type=sa.Integer(), nullable=False)
            for column in BALANCE_CHECKS[MOVEMENTS]:
                batch.drop_constraint(_check(MOVEMENTS, column), type_="check")
            batch.drop_index(OLD_MOVEMENT_INDEX[0])
            batch.create_index(*NEW_MOVEMENT_INDEX)
        _movement_child_trigger(connection, [*KEY_COLUMNS, "warehouse_id"], [*PARENT_COLUMNS, "warehouse_id"])
        _segment_by(connection, SEGMENT_BY)
    else:
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.drop_constraint(MOVEMENT_KEY, type_="foreignkey")
        op.drop_index(ROW_IDENTITY, table_name=CALCULATIONS)
        op.create_index(ROW_IDENTITY, CALCULATIONS, [*PARENT_COLUMNS, "warehouse_id"], unique=True)
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.alter_column("warehouse_id", existing_type=sa.Integer(), nullable=False)
            for column in BALANCE_CHECKS[MOVEMENTS]:
                batch.drop_constraint(_check(MOVEMENTS, column), type_="check")
            batch.create_foreign_key(MOVEMENT_KEY, CALCULATIONS, [*KEY_COLUMNS, "warehouse_id"],
                                     [*PARENT_COLUMNS, "warehouse_id"], ondelete="CASCADE")
            batch.drop_index(OLD_MOVEMENT_INDEX[0])
            batch.create_index(*NEW_MOVEMENT_INDEX)

    if kind is not None:
        analytics_views.create_analytics_relations(connection, kind)
    analytics_views.create_curve_views(connection)


def _refuse_negative_balances(connection: Connection) -> None:
    found = {}
    for table, columns in BALANCE_CHECKS.items():
        condition = " OR ".join(f"{c} < 0" for c in columns)
        found[table] = connection.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE {condition}").scalar_one()
    if any(found.values()):
        raise RuntimeError(
            "cannot downgrade below 0005: negative balances are stored "
            f"({found[MOVEMENTS]} movement rows, {found[CALCULATIONS]} calculation rows) and revision 0004 "
            "forbids them; delete the files that hold them first (shrinkage db cleanup / a new database)")


def downgrade() -> None:
    connection = op.get_bind()
    _refuse_negative_balances(connection)
    tsdb = _on_timescaledb(connection)
    kind = analytics_views.analytics_kind(connection)
    analytics_views.drop_curve_views(connection)
    analytics_views.drop_analytics_relations(connection)
    if tsdb:
        _decompress(connection)
        _segment_by(connection, {t: "nomenclature_id" for t in SEGMENT_BY})
        _movement_child_trigger(connection, KEY_COLUMNS, PARENT_COLUMNS)
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.drop_index(NEW_MOVEMENT_INDEX[0])
            batch.create_index(*OLD_MOVEMENT_INDEX)
            for column in BALANCE_CHECKS[MOVEMENTS]:
                batch.create_check_constraint(_check(MOVEMENTS, column), f"{column} IS NULL OR {column} >= 0")
            batch.drop_column("superseded")
            batch.drop_column("warehouse_id")
    else:
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.drop_constraint(MOVEMENT_KEY, type_="foreignkey")
        op.drop_index(ROW_IDENTITY, table_name=CALCULATIONS)
        op.create_index(ROW_IDENTITY, CALCULATIONS, PARENT_COLUMNS, unique=True)
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.drop_index(NEW_MOVEMENT_INDEX[0])
            batch.drop_column("superseded")
            batch.drop_column("warehouse_id")
            batch.create_foreign_key(MOVEMENT_KEY, CALCULATIONS, KEY_COLUMNS, PARENT_COLUMNS, ondelete="CASCADE")
            for column in BALANCE_CHECKS[MOVEMENTS]:
                batch.create_check_constraint(_check(MOVEMENTS, column), f"{column} IS NULL OR {column} >= 0")
            batch.create_index(*OLD_MOVEMENT_INDEX)
    with op.batch_alter_table(CALCULATIONS) as batch:
        batch.drop_index(CALCULATION_INDEX[0])
        batch.drop_constraint(_fk(CALCULATIONS), type_="foreignkey")
        batch.drop_column("warehouse_id")
        batch.drop_column("start_unknown")
        for column in BALANCE_CHECKS[CALCULATIONS]:
            batch.create_check_constraint(_check(CALCULATIONS, column), f"{column} IS NULL OR {column} >= 0")
    for table in (SOURCES, *DERIVED):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(_ix(table))
            batch.drop_constraint(_fk(table), type_="foreignkey")
            batch.drop_column("warehouse_id")
    if connection.dialect.name == "sqlite":  # 3.35+ drops a plain column in place
        connection.exec_driver_sql("ALTER TABLE nomenclature DROP COLUMN product_type_source")
    else:
        op.drop_column("nomenclature", "product_type_source")
    op.drop_table(WAREHOUSES)
    if kind is not None:
        analytics_views.create_analytics_relations(connection, kind, revision=analytics_views.BEFORE_WAREHOUSES)
    analytics_views.create_curve_views(connection, revision=analytics_views.BEFORE_WAREHOUSES)
