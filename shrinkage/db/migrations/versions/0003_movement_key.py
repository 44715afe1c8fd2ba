"""batch_movements: one composite foreign key instead of three, no redundant indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Why: a statement loads ~200,000 movement rows per file by COPY, and PostgreSQL checks each
foreign key of each row on its own (one trigger and one index probe per row and key). The
three keys of batch_movements (source_data_id, nomenclature_id, calculation_data_id) cost
more than the heap, the indexes and the WAL together. A movement's calculation row already
belongs to exactly one file and one product, so ONE composite key

    (calculation_data_id, source_data_id, nomenclature_id)
        -> calculation_data (id, source_data_id, nomenclature_id)  ON DELETE CASCADE

checks all three at once, and more than before: a movement can no longer name a file or a
product other than its calculation row's. Deleting a file still removes its movements
(source_data -> calculation_data -> batch_movements, both cascade); a product that has
movements still cannot be deleted (calculation_data -> nomenclature is RESTRICT).
``calculation_data_id`` becomes NOT NULL: a composite key with a NULL part is not checked at
all. A unique index on calculation_data (id, source_data_id, nomenclature_id) backs the key
(PostgreSQL and SQLite need one on exactly the referenced columns). The separate indexes on
batch_movements.source_data_id and .nomenclature_id go: the unique (source_data_id,
source_row) and the (nomenclature_id, document_datetime) indexes lead with those columns.

TimescaleDB: calculation_data is a hypertable, so no key can point at it and no unique index
without its time column can exist (migration 0002). The key is already a trigger pair there;
its child-side trigger now checks the three columns together (sql/timescaledb/fk_triggers.sql
takes extra column pairs), the two real keys to source_data and nomenclature go, and the
unique index is not built: the ORM and that database differ by the key and that index.

Downgrade restores 0002's state on all three kinds of database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from shrinkage.db import timeseries

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MOVEMENTS = "batch_movements"
CALCULATIONS = "calculation_data"
# The naming convention gives the composite key the name the single calculation key had.
CALCULATION_KEY = "fk_batch_movements_calculation_data_id_calculation_data"
ROW_IDENTITY = "uq_calculation_data_row_identity"
KEY_COLUMNS = ["calculation_data_id", "source_data_id", "nomenclature_id"]
PARENT_COLUMNS = ["id", "source_data_id", "nomenclature_id"]
# name -> (column, parent table, ON DELETE), as 0001 made them
SINGLE_KEYS = {
    "fk_batch_movements_source_data_id_source_data": ("source_data_id", "source_data", "CASCADE"),
    "fk_batch_movements_nomenclature_id_nomenclature": ("nomenclature_id", "nomenclature", "RESTRICT"),
}
REDUNDANT_INDEXES = {
    "ix_batch_movements_source_data_id": "source_data_id",
    "ix_batch_movements_nomenclature_id": "nomenclature_id",
}


def _on_timescaledb(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql" and CALCULATIONS in timeseries.our_hypertables(connection)


def _child_trigger(connection: Connection, columns: list[str], parent_columns: list[str]) -> None:
    """(Re)create the child side of the trigger key 0002 made, checking ``columns`` together."""
    q = connection.dialect.identifier_preparer.quote
    args = [columns[0], CALCULATIONS, parent_columns[0]]
    for column, parent_column in zip(columns[1:], parent_columns[1:]):
        args += [column, parent_column]
    arguments = ", ".join(f"'{a}'" for a in args)
    connection.exec_driver_sql(f"DROP TRIGGER {q(CALCULATION_KEY)} ON {q(MOVEMENTS)}")
    connection.exec_driver_sql(
        f"CREATE TRIGGER {q(CALCULATION_KEY)} BEFORE INSERT OR UPDATE OF {', '.join(q(c) for c in columns)} "
        f"ON {q(MOVEMENTS)} FOR EACH ROW EXECUTE FUNCTION shrinkage_fk_check_parent({arguments})")


def upgrade() -> None:
    connection = op.get_bind()
    # Rows stored without their calculation row (none come from the loader) get it by file and product.
    connection.exec_driver_sql(
        f"UPDATE {MOVEMENTS} SET calculation_data_id = (SELECT min(c.id) FROM {CALCULATIONS} c "
        f"WHERE c.source_data_id = {MOVEMENTS}.source_data_id AND c.nomenclature_id = {MOVEMENTS}.nomenclature_id) "
        "WHERE calculation_data_id IS NULL")
    for name in REDUNDANT_INDEXES:
        op.drop_index(name, table_name=MOVEMENTS)
    if _on_timescaledb(connection):
        for name in SINGLE_KEYS:
            op.drop_constraint(name, MOVEMENTS, type_="foreignkey")
        op.alter_column(MOVEMENTS, "calculation_data_id", existing_type=sa.Integer(), nullable=False)
        _child_trigger(connection, KEY_COLUMNS, PARENT_COLUMNS)
        return
    op.create_index(ROW_IDENTITY, CALCULATIONS, PARENT_COLUMNS, unique=True)
    # PostgreSQL: plain ALTER TABLEs; SQLite: one rebuild of the table (it cannot alter keys).
    with op.batch_alter_table(MOVEMENTS) as batch:
        for name in (*SINGLE_KEYS, CALCULATION_KEY):
            batch.drop_constraint(name, type_="foreignkey")
        batch.alter_column("calculation_data_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(CALCULATION_KEY, CALCULATIONS, KEY_COLUMNS, PARENT_COLUMNS, ondelete="CASCADE")


def downgrade() -> None:
    connection = op.get_bind()
    if _on_timescaledb(connection):
        _child_trigger(connection, KEY_COLUMNS[:1], PARENT_COLUMNS[:1])
        op.alter_column(MOVEMENTS, "calculation_data_id", existing_type=sa.Integer(), nullable=True)
        for name, (column, parent, on_delete) in SINGLE_KEYS.items():
            op.create_foreign_key(name, MOVEMENTS, parent, [column], ["id"], ondelete=on_delete)
    else:
        with op.batch_alter_table(MOVEMENTS) as batch:
            batch.drop_constraint(CALCULATION_KEY, type_="foreignkey")
            batch.alter_column("calculation_data_id", existing_type=sa.Integer(), nullable=True)
            batch.create_foreign_key(CALCULATION_KEY, CALCULATIONS, ["calculation_data_id"], ["id"],
                                     ondelete="CASCADE")
            for name, (column, parent, on_delete) in SINGLE_KEYS.items():
                batch.create_foreign_key(name, parent, [column], ["id"], ondelete=on_delete)
        op.drop_index(ROW_IDENTITY, table_name=CALCULATIONS)
    for name, column in REDUNDANT_INDEXES.items():
        op.create_index(name, MOVEMENTS, [column])
