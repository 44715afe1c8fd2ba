"""The 18-table contract, migrations, constraints and indexes, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import RelationshipProperty

from shrinkage.db import migrate
from shrinkage.db import models as m
from shrinkage.db.engine import make_engine
from shrinkage.db.registry import activate_registry_version
from shrinkage.db.services import DatabaseService
from tests.schema_contract import CONTRACT, SEED_HEADINGS, SEED_TABLES


def test_the_contract_is_read_from_the_plan_in_the_repository():
    assert CONTRACT.is_file()
    assert set(SEED_TABLES) == set(SEED_HEADINGS.values()) and len(SEED_TABLES) == 18
    assert SEED_TABLES["source_data"] == ["id", "file_name", "file_path", "upload_date", "file_hash", "processed",
                                          "quality_score"]
    assert SEED_TABLES["nomenclature"] == ["id", "name", "product_type", "product_type_code", "created_date",
                                           "validation_flags"]
    assert all(columns[0] == "id" and len(columns) >= 4 for columns in SEED_TABLES.values())


def test_orm_declares_every_contract_column():
    assert set(m.CONTRACT_TABLES) == set(SEED_TABLES)
    for table, columns in SEED_TABLES.items():
        declared = set(m.Base.metadata.tables[table].c.keys())
        assert set(columns) <= declared, f"{table} misses {set(columns) - declared}"
        assert {"created_at", "updated_at"} <= declared, table


def test_upgrade_creates_and_downgrade_removes_every_table(empty_db_url):
    engine = make_engine(empty_db_url, null_pool=True)
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    for table, columns in SEED_TABLES.items():
        assert table in tables
        assert set(columns) <= {c["name"] for c in inspector.get_columns(table)}, table
    assert migrate.current_revision(engine) == migrate.head_revision()

    migrate.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)  # and back up again: the round trip is repeatable
    assert set(SEED_TABLES) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_and_models_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, m.Base.metadata)
    assert diff == []


@pytest.mark.postgres
def test_json_columns_are_jsonb_on_postgresql(pg_engine):
    with pg_engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'jsonb' AND table_schema = 'public'")).all()
    assert {(t, c) for t, c in rows} >= {
        ("calculation_data", "fifo_batch_sequence"), ("ai_patterns", "pattern_data"),
        ("preliminary_forecasts", "batch_storage_history"),
        ("surplus_recommendations", "supporting_data"),
        ("ml_model_registry", "parameters"), ("ml_model_registry", "accuracy_metrics"),
    }


def _index_sql(engine) -> dict[str, str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public'"))
        else:
            rows = conn.execute(sa.text("SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type='index'"))
        return {name: sql.lower() for name, sql in rows}


def test_indexes_exist(engine):
    indexes = _index_sql(engine)
    assert "nomenclature_id" in indexes["ix_calculation_data_nomenclature_date"]
    assert "calculation_date" in indexes["ix_calculation_data_nomenclature_date"]
    assert "inventory_period_end" in indexes["ix_calculation_data_period"]
    # per store and product (0005): what the readers group by
    assert re.search(r"warehouse_id\"?, \"?nomenclature_id\"?, \"?calculation_date",
                     indexes["ix_calculation_data_store_product_date"])
    assert re.search(r"warehouse_id\"?, \"?nomenclature_id\"?, \"?document_datetime",
                     indexes["ix_batch_movements_store_product_time"])
    assert "ix_calculation_data_data_quality_flag" in indexes
    assert "where" in indexes["ix_calculation_data_needs_review"]
    assert re.search(r"lower\(\(?\"?name\"?", indexes["ix_nomenclature_lower_name"])
    assert "where" in indexes["uq_ml_model_registry_one_active"]
    # every foreign key column is indexed
    inspector = sa.inspect(engine)
    for table in inspector.get_table_names():
        indexed = {tuple(ix["column_names"])[0] for ix in inspector.get_indexes(table)
                   if ix["column_names"] and ix["column_names"][0]}
        pk = inspector.get_pk_constraint(table)["constrained_columns"]
        uniques = {tuple(u["column_names"])[0] for u in inspector.get_unique_constraints(table)}
        for fk in inspector.get_foreign_keys(table):
            column = fk["constrained_columns"][0]
            assert column in indexed | {pk[0]} | uniques, f"{table}.{column} has no index"


# The diagram of docs/database-plan.md 3.1: (parent, child attribute on parent, child, parent attribute on child)
DIAGRAM_EDGES = [
    (m.Nomenclature, "calculation_data", m.CalculationData, "nomenclature"),
    (m.Nomenclature, "surplus_specifications", m.SurplusSpecification, "nomenclature"),
    (m.Nomenclature, "surplus_recommendations", m.SurplusRecommendation, "nomenclature"),
    (m.Nomenclature, "surplus_patterns", m.SurplusPattern, "nomenclature"),
    (m.Nomenclature, "analytics", m.Analytics, "nomenclature"),
    (m.SourceData, "calculation_data", m.CalculationData, "source_data"),
    (m.CalculationData, "coefficients", m.Coefficient, "calculation_data"),
    (m.CalculationData, "validation_error_records", m.ValidationError, "calculation_data"),
    (m.CalculationData, "preliminary_forecasts", m.PreliminaryForecast, "calculation_data"),
    (m.CalculationData, "data_lineage", m.DataLineage, "calculation_data"),
    (m.Model, "coefficients", m.Coefficient, "model"),
    (m.Model, "forecasts", m.Forecast, "model"),
    (m.Model, "preliminary_forecasts", m.PreliminaryForecast, "forecast_model"),
    (m.Model, "registry_entries", m.MLModelRegistry, "model"),
    (m.Coefficient, "forecasts", m.Forecast, "coefficient"),
    (m.SurplusPattern, "validations", m.PatternValidation, "surplus_pattern"),
    (m.MLModelRegistry, "analytics", m.Analytics, "registry_entry"),
    (m.PriorityPeriod, "analytics", m.Analytics, "priority_periods"),
    (m.AIPattern, "analytics", m.Analytics, "ai_patterns"),
    (m.FeedbackPreference, "surplus_patterns", m.SurplusPattern, "feedback_preference"),
]


@pytest.mark.parametrize("parent,attr,child,back", DIAGRAM_EDGES,
                         ids=[f"{p.__tablename__}.{a}" for p, a, _, _ in DIAGRAM_EDGES])
def test_relationships_both_ways(parent, attr, child, back):
    forward = sa.inspect(parent).relationships[attr]
    backward = sa.inspect(child).relationships[back]
    assert isinstance(forward, RelationshipProperty)
    assert forward.mapper.class_ is child and backward.mapper.class_ is parent
    assert forward.back_populates == back and backward.back_populates == attr


# --- constraints ----------------------------------------------------------------------

def _product_and_source(crud, name="СЕЛЬДЬ Х/К", file_hash="h1", store="Магазин 1"):
    from shrinkage.db.services import get_or_create_nomenclature
    from shrinkage.db.warehouses import warehouse_id
    nomenclature = get_or_create_nomenclature(crud, name)
    store_id = warehouse_id(crud.session.connection(), store)
    source = crud.create(m.SourceData, file_name="a.xls", file_hash=file_hash, warehouse_id=store_id)
    return nomenclature, source


def _violates(service: DatabaseService, fn) -> bool:
    try:
        with service.transaction() as crud:
            fn(crud)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("column,value", [
    ("incoming", -0.001), ("outgoing", -5.0),
    ("human_error_probability", 1.5), ("human_error_probability", -0.1), ("inventory_confidence", 2.0),
])
def test_calculation_data_rejects_impossible_values(service, column, value):
    def insert(crud):
        nomenclature, source = _product_and_source(crud)
        crud.create(m.CalculationData, source_data_id=source.id, nomenclature_id=nomenclature.id,
                    warehouse_id=source.warehouse_id, calculation_date=datetime(2025, 3, 9), **{column: value})
    assert _violates(service, insert)
    assert service.count(m.CalculationData) == 0 and service.count(m.SourceData) == 0


def test_balances_may_be_negative_quantities_may_not(service):
    """1C books a sale before its receipt on a no-batch line: balances go below zero (0005)."""
    with service.transaction() as crud:
        nomenclature, source = _product_and_source(crud)
        calc = crud.create(m.CalculationData, source_data_id=source.id, nomenclature_id=nomenclature.id,
                           warehouse_id=source.warehouse_id, calculation_date=datetime(2025, 3, 9),
                           initial_balance=-0.05, final_balance=-0.12)
        ids = {"calculation_data_id": calc.id, "source_data_id": source.id, "nomenclature_id": nomenclature.id,
               "warehouse_id": source.warehouse_id}
    line = {"document_type": "Отчет отдела о розничных продажах", "document_kind": "sale",
            "document_datetime": datetime(2025, 3, 8), "is_labelled": False}
    service.create(m.BatchMovement, **ids, **line, source_row=1, opening=-0.05, outgoing=0.07, closing=-0.12)
    for row, column in enumerate(("incoming", "outgoing"), start=2):
        assert _violates(service, lambda crud, c=column, r=row: crud.create(
            m.BatchMovement, **ids, **line, source_row=r, **{c: -0.01}))
    assert service.count(m.BatchMovement) == 1


@pytest.mark.parametrize("model,values", [
    (m.ValidationError, {"error_type": "x", "severity_level": "catastrophic"}),
    (m.SurplusRecommendation, {"recommended_surplus_percentage": 5.0, "confidence_level": 1.2}),
    (m.FeedbackPreference, {"feedback_frequency": "weekly", "auto_confirm_threshold": -0.5}),
    (m.AIPattern, {"pattern_type": "anomaly", "confidence_level": 7.0}),
    (m.PriorityPeriod, {"period_start": datetime(2025, 2, 1), "period_end": datetime(2025, 1, 1)}),
    (m.SurplusSpecification, {"surplus_percentage": -3.0, "specification_start_date": datetime(2025, 1, 1)}),
])
def test_check_constraints(service, model, values):
    def insert(crud):
        extra = {}
        if "nomenclature_id" in model.__table__.c:
            extra["nomenclature_id"] = _product_and_source(crud)[0].id
        crud.create(model, **values, **extra)
    assert _violates(service, insert)


def test_file_hash_is_unique(service):
    service.create(m.SourceData, file_name="a.xls", file_hash="same")
    assert _violates(service, lambda crud: crud.create(m.SourceData, file_name="renamed.xls", file_hash="same"))


def test_one_nomenclature_per_normalised_name(service):
    from shrinkage.db.services import get_or_create_nomenclature, normalize_name
    with service.transaction() as crud:
        first = get_or_create_nomenclature(crud, "Сельдь  Х/К ")
        again = get_or_create_nomenclature(crud, "СЕЛЬДЬ Х/К")
        assert first.id == again.id
    assert _violates(service, lambda crud: crud.create(
        m.Nomenclature, name="сельдь х/к", normalized_name=normalize_name("СЕЛЬДЬ   Х/К")))


def test_at_most_one_active_registry_version(service):
    service.create(m.MLModelRegistry, model_name="exp_linear", version="1", is_active=True)
    assert _violates(service, lambda crud: crud.create(
        m.MLModelRegistry, model_name="exp_linear", version="2", is_active=True))
    service.create(m.MLModelRegistry, model_name="exp_linear", version="2", is_active=False)
    with service.transaction() as crud:
        activate_registry_version(crud, "exp_linear", "2")
    active = service.list(m.MLModelRegistry, filters={"is_active": True}).items
    assert [(r.model_name, r.version) for r in active] == [("exp_linear", "2")]


def test_deleting_a_source_cascades_and_a_used_product_is_protected(service):
    with service.transaction() as crud:
        nomenclature, source = _product_and_source(crud)
        calc = crud.create(m.CalculationData, source_data_id=source.id, nomenclature_id=nomenclature.id,
                           warehouse_id=source.warehouse_id, calculation_date=datetime(2025, 3, 9))
        model = crud.create(m.Model, name="exp_linear", model_type="curve", version="1")
        coefficient = crud.create(m.Coefficient, calculation_data_id=calc.id, model_id=model.id)
        crud.create(m.Forecast, coefficient_id=coefficient.id, model_id=model.id, forecast_value=0.1)
        crud.create(m.ValidationError, calculation_data_id=calc.id, error_type="balance", severity_level="high")
        source_id, nomenclature_id = source.id, nomenclature.id
    assert _violates(service, lambda crud: crud.delete(m.Nomenclature, nomenclature_id))
    assert service.delete(m.SourceData, source_id)
    for model_ in (m.CalculationData, m.Coefficient, m.Forecast, m.ValidationError):
        assert service.count(model_) == 0, model_.__tablename__
    assert service.count(m.Model) == 1 and service.count(m.Nomenclature) == 1


def test_a_movement_belongs_to_its_calculation_rows_file_product_and_store(service):
    """One composite key (migrations 0003, 0005): calculation row, file, product and store are checked together."""
    with service.transaction() as crud:
        nomenclature, source = _product_and_source(crud)
        other, other_source = _product_and_source(crud, name="ТРЕСКА Х/К", file_hash="h2", store="Магазин 2")
        calc = crud.create(m.CalculationData, source_data_id=source.id, nomenclature_id=nomenclature.id,
                           warehouse_id=source.warehouse_id, calculation_date=datetime(2025, 3, 9))
        ids = {"calculation_data_id": calc.id, "source_data_id": source.id, "nomenclature_id": nomenclature.id,
               "warehouse_id": source.warehouse_id}
        source_id, nomenclature_id, other_id = source.id, nomenclature.id, other.id
        other_store = other_source.warehouse_id
    movement = {"document_type": "Реализация", "document_kind": "sale", "document_datetime": datetime(2025, 3, 8)}
    service.create(m.BatchMovement, **ids, **movement, source_row=1)
    assert _violates(service, lambda crud: crud.create(
        m.BatchMovement, **{**ids, "nomenclature_id": other_id}, **movement, source_row=2))
    assert _violates(service, lambda crud: crud.create(
        m.BatchMovement, **{**ids, "warehouse_id": other_store}, **movement, source_row=4))
    assert _violates(service, lambda crud: crud.create(
        m.BatchMovement, **{**ids, "calculation_data_id": None}, **movement, source_row=3))
    assert _violates(service, lambda crud: crud.delete(m.Nomenclature, nomenclature_id))
    assert service.delete(m.SourceData, source_id)
    assert service.count(m.BatchMovement) == 0 and service.count(m.CalculationData) == 0


def test_updated_at_is_maintained(service, engine):
    row = service.create(m.Model, name="linear", model_type="curve", version="1")
    with engine.begin() as conn:  # pretend it was written long ago
        conn.execute(sa.text("UPDATE models SET updated_at = :t, created_at = :t WHERE id = :id"),
                     {"t": datetime(2020, 1, 1), "id": row.id})
    updated = service.update(m.Model, row.id, description="changed")
    assert updated.updated_at > datetime(2021, 1, 1)
    assert updated.created_at == datetime(2020, 1, 1)
