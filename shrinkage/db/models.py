"""The customer's 18 tables (docs/database-plan.md section 3.2, every column by name) plus what the model needs.

Relationships follow the ER diagram of docs/database-plan.md section 3.1. Where the column lists and the
diagram disagree the diagram wins and the missing column is added (e.g.
``ml_model_registry.model_id``, ``forecasts.model_id``, ``analytics.ml_model_registry_id``,
``surplus_patterns.feedback_preference_id``); the two many-to-many edges of the diagram
(priority periods and AI patterns "influence"/"contribute to" analytics) get association
tables. Extra tables: ``warehouses`` (the stores of a chain: shrinkage is a property of a
product in a store), ``batch_movements`` (each batch's book balance at every document, the
input of the exposure model) and the two association tables. Rows that are per store carry
``warehouse_id`` (migration 0005): files, calculation rows, movements and what the
modelling derives from them; a product (nomenclature) is one row per name chain-wide.

JSON columns become JSONB on PostgreSQL. Every table carries ``created_at`` / ``updated_at``
(docs/database-plan.md 4.3); ``updated_at`` is maintained by SQLAlchemy on every ORM or Core update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names: migrations and autogenerate comparisons depend on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDoc = JSON().with_variant(JSONB(), "postgresql")

SEVERITY_LEVELS = ("low", "medium", "high", "critical")
LINEAGE_STATUSES = ("success", "failed", "skipped", "running")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JsonDoc, list[Any]: JsonDoc}


class TimestampMixin:
    """created_at / updated_at on every table (docs/database-plan.md 4.3)."""

    # Fetch server-made values (timestamps) at flush, so objects stay usable after the session.
    __mapper_args__ = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=False), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=False), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def _non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_non_negative") for c in columns]


def _fraction(*columns: str) -> list[CheckConstraint]:
    return [
        CheckConstraint(f"{c} IS NULL OR ({c} >= 0 AND {c} <= 1)", name=f"{c}_fraction")
        for c in columns
    ]


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IS NULL OR {column} IN ({allowed})", name=f"{column}_allowed")


# --- association tables for the diagram's many-to-many edges --------------------------

analytics_priority_periods = Table(
    "analytics_priority_periods",
    Base.metadata,
    Column("analytics_id", ForeignKey("analytics.id", ondelete="CASCADE"), primary_key=True),
    Column("priority_period_id", ForeignKey("priority_periods.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)

analytics_ai_patterns = Table(
    "analytics_ai_patterns",
    Base.metadata,
    Column("analytics_id", ForeignKey("analytics.id", ondelete="CASCADE"), primary_key=True),
    Column("ai_pattern_id", ForeignKey("ai_patterns.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


# --- extra: the stores of a chain --------------------------------------------------------
class Warehouse(TimestampMixin, Base):
    """A store (1C's «Склад»): named in a statement's «Отбор» line and first data row.

    One row per name up to case, spaces and Ё (``normalized_name``, the rule of product
    names), so the same store exported with different spacing stays one store.
    """

    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    normalized_name: Mapped[str] = mapped_column(String(512), unique=True)


def _warehouse_key(ondelete: str = "RESTRICT", nullable: bool = True, index: bool = True):
    """The per-store key of a table (migration 0005)."""
    return mapped_column(ForeignKey("warehouses.id", ondelete=ondelete), nullable=nullable, index=index)


# --- 3.2.1 ------------------------------------------------------------------------------
class SourceData(TimestampMixin, Base):
    """One source file version (content-addressed by file_hash)."""

    __tablename__ = "source_data"
    __table_args__ = (*_fraction("quality_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(512))
    file_path: Mapped[str | None] = mapped_column(String(2048))
    upload_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    file_hash: Mapped[str] = mapped_column(String(128), unique=True)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    quality_score: Mapped[float | None] = mapped_column(Float)
    # Beyond the seed: what the file is and which period it covers (readers know both).
    report_kind: Mapped[str | None] = mapped_column(String(32))
    period_start: Mapped[datetime | None] = mapped_column(DateTime)
    period_end: Mapped[datetime | None] = mapped_column(DateTime)
    warehouse: Mapped[str | None] = mapped_column(String(512))
    # The store the file is of (None: a file that was never loaded, e.g. rejected).
    warehouse_id: Mapped[int | None] = _warehouse_key()

    calculation_data: Mapped[list[CalculationData]] = relationship(
        back_populates="source_data", cascade="all, delete-orphan", passive_deletes=True
    )
    # Read-only: movements are written and cascaded through their calculation row (see BatchMovement).
    batch_movements: Mapped[list[BatchMovement]] = relationship(
        back_populates="source_data", viewonly=True,
        primaryjoin="SourceData.id == foreign(BatchMovement.source_data_id)",
    )
    data_lineage: Mapped[list[DataLineage]] = relationship(back_populates="source_file")


# --- 3.2.2 ------------------------------------------------------------------------------
class Nomenclature(TimestampMixin, Base):
    __tablename__ = "nomenclature"
    __table_args__ = (
        Index("ix_nomenclature_lower_name", func.lower(text("name"))),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    # One nomenclature per normalised name (case-folded, whitespace collapsed).
    normalized_name: Mapped[str] = mapped_column(String(512), unique=True)
    product_type: Mapped[str | None] = mapped_column(String(64), index=True)
    product_type_code: Mapped[str | None] = mapped_column(String(16))
    # What decided product_type (shrinkage.products: name, group, name_weak, default, user);
    # "user" is a correction that no re-ingest or keyword import changes. None: typed before 0005.
    product_type_source: Mapped[str | None] = mapped_column(String(16))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    validation_flags: Mapped[str | None] = mapped_column(String(512))

    calculation_data: Mapped[list[CalculationData]] = relationship(
        back_populates="nomenclature", passive_deletes=True
    )
    surplus_specifications: Mapped[list[SurplusSpecification]] = relationship(
        back_populates="nomenclature", cascade="all, delete-orphan", passive_deletes=True
    )
    surplus_recommendations: Mapped[list[SurplusRecommendation]] = relationship(
        back_populates="nomenclature", cascade="all, delete-orphan", passive_deletes=True
    )
    surplus_patterns: Mapped[list[SurplusPattern]] = relationship(
        back_populates="nomenclature", passive_deletes=True
    )
    analytics: Mapped[list[Analytics]] = relationship(
        back_populates="nomenclature", cascade="all, delete-orphan", passive_deletes=True
    )
    # Read-only: movements are written and cascaded through their calculation row (see BatchMovement).
    batch_movements: Mapped[list[BatchMovement]] = relationship(
        back_populates="nomenclature", viewonly=True,
        primaryjoin="Nomenclature.id == foreign(BatchMovement.nomenclature_id)",
    )


# --- 3.2.3 ------------------------------------------------------------------------------
class CalculationData(TimestampMixin, Base):
    """One row per product and report period of one source file."""

    __tablename__ = "calculation_data"
    __table_args__ = (
        UniqueConstraint("source_data_id", "nomenclature_id", "calculation_date"),
        Index("ix_calculation_data_nomenclature_date", "nomenclature_id", "calculation_date"),
        Index("ix_calculation_data_store_product_date", "warehouse_id", "nomenclature_id", "calculation_date"),
        Index("ix_calculation_data_period", "inventory_period_start", "inventory_period_end"),
        # The target of batch_movements' composite foreign key (not on TimescaleDB: migrations 0003, 0005).
        Index("uq_calculation_data_row_identity", "id", "source_data_id", "nomenclature_id", "warehouse_id",
              unique=True),
        Index(
            "ix_calculation_data_needs_review", "nomenclature_id",
            postgresql_where=text("manual_review_required"),
            sqlite_where=text("manual_review_required"),
        ),
        # Balances may be negative (1C books a sale before its receipt); movements may not.
        *_non_negative("incoming", "outgoing", "storage_days", "pre_shrinkage_days", "pre_shrinkage_amount"),
        *_fraction("inventory_confidence", "human_error_probability"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_data_id: Mapped[int] = mapped_column(
        ForeignKey("source_data.id", ondelete="CASCADE"), index=True
    )
    nomenclature_id: Mapped[int] = mapped_column(
        ForeignKey("nomenclature.id", ondelete="RESTRICT"), index=True
    )
    # The file's store; indexed by ix_calculation_data_store_product_date.
    warehouse_id: Mapped[int] = _warehouse_key(nullable=False, index=False)
    initial_balance: Mapped[float | None] = mapped_column(Float)
    incoming: Mapped[float | None] = mapped_column(Float)
    outgoing: Mapped[float | None] = mapped_column(Float)
    final_balance: Mapped[float | None] = mapped_column(Float)
    storage_days: Mapped[int | None] = mapped_column(Integer)
    calculation_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    data_quality_flag: Mapped[str | None] = mapped_column(String(32), index=True)
    inventory_confidence: Mapped[float | None] = mapped_column(Float)
    inventory_period_start: Mapped[datetime | None] = mapped_column(DateTime)
    inventory_period_end: Mapped[datetime | None] = mapped_column(DateTime)
    is_valid_inventory_period: Mapped[bool | None] = mapped_column(Boolean)
    is_preliminary_forecast: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    preliminary_period_end: Mapped[datetime | None] = mapped_column(DateTime)
    human_error_probability: Mapped[float | None] = mapped_column(Float)
    validation_errors: Mapped[str | None] = mapped_column(Text)
    manual_review_required: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    pre_shrinkage_days: Mapped[int | None] = mapped_column(Integer)
    pre_shrinkage_amount: Mapped[float | None] = mapped_column(Float)
    adjusted_shrinkage_rate: Mapped[float | None] = mapped_column(Float)
    inventory_shrinkage_total: Mapped[float | None] = mapped_column(Float)
    actual_deduction_batch: Mapped[str | None] = mapped_column(String(64))
    fifo_principle_applied: Mapped[bool | None] = mapped_column(Boolean)
    fifo_batch_sequence: Mapped[list[Any] | None] = mapped_column(JsonDoc)
    # Beyond the seed: the books of this store and product do not continue from the file
    # before (a missing export: this opening is not the last closing stored), so the first
    # count in this row's period has no known start. A validation warning names the gap.
    start_unknown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    source_data: Mapped[SourceData] = relationship(back_populates="calculation_data")
    nomenclature: Mapped[Nomenclature] = relationship(back_populates="calculation_data")
    coefficients: Mapped[list[Coefficient]] = relationship(
        back_populates="calculation_data", cascade="all, delete-orphan", passive_deletes=True
    )
    validation_error_records: Mapped[list[ValidationError]] = relationship(
        back_populates="calculation_data", passive_deletes=True
    )
    preliminary_forecasts: Mapped[list[PreliminaryForecast]] = relationship(
        back_populates="calculation_data", cascade="all, delete-orphan", passive_deletes=True
    )
    data_lineage: Mapped[list[DataLineage]] = relationship(
        back_populates="calculation_data", passive_deletes=True
    )
    batch_movements: Mapped[list[BatchMovement]] = relationship(
        back_populates="calculation_data", cascade="all, delete-orphan", passive_deletes=True
    )


# --- extra: batch-level movements ------------------------------------------------------
class BatchMovement(TimestampMixin, Base):
    """A batch's book balance before/after one document: the exposure model's input.

    One composite foreign key ties a movement to its calculation row AND to that row's file
    and product: one check per row instead of three (bulk loads insert ~200k rows per file,
    and per-row key checks were the largest cost of loading), and a movement can never name
    another file or product than its calculation row. Deleting the file still removes its
    movements (source_data -> calculation_data -> batch_movements cascade); a product with
    movements still cannot be deleted (calculation_data -> nomenclature is RESTRICT).
    ``source_data_id`` and ``nomenclature_id`` need no index of their own: the unique key
    and the product-time index lead with them. Migration 0003 says more.
    """

    __tablename__ = "batch_movements"
    __table_args__ = (
        UniqueConstraint("source_data_id", "source_row"),
        Index("ix_batch_movements_store_product_time", "warehouse_id", "nomenclature_id", "document_datetime"),
        ForeignKeyConstraint(
            ["calculation_data_id", "source_data_id", "nomenclature_id", "warehouse_id"],
            ["calculation_data.id", "calculation_data.source_data_id", "calculation_data.nomenclature_id",
             "calculation_data.warehouse_id"],
            ondelete="CASCADE",
        ),
        # Balances may be negative (a no-batch line under a sale); movements may not.
        *_non_negative("incoming", "outgoing"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_data_id: Mapped[int] = mapped_column(Integer)
    nomenclature_id: Mapped[int] = mapped_column(Integer)
    # Checked with the calculation row (the composite key): a movement is of its file's store.
    warehouse_id: Mapped[int] = mapped_column(Integer)
    calculation_data_id: Mapped[int] = mapped_column(Integer, index=True)
    source_row: Mapped[int] = mapped_column(Integer)
    document_type: Mapped[str] = mapped_column(String(256))
    document_kind: Mapped[str] = mapped_column(String(32))
    document_number: Mapped[str | None] = mapped_column(String(64))
    document_datetime: Mapped[datetime] = mapped_column(DateTime)
    batch_arrival: Mapped[datetime | None] = mapped_column(DateTime)
    is_labelled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    opening: Mapped[float] = mapped_column(Float, default=0.0)
    incoming: Mapped[float] = mapped_column(Float, default=0.0)
    outgoing: Mapped[float] = mapped_column(Float, default=0.0)
    closing: Mapped[float] = mapped_column(Float, default=0.0)
    # A more recent export of the same store holds this document (type, number, time): its
    # version counts and this copy is kept only as history (shrinkage.db.documents).
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    source_data: Mapped[SourceData] = relationship(
        back_populates="batch_movements", viewonly=True,
        primaryjoin="SourceData.id == foreign(BatchMovement.source_data_id)",
    )
    nomenclature: Mapped[Nomenclature] = relationship(
        back_populates="batch_movements", viewonly=True,
        primaryjoin="Nomenclature.id == foreign(BatchMovement.nomenclature_id)",
    )
    calculation_data: Mapped[CalculationData] = relationship(back_populates="batch_movements")


# --- 3.2.4 ------------------------------------------------------------------------------
class Model(TimestampMixin, Base):
    """A curve family at a version."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    model_type: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(32), default="1.0")
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    coefficients: Mapped[list[Coefficient]] = relationship(back_populates="model", passive_deletes=True)
    forecasts: Mapped[list[Forecast]] = relationship(back_populates="model", passive_deletes=True)
    preliminary_forecasts: Mapped[list[PreliminaryForecast]] = relationship(
        back_populates="forecast_model", passive_deletes=True
    )
    registry_entries: Mapped[list[MLModelRegistry]] = relationship(
        back_populates="model", passive_deletes=True
    )
    analytics: Mapped[list[Analytics]] = relationship(back_populates="model", passive_deletes=True)


# --- 3.2.5 ------------------------------------------------------------------------------
class Coefficient(TimestampMixin, Base):
    __tablename__ = "coefficients"
    __table_args__ = (
        *_non_negative("coefficient_a", "coefficient_b", "coefficient_c", "pre_shrinkage_factor"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calculation_data_id: Mapped[int] = mapped_column(
        ForeignKey("calculation_data.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"), index=True)
    coefficient_a: Mapped[float | None] = mapped_column(Float)
    coefficient_b: Mapped[float | None] = mapped_column(Float)
    coefficient_c: Mapped[float | None] = mapped_column(Float)
    accuracy_r2: Mapped[float | None] = mapped_column(Float)
    calculation_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    adjusted_for_pre_shrinkage: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    pre_shrinkage_factor: Mapped[float | None] = mapped_column(Float)
    effective_shrinkage_rate: Mapped[float | None] = mapped_column(Float)
    # Beyond the seed: which registry version produced it and the fit's particulars.
    ml_model_registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ml_model_registry.id", ondelete="SET NULL"), index=True
    )
    fit_details: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)

    calculation_data: Mapped[CalculationData] = relationship(back_populates="coefficients")
    model: Mapped[Model] = relationship(back_populates="coefficients")
    forecasts: Mapped[list[Forecast]] = relationship(
        back_populates="coefficient", cascade="all, delete-orphan", passive_deletes=True
    )
    registry_entry: Mapped[MLModelRegistry | None] = relationship(back_populates="coefficients")


# --- 3.2.6 ------------------------------------------------------------------------------
class Forecast(TimestampMixin, Base):
    __tablename__ = "forecasts"
    __table_args__ = (*_non_negative("forecast_value", "horizon_days"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coefficient_id: Mapped[int] = mapped_column(
        ForeignKey("coefficients.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    # The diagram's MODELS ||--o{ FORECASTS edge.
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"), index=True)
    forecast_value: Mapped[float | None] = mapped_column(Float)
    actual_value: Mapped[float | None] = mapped_column(Float)
    deviation: Mapped[float | None] = mapped_column(Float)
    forecast_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    accuracy: Mapped[float | None] = mapped_column(Float)

    coefficient: Mapped[Coefficient] = relationship(back_populates="forecasts")
    model: Mapped[Model | None] = relationship(back_populates="forecasts")


# --- 3.2.7 ------------------------------------------------------------------------------
class Analytics(TimestampMixin, Base):
    __tablename__ = "analytics"
    __table_args__ = (*_non_negative("total_calculations"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomenclature_id: Mapped[int | None] = mapped_column(
        ForeignKey("nomenclature.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"), index=True)
    # The diagram's ML_MODEL_REGISTRY ||--o{ ANALYTICS edge.
    ml_model_registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ml_model_registry.id", ondelete="SET NULL"), index=True
    )
    avg_accuracy: Mapped[float | None] = mapped_column(Float)
    total_calculations: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[datetime | None] = mapped_column(DateTime)
    period_end: Mapped[datetime | None] = mapped_column(DateTime)
    last_updated: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    nomenclature: Mapped[Nomenclature | None] = relationship(back_populates="analytics")
    model: Mapped[Model | None] = relationship(back_populates="analytics")
    registry_entry: Mapped[MLModelRegistry | None] = relationship(back_populates="analytics")
    priority_periods: Mapped[list[PriorityPeriod]] = relationship(
        secondary=analytics_priority_periods, back_populates="analytics"
    )
    ai_patterns: Mapped[list[AIPattern]] = relationship(
        secondary=analytics_ai_patterns, back_populates="analytics"
    )


# --- 3.2.8 ------------------------------------------------------------------------------
class AIPattern(TimestampMixin, Base):
    __tablename__ = "ai_patterns"
    __table_args__ = (*_fraction("confidence_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pattern_type: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    confidence_level: Mapped[float | None] = mapped_column(Float)
    affected_nomenclature: Mapped[str | None] = mapped_column(String(1024))
    discovery_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    pattern_data: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)

    analytics: Mapped[list[Analytics]] = relationship(
        secondary=analytics_ai_patterns, back_populates="ai_patterns"
    )


# --- 3.2.9 ------------------------------------------------------------------------------
class ValidationError(TimestampMixin, Base):
    __tablename__ = "validation_errors"
    __table_args__ = (_one_of("severity_level", SEVERITY_LEVELS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calculation_data_id: Mapped[int | None] = mapped_column(
        ForeignKey("calculation_data.id", ondelete="CASCADE"), index=True
    )
    # Beyond the seed: errors of a file that has no calculation row (e.g. a blocked file).
    source_data_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_data.id", ondelete="CASCADE"), index=True
    )
    error_type: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    severity_level: Mapped[str] = mapped_column(String(16))
    detected_by: Mapped[str | None] = mapped_column(String(128))
    detection_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    resolution_date: Mapped[datetime | None] = mapped_column(DateTime)
    notes: Mapped[str | None] = mapped_column(Text)

    calculation_data: Mapped[CalculationData | None] = relationship(
        back_populates="validation_error_records"
    )


# --- 3.2.10 -----------------------------------------------------------------------------
class PriorityPeriod(TimestampMixin, Base):
    __tablename__ = "priority_periods"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        *_non_negative("priority_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    priority_level: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    analytics: Mapped[list[Analytics]] = relationship(
        secondary=analytics_priority_periods, back_populates="priority_periods"
    )


# --- 3.2.11 -----------------------------------------------------------------------------
class PreliminaryForecast(TimestampMixin, Base):
    __tablename__ = "preliminary_forecasts"
    __table_args__ = (
        *_non_negative("forecast_period_days", "expected_shrinkage", "adjusted_expected_shrinkage"),
        *_fraction("confidence_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calculation_data_id: Mapped[int] = mapped_column(
        ForeignKey("calculation_data.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    forecast_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("models.id", ondelete="SET NULL"), index=True
    )
    forecast_period_days: Mapped[int | None] = mapped_column(Integer)
    expected_shrinkage: Mapped[float | None] = mapped_column(Float)
    confidence_level: Mapped[float | None] = mapped_column(Float)
    forecast_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    actual_shrinkage: Mapped[float | None] = mapped_column(Float)
    forecast_accuracy: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    pre_shrinkage_adjusted: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    adjusted_expected_shrinkage: Mapped[float | None] = mapped_column(Float)
    batch_storage_history: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)

    calculation_data: Mapped[CalculationData] = relationship(back_populates="preliminary_forecasts")
    forecast_model: Mapped[Model | None] = relationship(back_populates="preliminary_forecasts")


# --- 3.2.12 -----------------------------------------------------------------------------
class SurplusSpecification(TimestampMixin, Base):
    __tablename__ = "surplus_specifications"
    __table_args__ = (
        CheckConstraint(
            "specification_end_date IS NULL OR specification_end_date >= specification_start_date",
            name="period_order",
        ),
        *_non_negative("surplus_percentage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomenclature_id: Mapped[int] = mapped_column(
        ForeignKey("nomenclature.id", ondelete="CASCADE"), index=True
    )
    surplus_percentage: Mapped[float] = mapped_column(Float)
    specification_start_date: Mapped[datetime] = mapped_column(DateTime)
    specification_end_date: Mapped[datetime | None] = mapped_column(DateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)

    nomenclature: Mapped[Nomenclature] = relationship(back_populates="surplus_specifications")


# --- 3.2.13 -----------------------------------------------------------------------------
class SurplusRecommendation(TimestampMixin, Base):
    __tablename__ = "surplus_recommendations"
    __table_args__ = (
        *_non_negative("recommended_surplus_percentage"),
        *_fraction("confidence_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomenclature_id: Mapped[int] = mapped_column(
        ForeignKey("nomenclature.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    recommended_surplus_percentage: Mapped[float] = mapped_column(Float)
    confidence_level: Mapped[float | None] = mapped_column(Float)
    analysis_period_start: Mapped[datetime | None] = mapped_column(DateTime)
    analysis_period_end: Mapped[datetime | None] = mapped_column(DateTime)
    calculation_method: Mapped[str | None] = mapped_column(String(128))
    supporting_data: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    # NULL: awaiting a decision; True: accepted; False: rejected.
    is_accepted: Mapped[bool | None] = mapped_column(Boolean)
    acceptance_date: Mapped[datetime | None] = mapped_column(DateTime)

    nomenclature: Mapped[Nomenclature] = relationship(back_populates="surplus_recommendations")
    surplus_patterns: Mapped[list[SurplusPattern]] = relationship(
        back_populates="created_from_recommendation", passive_deletes=True
    )


# --- 3.2.14 -----------------------------------------------------------------------------
class SurplusPattern(TimestampMixin, Base):
    __tablename__ = "surplus_patterns"
    __table_args__ = (
        *_non_negative("surplus_percentage", "validation_count", "feedback_count"),
        *_fraction("confidence_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomenclature_id: Mapped[int | None] = mapped_column(
        ForeignKey("nomenclature.id", ondelete="CASCADE"), index=True
    )
    # The store these results are of (None: chain-wide, or made before stores were told apart).
    warehouse_id: Mapped[int | None] = _warehouse_key(ondelete="CASCADE")
    product_type: Mapped[str | None] = mapped_column(String(64))
    surplus_percentage: Mapped[float] = mapped_column(Float)
    pattern_condition: Mapped[str | None] = mapped_column(String(512))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    created_from_recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("surplus_recommendations.id", ondelete="SET NULL"), index=True
    )
    validation_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_validated_date: Mapped[datetime | None] = mapped_column(DateTime)
    confidence_level: Mapped[float | None] = mapped_column(Float)
    feedback_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_feedback_date: Mapped[datetime | None] = mapped_column(DateTime)
    # The diagram's FEEDBACK_PREFERENCES ||--o{ SURPLUS_PATTERNS edge.
    feedback_preference_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_preferences.id", ondelete="SET NULL"), index=True
    )

    nomenclature: Mapped[Nomenclature | None] = relationship(back_populates="surplus_patterns")
    created_from_recommendation: Mapped[SurplusRecommendation | None] = relationship(
        back_populates="surplus_patterns"
    )
    validations: Mapped[list[PatternValidation]] = relationship(
        back_populates="surplus_pattern", cascade="all, delete-orphan", passive_deletes=True
    )
    feedback_preference: Mapped[FeedbackPreference | None] = relationship(
        back_populates="surplus_patterns"
    )


# --- 3.2.15 -----------------------------------------------------------------------------
class PatternValidation(TimestampMixin, Base):
    __tablename__ = "pattern_validations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    surplus_pattern_id: Mapped[int] = mapped_column(
        ForeignKey("surplus_patterns.id", ondelete="CASCADE"), index=True
    )
    validation_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    actual_surplus_percentage: Mapped[float | None] = mapped_column(Float)
    predicted_surplus_percentage: Mapped[float | None] = mapped_column(Float)
    deviation: Mapped[float | None] = mapped_column(Float)
    validation_result: Mapped[str | None] = mapped_column(String(32))
    user_feedback: Mapped[str | None] = mapped_column(Text)
    is_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    confirmation_date: Mapped[datetime | None] = mapped_column(DateTime)

    surplus_pattern: Mapped[SurplusPattern] = relationship(back_populates="validations")


# --- 3.2.16 -----------------------------------------------------------------------------
class FeedbackPreference(TimestampMixin, Base):
    __tablename__ = "feedback_preferences"
    __table_args__ = (*_fraction("auto_confirm_threshold"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_frequency: Mapped[str] = mapped_column(String(32), default="weekly")
    auto_confirm_threshold: Mapped[float | None] = mapped_column(Float)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_date: Mapped[datetime | None] = mapped_column(DateTime, onupdate=func.now())

    surplus_patterns: Mapped[list[SurplusPattern]] = relationship(
        back_populates="feedback_preference", passive_deletes=True
    )


# --- 3.2.17 -----------------------------------------------------------------------------
class DataLineage(TimestampMixin, Base):
    """One row per asset step (and partition) of a pipeline run, or per run that failed early."""

    __tablename__ = "data_lineage"
    __table_args__ = (
        _one_of("status", LINEAGE_STATUSES),
        *_non_negative("input_records", "output_records", "execution_time_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_data.id", ondelete="SET NULL"), index=True
    )
    calculation_data_id: Mapped[int | None] = mapped_column(
        ForeignKey("calculation_data.id", ondelete="SET NULL"), index=True
    )
    process_name: Mapped[str] = mapped_column(String(256))
    process_timestamp: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    user_id: Mapped[str | None] = mapped_column(String(128))
    input_records: Mapped[int | None] = mapped_column(Integer)
    output_records: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    execution_time_ms: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[str | None] = mapped_column(String(64))
    # Beyond the seed: the orchestrator's identifiers, so a row leads back to its run.
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    step_key: Mapped[str | None] = mapped_column(String(256))
    partition_key: Mapped[str | None] = mapped_column(String(256))
    source_file_name: Mapped[str | None] = mapped_column(String(512))
    # Idempotency: one row per (run, step, partition) — or per file for the CLI path.
    lineage_key: Mapped[str] = mapped_column(String(700), unique=True)

    source_file: Mapped[SourceData | None] = relationship(back_populates="data_lineage")
    calculation_data: Mapped[CalculationData | None] = relationship(back_populates="data_lineage")


# --- 3.2.18 -----------------------------------------------------------------------------
class MLModelRegistry(TimestampMixin, Base):
    __tablename__ = "ml_model_registry"
    __table_args__ = (
        UniqueConstraint("model_name", "version"),
        Index(
            "uq_ml_model_registry_one_active", "model_name", unique=True,
            postgresql_where=text("is_active"), sqlite_where=text("is_active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The diagram's MODELS ||--o{ ML_MODEL_REGISTRY edge.
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(32))
    algorithm_type: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    training_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    accuracy_metrics: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_date: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    notes: Mapped[str | None] = mapped_column(Text)

    model: Mapped[Model | None] = relationship(back_populates="registry_entries")
    coefficients: Mapped[list[Coefficient]] = relationship(back_populates="registry_entry")
    analytics: Mapped[list[Analytics]] = relationship(back_populates="registry_entry")


# The customer's contract: docs/database-plan.md 3.2 table name -> ORM class.
CONTRACT_TABLES: dict[str, type[Base]] = {
    "source_data": SourceData,
    "nomenclature": Nomenclature,
    "calculation_data": CalculationData,
    "models": Model,
    "coefficients": Coefficient,
    "forecasts": Forecast,
    "analytics": Analytics,
    "ai_patterns": AIPattern,
    "validation_errors": ValidationError,
    "priority_periods": PriorityPeriod,
    "preliminary_forecasts": PreliminaryForecast,
    "surplus_specifications": SurplusSpecification,
    "surplus_recommendations": SurplusRecommendation,
    "surplus_patterns": SurplusPattern,
    "pattern_validations": PatternValidation,
    "feedback_preferences": FeedbackPreference,
    "data_lineage": DataLineage,
    "ml_model_registry": MLModelRegistry,
}
