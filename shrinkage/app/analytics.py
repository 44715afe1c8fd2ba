"""Analytics per product and model for a fit run, its AI patterns, and the analytical views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from shrinkage.app.common import now, timestamp
from shrinkage.app.forecasts import compared_preliminary
from shrinkage.db import analytics as store
from shrinkage.db.analytics_views import refresh_analytics
from shrinkage.db.engine import session_scope
from shrinkage.db.forecasts import forecast_accuracy
from shrinkage.modeling.anomalies import anomaly_patterns, cluster_products, seasonal_effects
from shrinkage.modeling.fitting import INDIVIDUAL
from shrinkage.modeling.results import fit_accuracy

if TYPE_CHECKING:
    from shrinkage.app.fit import FitRun

PATTERN_TYPES = ("anomaly", "cluster", "seasonal_effect")
# ai_patterns.affected_nomenclature is text: a long list of names is cut here.
MAX_AFFECTED_CHARS = 1000


@dataclass(frozen=True)
class AnalyticsSummary:
    analytics_rows: int
    patterns: dict = field(default_factory=dict)
    refreshed: str | None = None  # which analytical relations were refreshed (None: plain views)


def write_analytics(engine: Engine, run: FitRun, *, refresh: bool = False) -> AnalyticsSummary:
    """Per product (and per model) analytics for this run's registry versions, and the
    ai_patterns of this run (replacing the previous run's); with ``refresh``, the
    analytical views / continuous aggregates are brought up to date afterwards."""
    if not run.fits:
        return AnalyticsSummary(0, {}, refresh_analytics(engine) if refresh else None)
    counts = run.observations.exposure.counts
    calc_counts = run.observations.calculations.groupby("product").size()
    with session_scope(engine) as session:
        # forecasts of the stock on hand and preliminary forecasts alike, each compared
        # with the counts that came after it
        parts = [part.dropna() for part in (forecast_accuracy(session)[["product", "accuracy"]],
                                            compared_preliminary(session)[["product", "accuracy"]])]
        compared = pd.concat([part for part in parts if len(part)] or parts[:1])
        acc_by_product = compared.groupby("product")["accuracy"].mean().to_dict()
        rows = _analytics_rows(run, counts, calc_counts, acc_by_product, now())
        analytics_ids = store.replace_analytics(session, run.registry_ids.values(), rows)
        analytics_of = {r["nomenclature_id"]: i for r, i in zip(rows, analytics_ids)
                        if r["nomenclature_id"] is not None}
        patterns = _write_patterns(session, run, analytics_of)
    return AnalyticsSummary(len(rows), patterns, refresh_analytics(engine) if refresh else None)


def _analytics_rows(run: FitRun, counts: pd.DataFrame, calc_counts: pd.Series, acc_by_product: dict,
                    stamp) -> list[dict]:
    rows = []
    for product, fit in run.fits.items():
        mine = counts[counts["product"] == product]
        accuracy = acc_by_product.get(product)
        if accuracy is None or pd.isna(accuracy):
            accuracy = fit_accuracy(fit)
        rows.append({
            "nomenclature_id": int(product), "model_id": run.model_ids[fit.family],
            "ml_model_registry_id": run.registry_ids[fit.family],
            "avg_accuracy": None if accuracy is None else float(accuracy),
            "total_calculations": int(calc_counts.get(product, 0)),
            "period_start": timestamp(pd.to_datetime(mine["interval_start"]).min()) if len(mine) else None,
            "period_end": timestamp(pd.to_datetime(mine["count_datetime"]).max()) if len(mine) else None,
            "last_updated": stamp,
        })
    for family, registry_id in run.registry_ids.items():
        chosen = [r for r in rows if r["model_id"] == run.model_ids[family]]
        if not chosen:
            continue
        accs = [r["avg_accuracy"] for r in chosen if r["avg_accuracy"] is not None]
        starts = [r["period_start"] for r in chosen if r["period_start"] is not None]
        ends = [r["period_end"] for r in chosen if r["period_end"] is not None]
        rows.append({
            "nomenclature_id": None, "model_id": run.model_ids[family], "ml_model_registry_id": registry_id,
            "avg_accuracy": float(np.median(accs)) if accs else None,
            "total_calculations": int(sum(r["total_calculations"] for r in chosen)),
            "period_start": min(starts) if starts else None,
            "period_end": max(ends) if ends else None, "last_updated": stamp,
        })
    return rows


def _write_patterns(session, run: FitRun, analytics_of: dict) -> dict:
    names = run.observations.names
    found = [*anomaly_patterns(run.scores),
             *cluster_products([f for f in run.fits.values() if f.method == INDIVIDUAL]),
             *(seasonal_effects(run.scores) if len(run.scores) else [])]
    stamp = now()
    rows = []
    for pattern in found:
        text = ", ".join(names.get(p, str(p)) for p in pattern.affected)
        if len(text) > MAX_AFFECTED_CHARS:
            text = text[:MAX_AFFECTED_CHARS] + " …"
        rows.append({
            "pattern_type": pattern.pattern_type, "description": _named(pattern.description, run),
            "confidence_level": float(np.clip(pattern.confidence, 0.0, 1.0)),
            "affected_nomenclature": text, "discovery_date": stamp,
            "pattern_data": {**_jsonable(pattern.evidence), "fit_run": run.version,
                             "nomenclature_ids": [int(p) for p in pattern.affected]},
        })
    ids = store.replace_patterns(session, PATTERN_TYPES, rows)
    store.link_patterns(session, [
        {"analytics_id": analytics_of[p], "ai_pattern_id": pid}
        for pattern, pid in zip(found, ids) if pattern.pattern_type == "anomaly"
        for p in pattern.affected if p in analytics_of])
    return pd.Series([p.pattern_type for p in found]).value_counts().to_dict() if found else {}


def _named(description: str, run: FitRun) -> str:
    """Pattern descriptions name products by id in the core; show their names instead."""
    for product in sorted(run.fits, key=lambda p: -len(str(p))):
        token = f"of {product}:"
        if token in description:
            description = description.replace(token, f"of {run.observations.names.get(product, product)}:")
    return description


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
