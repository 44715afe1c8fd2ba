"""A small hand-made store for the curve functions and forecast views, and the Python answers.

Each product exercises one rule the views must share with the Python forecast:
- EXP: its last document is in two files (an older and a newer, re-posted copy): the newer
  file's lines count; two unlabelled lines (age from the product's first document);
- QUAD: quadratic with a negative b (only fit_details keeps it); its last two documents
  share a timestamp (the higher number is last); a 0.3 g line (empty) and a 0.6 g one;
- POW: model "power" rolled back to version 1: its version-2 coefficients do not count;
- LOG: two calculation rows in one fit run: the later period's row wins;
- LIN: a model but nothing on hand; NOFIT: stock but no model;
- OLD: batches up to 1,000 days old (S capped), its registry version does not list it
  (PL/Python falls back to the coefficient's fit_details); an arrival with milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from shrinkage.app.fit import load_observations
from shrinkage.app.registry import coefficients_in_force
from shrinkage.db import models as m
from shrinkage.modeling.curves import FAMILIES, make_family
from shrinkage.modeling.forecast import forecast_loss
from shrinkage.modeling.results import fit_from_details

T0 = dt.datetime(2025, 3, 1, 9, 17, 43)  # odd seconds: ages are not round binary fractions
HORIZONS = (7, 14)

# Parameter sets per family, a, b, c by position: typical fits, the bounds of curves.py,
# a quadratic that flattens (b < 0), and sets that reach the cap within 1,000 days.
PARAMETER_SETS = {
    "exp_linear": [(0.04, 0.15, 0.0002), (0.3, 5.0, 0.002), (0.0, 0.005, 0.0), (0.012, 0.02, 0.00005)],
    "linear": [(0.0005,), (0.01,), (0.0,)],
    "power": [(0.01, 0.5), (0.3, 1.0), (0.002, 0.05)],
    "logarithmic": [(0.02, 0.3), (0.3, 20.0), (0.001, 0.001)],
    "quadratic": [(0.004, 2e-4), (0.002, -2.5e-6), (0.01, 0.0)],
}
AGES = np.unique(np.concatenate([
    [-1.0, 0.0, 1e-4, 0.0417, 0.5], np.linspace(0.0, 1000.0, 101), np.geomspace(0.01, 1000.0, 40)]))


def params_of(family: str, values: tuple) -> dict[str, float]:
    return dict(zip(FAMILIES[family].param_names, values))


def python_curve(family: str, values: tuple, t) -> np.ndarray:
    return make_family(family, params_of(family, values)).predict(np.asarray(t, dtype=float))


def grid_rows() -> list[dict]:
    """One row per (family, parameter set, age): the inputs the SQL functions get."""
    rows = []
    for family, sets in PARAMETER_SETS.items():
        for values in sets:
            a, b, c = (tuple(values) + (None, None))[:3]
            for t in AGES:
                rows.append({"family": family, "a": a, "b": b, "c": c, "t": float(t)})
    return rows


@dataclass(frozen=True)
class Store:
    products: dict[str, int]  # key -> nomenclature id


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> list[int]:
    result = conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [r[0] for r in result]


def _details(family: str, values: tuple, surplus: float = 0.0) -> dict:
    return {"family": family, "params": params_of(family, values), "method": "individual",
            "surplus_rate": surplus, "n_observations": 8, "r2": 0.9, "product_type": "dried",
            "quadratic_horizon_days": 400.0}


def seed_store(engine: sa.Engine) -> Store:
    t = m.Base.metadata.tables
    day = dt.timedelta(days=1)
    with engine.begin() as conn:
        store = _insert(conn, t["warehouses"], [{"name": "Магазин", "normalized_name": "магазин"}])[0]
        older, newer = _insert(conn, t["source_data"], [
            {"file_name": "a.xls", "file_hash": "curve-a", "period_start": T0, "period_end": T0 + 30 * day,
             "warehouse_id": store},
            {"file_name": "b.xls", "file_hash": "curve-b", "period_start": T0 + 20 * day,
             "period_end": T0 + 40 * day, "warehouse_id": store}])
        keys = ["EXP", "QUAD", "POW", "LOG", "LIN", "NOFIT", "OLD"]
        ids = dict(zip(keys, _insert(conn, t["nomenclature"], [
            {"name": f"ТОВАР {k}", "normalized_name": f"товар {k.lower()}", "product_type": "dried"}
            for k in keys])))
        calc = {}  # (key, file) -> calculation id
        for key in keys:
            for source, end in ((older, T0 + 30 * day), (newer, T0 + 40 * day)):
                calc[key, source] = _insert(conn, t["calculation_data"], [{
                    "source_data_id": source, "nomenclature_id": ids[key], "warehouse_id": store,
                    "calculation_date": end,
                    "initial_balance": 10.0, "incoming": 1.0, "outgoing": 2.0, "final_balance": 9.0,
                    "inventory_period_start": end - 20 * day, "inventory_period_end": end}])[0]

        movements = []

        def doc(key, source, when, number, lines, kind="sale"):
            """lines: (arrival or None, opening, closing); rows get the file's next source_row."""
            for arrival, opening, closing in lines:
                movements.append({
                    "source_data_id": source, "nomenclature_id": ids[key], "warehouse_id": store,
                    "calculation_data_id": calc[key, source], "source_row": len(movements) + 1,
                    "document_type": "Отчет о продажах", "document_kind": kind,
                    "document_number": number, "document_datetime": when, "batch_arrival": arrival,
                    "is_labelled": arrival is not None, "opening": opening,
                    "incoming": max(closing - opening, 0.0), "outgoing": max(opening - closing, 0.0),
                    "closing": closing})

        a1, a2 = T0 - 3 * day - dt.timedelta(seconds=1111), T0 + 5 * day + dt.timedelta(hours=3, seconds=7)
        # EXP: first document in the older file; the last document (day 25) in both files,
        # re-posted in the newer one with other balances and one more unlabelled line.
        doc("EXP", older, T0, "000000000000001", [(a1, 10.0, 10.0)], kind="receipt")
        doc("EXP", older, T0 + 25 * day, "000000000000031",
            [(a1, 10.0, 6.0), (a2, 5.0, 4.0), (None, 0.5, 0.4)])
        doc("EXP", newer, T0 + 25 * day, "000000000000031",
            [(a1, 10.0, 5.5), (a2, 5.0, 4.25), (None, 0.5, 0.35), (None, 0.2, 0.125)])
        # QUAD: two documents at the same time; "…10" sorts after "…09" and is last.
        last = T0 + 30 * day
        doc("QUAD", older, T0 + 2 * day, "000000000000002", [(a1, 8.0, 8.0)], kind="receipt")
        doc("QUAD", older, last, "000000000000009", [(a1, 8.0, 7.0)])
        doc("QUAD", older, last, "000000000000010",
            [(a1, 7.0, 6.5), (a2, 0.001, 0.0003), (T0 + 1 * day, 0.001, 0.0006)])
        # POW, LOG, NOFIT: plain stock in the newer file.
        doc("POW", newer, T0 + 33 * day, "000000000000040", [(a1, 3.0, 2.5), (a2, 4.0, 4.0)])
        doc("LOG", newer, T0 + 34 * day, "000000000000041", [(a2, 6.0, 5.0)])
        doc("NOFIT", newer, T0 + 34 * day, "000000000000042", [(a2, 6.0, 5.0)])
        # LIN: sold out.
        doc("LIN", newer, T0 + 35 * day, "000000000000043", [(a2, 1.0, 0.0)])
        # OLD: frozen fish up to 1,000 days old; one arrival with milliseconds.
        doc("OLD", older, T0 + 28 * day, "000000000000050", [
            (T0 - 970 * day, 20.0, 19.0), (T0 - 300 * day + dt.timedelta(milliseconds=250), 7.0, 7.0),
            (T0 + 27 * day, 1.0, 1.0)])
        conn.execute(sa.insert(t["batch_movements"]), movements)

        families = list(PARAMETER_SETS)
        model_ids = dict(zip(families, _insert(conn, t["models"], [
            {"name": f, "model_type": "shrinkage_curve", "version": "1"} for f in families])))
        # Which product each run fitted with which family and parameters.
        runs = {
            "1": {"EXP": ("exp_linear", (0.03, 0.2, 0.0001)), "QUAD": ("quadratic", (0.003, 0.0)),
                  "POW": ("power", (0.01, 0.5)), "LOG": ("logarithmic", (0.02, 0.3)),
                  "LIN": ("linear", (0.0005,)), "OLD": ("exp_linear", (0.05, 0.1, 0.001))},
            "2": {"EXP": ("exp_linear", (0.04, 0.15, 0.0002)), "QUAD": ("quadratic", (0.002, -2.5e-6)),
                  "POW": ("power", (0.2, 0.9)), "LOG": ("logarithmic", (0.015, 0.5)),
                  "LIN": ("linear", (0.0007,)), "OLD": ("exp_linear", (0.06, 0.05, 0.0005))},
        }
        # LOG's older calculation row of run 2 carries other parameters: the later period wins.
        log_older_period = ("logarithmic", (0.9, 0.9))
        registry = {}
        for version, trained in (("1", dt.datetime(2025, 4, 1)), ("2", dt.datetime(2025, 4, 8))):
            for family in families:
                products = {str(ids[k]): {"params": params_of(f, v), "method": "individual"}
                            for k, (f, v) in runs[version].items() if f == family and k != "OLD"}
                registry[version, family] = _insert(conn, t["ml_model_registry"], [{
                    "model_id": model_ids[family], "model_name": family, "version": version,
                    "training_date": trained, "is_active": False,
                    "parameters": {"family": family, "products": products}}])[0]
        for family in families:  # power rolled back to version 1
            active = "1" if family == "power" else "2"
            conn.execute(sa.update(t["ml_model_registry"]).where(
                t["ml_model_registry"].c.id == registry[active, family]).values(is_active=True))
        coefficients = []
        for version, fitted in runs.items():
            for key, (family, values) in fitted.items():
                for source in (older, newer):
                    f, v = log_older_period if (key, version, source) == ("LOG", "2", older) else (family, values)
                    coefficients.append({
                        "calculation_data_id": calc[key, source], "model_id": model_ids[f],
                        "ml_model_registry_id": registry[version, f],
                        "coefficient_a": v[0], "coefficient_b": v[1] if len(v) > 1 and v[1] >= 0 else None,
                        "coefficient_c": v[2] if len(v) > 2 else None, "fit_details": _details(f, v)})
        conn.execute(sa.insert(t["coefficients"]), coefficients)
    return Store(ids)


