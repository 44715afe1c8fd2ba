"""The model registry: curve-family rows (``models``), registry versions, the active version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shrinkage.db.models import MLModelRegistry, Model
from shrinkage.db.services import Crud, NotFound

MODEL_TYPE = "shrinkage_curve"


def ensure_models(crud: Crud, families: Iterable[str], version: str,
                  descriptions: dict[str, str]) -> dict[str, int]:
    """One ``models`` row per curve family at ``version`` (created when missing): family -> id."""
    families = tuple(families)
    existing = dict(crud.session.execute(
        select(Model.name, Model.id).where(Model.version == version, Model.name.in_(families))
    ).tuples().all())
    for family in families:
        if family not in existing:
            existing[family] = crud.create(
                Model, name=family, model_type=MODEL_TYPE, version=version,
                description=descriptions.get(family, family)).id
    return existing


def next_registry_version(session: Session) -> str:
    """The next fit run number: one more than any numeric registry version so far."""
    versions = session.scalars(select(MLModelRegistry.version)).all()
    numbers = [int(v) for v in versions if str(v).isdigit()]
    return str(max(numbers, default=0) + 1)


def add_version(crud: Crud, *, model_id: int, family: str, version: str, algorithm: str,
                trained: datetime, created_by: str | None, parameters: dict, metrics: dict) -> int:
    """A new (inactive) registry version of one family; its id."""
    return crud.create(
        MLModelRegistry, model_id=model_id, model_name=family, version=version, algorithm_type=algorithm,
        training_date=trained, created_by=created_by, is_active=False, parameters=parameters,
        accuracy_metrics=metrics, notes=f"fit run {version}").id


def activate_registry_version(crud: Crud, model_name: str, version: str) -> MLModelRegistry:
    """Make one version the active one (at most one active per model, enforced by an index too)."""
    target = crud.session.scalars(
        select(MLModelRegistry).where(MLModelRegistry.model_name == model_name,
                                      MLModelRegistry.version == version)
    ).first()
    if target is None:
        raise NotFound(f"model '{model_name}' has no version '{version}' in the registry")
    crud.session.execute(
        update(MLModelRegistry).where(MLModelRegistry.model_name == model_name,
                                      MLModelRegistry.is_active.is_(True))
        .values(is_active=False).execution_options(synchronize_session=False)
    )
    crud.session.flush()
    target.is_active = True
    crud.session.flush()
    return target


def model_versions(session: Session, model_name: str) -> list[tuple[str, bool]]:
    """(version, is_active) of one model, oldest first."""
    r = MLModelRegistry
    return [tuple(row) for row in session.execute(
        select(r.version, r.is_active).where(r.model_name == model_name).order_by(r.training_date, r.id)).all()]


def merge_metrics(session: Session, metrics_of: dict[int, dict]) -> None:
    """Add figures to registry versions' accuracy_metrics (registry id -> new entries)."""
    for registry_id, new_metrics in metrics_of.items():
        entry = session.get(MLModelRegistry, registry_id)
        if entry is not None:
            entry.accuracy_metrics = {**(entry.accuracy_metrics or {}), **new_metrics}
    session.flush()


def registry_frame(conn: Connection) -> pd.DataFrame:
    r = MLModelRegistry
    return pd.read_sql(select(r.id, r.model_name, r.version, r.is_active, r.training_date,
                              r.created_by, r.accuracy_metrics)
                       .order_by(r.model_name, r.training_date, r.id), conn)


def version_metrics(conn: Connection, versions: Iterable[str], model_name: str | None = None) -> list[tuple]:
    """(model, version, accuracy_metrics) of the given versions."""
    r = MLModelRegistry
    query = select(r.model_name, r.version, r.accuracy_metrics).where(r.version.in_(list(versions)))
    if model_name:
        query = query.where(r.model_name == model_name)
    return [tuple(row) for row in conn.execute(query).all()]
