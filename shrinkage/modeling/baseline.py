"""The naive baseline: one observation y = L / B per batch line of a count, fitted against age.

Kept only to measure the exposure fit against. It ignores what was sold during the interval
(that stock shrank too, and its loss lands on the batches still on hand), the stock's
pre-shrinkage since the previous count, and surplus on receipt; on simulated stores it is off
by about a percentage point at 7-14 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shrinkage.modeling.curves import CurveFamily, make_family
from shrinkage.modeling.exposure import DAY, EMPTY_KG, REQUIRED_COLUMNS, _check_columns


def naive_observations(movements: pd.DataFrame) -> pd.DataFrame:
    """Per labelled batch line of every count: product, count_datetime, batch_arrival,
    t_end (age in days at the count), book_before (B, kg), shortage (L, kg), y = L / B."""
    _check_columns(movements)
    rows = movements.loc[(movements["doc_kind"] == "count")
                         & movements["batch_arrival"].notna()
                         & (movements["opening"] > EMPTY_KG), list(REQUIRED_COLUMNS)]
    doc_time = pd.to_datetime(rows["doc_datetime"])
    arrival = pd.to_datetime(rows["batch_arrival"])
    shortage = rows["outgoing"].astype(float) - rows["incoming"].astype(float)
    book = rows["opening"].astype(float)
    return pd.DataFrame({
        "product": rows["product"].to_numpy(),
        "count_datetime": doc_time.to_numpy(),
        "batch_arrival": arrival.to_numpy(),
        "t_end": ((doc_time - arrival) / DAY).clip(lower=0.0).to_numpy(),
        "book_before": book.to_numpy(),
        "shortage": shortage.to_numpy(),
        "y": (shortage / book).to_numpy(),
    })


def fit_naive_baseline(observations: pd.DataFrame, family: str = "exp_linear") -> CurveFamily:
    """S fitted to the naive points (t_end, y), plain least squares, weighted by book kg."""
    curve = make_family(family)
    t = observations["t_end"].to_numpy(float)
    y = observations["y"].to_numpy(float)
    weight = observations["book_before"].to_numpy(float)
    return curve.fit(t, y, sample_weight=weight / np.mean(weight))