def python_forecast(engine: sa.Engine, horizons=HORIZONS) -> pd.DataFrame:
    """Per batch and horizon, what the Python forecast says: the exposure's stock on hand and
    the coefficients in force, through shrinkage.modeling.forecast.forecast_loss."""
    exposure = load_observations(engine).exposure
    fits = python_fits(engine)
    rows = []
    for product, stock in exposure.on_hand.groupby("product"):
        if product not in fits:
            continue
        for horizon in horizons:
            loss = forecast_loss(fits[product], stock, horizon)
            for batch in loss.batches:
                rows.append({"nomenclature_id": int(product), "horizon_days": horizon,
                             "batch_arrival": batch.batch_arrival, "quantity": batch.quantity,
                             "age_days": batch.age_days, "expected_loss_kg": batch.expected_loss,
                             "total": loss.total})
    return pd.DataFrame(rows)


def python_fits(engine: sa.Engine) -> dict:
    active = coefficients_in_force(engine)
    return {int(r.product): fit_from_details(r.product, r.fit_details) for r in active.itertuples()}


def view_forecast(conn: sa.Connection) -> pd.DataFrame:
    frame = pd.read_sql(sa.text(
        "SELECT nomenclature_id, horizon_days, batch_arrival, quantity, age_days, expected_loss_kg "
        "FROM shrinkage_batch_forecast"), conn)
    frame["batch_arrival"] = [None if pd.isna(a) else pd.Timestamp(a).isoformat()
                              for a in frame["batch_arrival"]]
    return frame


def batch_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order: product, horizon, arrival (unlabelled last), quantity."""
    out = frame.assign(_arrival=frame["batch_arrival"].fillna("~"))
    return out.sort_values(["nomenclature_id", "horizon_days", "_arrival", "quantity"]).drop(
        columns="_arrival").reset_index(drop=True)
