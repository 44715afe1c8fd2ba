"""Patterns in the fitted results: anomalous counts, products with alike curves, seasonal effects.

Each finding is a :class:`Pattern` (type, description, confidence 0..1, affected products,
JSON-able evidence), the shape of the ``ai_patterns`` table.

Anomalous counts: a count's residual in units of the product's robust noise scale, z, is
turned into the probability that the count carries a human error by a two-component
mixture: clean counts have z ~ N(0, 1), mis-keyed ones a broad N(0, error_scale^2), with a
small prior share of errors. That probability stays near 0 for ordinary scatter and reaches 1
only for what no plausible shrinkage explains. A keying error at a count also sets the books
wrong, so the next count reverses it; such a reversing count is marked ``compensating`` (it
points at the earlier error) instead of being reported as a second anomaly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import silhouette_samples
from sklearn.preprocessing import StandardScaler

from shrinkage.config import CONFIG, ModelingSettings
from shrinkage.modeling.exposure import Exposure
from shrinkage.modeling.fitting import CurveFit

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


@dataclass(frozen=True)
class Pattern:
    pattern_type: str  # "anomaly", "cluster", "seasonal_effect"
    description: str
    confidence: float
    affected: tuple = ()
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"pattern_type": self.pattern_type, "description": self.description,
                "confidence": float(self.confidence),
                "affected": [_plain(p) for p in self.affected], "evidence": self.evidence}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def human_error_probability(z, prior: float, error_scale: float) -> np.ndarray:
    """P(keying error | z) under the clean N(0,1) / error N(0, error_scale^2) mixture."""
    z = np.abs(np.asarray(z, dtype=float))
    # in log space: the clean density underflows for large z
    log_err = np.log(prior) + stats.norm.logpdf(z, scale=error_scale)
    log_clean = np.log1p(-prior) + stats.norm.logpdf(z)
    return 1.0 / (1.0 + np.exp(log_clean - log_err))


def score_counts(exposure: Exposure, fits: Mapping | Iterable[CurveFit],
                 settings: ModelingSettings | None = None) -> pd.DataFrame:
    """One row per fitted count: observed, expected, residual, z, human_error_probability,
    anomalous, compensating (and which count it reverses), plus product and product type."""
    s = settings or CONFIG.modeling
    fits = list(fits.values()) if isinstance(fits, Mapping) else list(fits)
    counts = exposure.counts
    frames = []
    for fit in fits:
        if not fit.count_rows:
            continue
        rows = np.asarray(fit.count_rows)
        residual = np.asarray(fit.residuals)
        frames.append(pd.DataFrame({
            "product": counts["product"].to_numpy()[rows],
            "product_type": fit.product_type,
            "method": fit.method,
            "count_row": rows,
            "doc_number": counts["doc_number"].to_numpy()[rows],
            "count_datetime": counts["count_datetime"].to_numpy()[rows],
            "observed": counts["observed"].to_numpy()[rows],
            "expected": np.asarray(fit.expected),
            "residual": residual,
            "z": residual / fit.noise_scale,
        }))
    if not frames:
        return pd.DataFrame(columns=[
            "product", "product_type", "method", "count_row", "doc_number", "count_datetime",
            "observed", "expected", "residual", "z", "human_error_probability", "anomalous",
            "compensating", "reverses_doc_number"])
    scores = pd.concat(frames, ignore_index=True).sort_values(
        ["count_row"], kind="stable").reset_index(drop=True)
    scores["human_error_probability"] = human_error_probability(
        scores["z"], s.error_prior, s.error_scale_sigmas)
    flagged = scores["human_error_probability"].to_numpy() >= s.anomaly_probability
    compensating = np.zeros(len(scores), dtype=bool)
    reverses = np.full(len(scores), None, dtype=object)
    product = scores["product"].to_numpy()
    residual = scores["residual"].to_numpy()
    for i in range(1, len(scores)):
        if not (flagged[i] and flagged[i - 1] and not compensating[i - 1]):
            continue
        if product[i] != product[i - 1] or np.sign(residual[i]) == np.sign(residual[i - 1]):
            continue
        bigger = max(abs(residual[i]), abs(residual[i - 1]))
        if abs(residual[i] + residual[i - 1]) < s.reversal_tolerance * bigger:
            compensating[i] = True
            reverses[i] = scores["doc_number"].iat[i - 1]
    scores["anomalous"] = flagged & ~compensating
    scores["compensating"] = compensating
    scores["reverses_doc_number"] = reverses
    return scores


def anomaly_patterns(scores: pd.DataFrame) -> list[Pattern]:
    """One pattern per anomalous count, with the numbers that make it one."""
    out = []
    for row in scores[scores["anomalous"]].itertuples(index=False):
        reversed_by = scores[(scores["reverses_doc_number"] == row.doc_number)
                             & (scores["product"] == row.product)]
        out.append(Pattern(
            pattern_type="anomaly",
            description=(f"count {row.doc_number} of {row.product}: shortage {row.observed:.3f} kg "
                         f"where the model expects {row.expected:.3f} kg ({row.z:+.1f} sigma)"),
            confidence=float(row.human_error_probability),
            affected=(_plain(row.product),),
            evidence={
                "doc_number": row.doc_number,
                "count_datetime": pd.Timestamp(row.count_datetime).isoformat(),
                "observed_kg": float(row.observed), "expected_kg": float(row.expected),
                "residual_kg": float(row.residual), "z": float(row.z),
                "reversed_by": (reversed_by["doc_number"].iat[0] if len(reversed_by) else None),
            },
        ))
    return out


def cluster_products(fits: Mapping | Iterable[CurveFit], ages=None, max_clusters: int = 8,
                     settings: ModelingSettings | None = None) -> list[Pattern]:
    """Groups of products whose fitted curves look alike (S at the reference ages).

    Agglomerative (Ward) clustering on standardised S values, the number of groups chosen by
    silhouette; a group's confidence is its members' mean silhouette. No pattern when the
    best clustering has no structure (mean silhouette below ``min_silhouette``).
    """
    s = settings or CONFIG.modeling
    ages = np.asarray(ages if ages is not None else s.reference_ages_days, dtype=float)
    fits = list(fits.values()) if isinstance(fits, Mapping) else list(fits)
    if len(fits) < 3:
        return []
    curves = np.array([fit.predict(ages) for fit in fits]) * 100.0
    features = StandardScaler().fit_transform(curves)
    if np.allclose(features, 0.0):
        return []
    best = None
    for k in range(2, min(max_clusters, len(fits) - 1) + 1):
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(features)
        sil = silhouette_samples(features, labels)
        if best is None or sil.mean() > best[2].mean():
            best = (k, labels, sil)
    if best is None or best[2].mean() < s.min_silhouette:
        return []
    k, labels, sil = best
    out = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        centre = curves[members].mean(axis=0)
        shape = ", ".join(f"S({a:g}d)={v:.2f}%" for a, v in zip(ages, centre))
        out.append(Pattern(
            pattern_type="cluster",
            description=f"{len(members)} products with alike shrinkage curves: {shape}",
            confidence=float(np.clip(sil[members].mean(), 0.0, 1.0)),
            affected=tuple(_plain(fits[i].product) for i in members),
            evidence={
                "cluster": int(cluster), "n_clusters": int(k),
                "ages_days": ages.tolist(), "centre_percent": centre.round(4).tolist(),
                "mean_silhouette": float(sil.mean()),
                "families": sorted({fits[i].family for i in members}),
            },
        ))
    return out


def seasonal_effects(scores: pd.DataFrame, by: str | None = "product_type",
                     settings: ModelingSettings | None = None) -> list[Pattern]:
    """Months whose counts show consistently more (or less) shortage than the model expects.

    Per group (product type, or all) and calendar month: a one-sample t-test of the counts'
    z (anomalies left out, z clipped at ±5) against 0, Bonferroni-corrected over the months
    tested; confidence = 1 - corrected p.
    """
    s = settings or CONFIG.modeling
    clean = scores[~scores["anomalous"] & ~scores["compensating"]].copy()
    if clean.empty:
        return []
    clean["month"] = pd.to_datetime(clean["count_datetime"]).dt.month
    clean["z_clipped"] = clean["z"].clip(-5.0, 5.0)
    groups = clean.groupby(by) if by else [("all", clean)]
    out = []
    for group, frame in groups:
        months = frame.groupby("month")
        eligible = [(m, f) for m, f in months if len(f) >= s.seasonal_min_counts]
        if len(eligible) < 2:
            continue
        for month, f in eligible:
            test = stats.ttest_1samp(f["z_clipped"], 0.0)
            p_adj = min(float(test.pvalue) * len(eligible), 1.0)
            if not p_adj < s.seasonal_alpha:
                continue
            extra = float(f["residual"].sum() / max(f["expected"].abs().sum(), 1e-9))
            direction = "more" if test.statistic > 0 else "less"
            out.append(Pattern(
                pattern_type="seasonal_effect",
                description=(f"{group}: counts in {MONTH_NAMES[month - 1]} show {direction} "
                             f"shortage than the model ({extra:+.0%} of expected)"),
                confidence=float(1.0 - p_adj),
                affected=tuple(_plain(p) for p in sorted(f["product"].unique(), key=str)),
                evidence={
                    "group": _plain(group), "month": int(month), "n_counts": int(len(f)),
                    "mean_z": float(f["z_clipped"].mean()), "relative_excess": extra,
                    "p_value_bonferroni": p_adj,
                    "months_tested": [int(m) for m, _ in eligible],
                },
            ))
    return out
