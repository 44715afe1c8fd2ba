"""The model registry as users see it: versions, comparison, rollback, the coefficients in force."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.db import registry as store
from shrinkage.db.coefficients import active_coefficients
from shrinkage.db.engine import session_scope
from shrinkage.db.report_queries import nomenclature
from shrinkage.db.services import Crud, NotFound
from shrinkage.modeling.fitting import INDIVIDUAL
from shrinkage.modeling.results import fit_from_details

log = logging.getLogger(__name__)

EXPORT_COLUMNS = ("nomenclature", "product_type", "model", "a", "b", "c", "r2",
                  "n_observations", "pooled", "surplus_rate", "S7", "S14", "S30")


def list_registry(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return store.registry_frame(conn)


def coefficients_in_force(engine: Engine) -> pd.DataFrame:
    """One row per product: the coefficient in force (see ``shrinkage.db.coefficients``)."""
    with engine.connect() as conn:
        return active_coefficients(conn)


def compare_versions(engine: Engine, version_a: str, version_b: str,
                     model_name: str | None = None) -> pd.DataFrame:
    """Metrics of two registry versions side by side, one row per (model, metric)."""
    with engine.connect() as conn:
        found = store.version_metrics(conn, [version_a, version_b], model_name)
    if not {v for _, v, _ in found} >= {version_a, version_b}:
        missing = {version_a, version_b} - {v for _, v, _ in found}
        raise NotFound(f"registry has no version {', '.join(sorted(missing))}"
                       + (f" of model {model_name!r}" if model_name else "")
                       + ": see `shrinkage model list`")
    rows = {}
    for model, version, metrics in found:
        for key, value in (metrics or {}).items():
            if isinstance(value, (dict, list)):
                continue
            rows.setdefault((model, key), {})[version] = value
    return pd.DataFrame([{"model": m, "metric": k, version_a: v.get(version_a), version_b: v.get(version_b)}
                         for (m, k), v in sorted(rows.items())])


def rollback_model(engine: Engine, model_name: str, to_version: str | None = None) -> tuple[str | None, str]:
    """Activate ``to_version`` of a model, or the version trained before the active one.
    Returns (previously active version, now active version)."""
    with session_scope(engine) as session:
        versions = store.model_versions(session, model_name)
        if not versions:
            raise NotFound(f"model {model_name!r} has no registry versions: see `shrinkage model list`")
        active = next((v for v, is_active in versions if is_active), None)
        if to_version is None:
            order = [v for v, _ in versions]
            index = order.index(active) if active in order else len(order)
            if index == 0:
                raise ValueError(f"model {model_name!r} version {active} is the oldest: nothing to roll back to")
            to_version = order[index - 1]
        store.activate_registry_version(Crud(session), model_name, to_version)
    log.info("model %s: active version %s -> %s", model_name, active, to_version)
    return active, to_version


def export_coefficients(engine: Engine) -> pd.DataFrame:
    """One row per product from the coefficients in force (S at 7/14/30 days as fractions)."""
    active = coefficients_in_force(engine)
    if active.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    products = nomenclature(engine, active["product"].astype(int).unique())
    rows = []
    for row in active.itertuples(index=False):
        fit = fit_from_details(row.product, row.fit_details)
        s7, s14, s30 = fit.predict(np.array([7.0, 14.0, 30.0]))
        known = row.product in products.index
        rows.append({
            "nomenclature": products.at[row.product, "product"] if known else str(row.product),
            "product_type": products.at[row.product, "product_type"] if known else None,
            "model": row.family, "a": row.coefficient_a, "b": row.coefficient_b, "c": row.coefficient_c,
            "r2": row.accuracy_r2, "n_observations": fit.n_observations,
            "pooled": fit.method != INDIVIDUAL, "surplus_rate": fit.surplus_rate,
            "S7": float(s7), "S14": float(s14), "S30": float(s30),
        })
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS)).sort_values("nomenclature", ignore_index=True)
