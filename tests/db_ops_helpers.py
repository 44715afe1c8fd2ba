"""Shared data and oracles for the database-operations tests (time series, analytics, ops).

Values are multiples of 1/4 so that sums are exact in binary floating point: aggregates
computed by the database in any order must equal the Python oracle exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from shrinkage.db import models as m

HOSTILE_NAMES = (
    "'); DROP TABLE nomenclature; --",
    'Robert"); DELETE FROM calculation_data; --',
    "ИКРА " + "Щ" * 480,  # nomenclature.name is varchar(512)
    "tab\tnewline\ncr\rbell\x07esc\x1b unit\x1f end",
    "percent %s %(name)s {0} $1 \\N \\. backslash\\",
)
# Long text goes where the schema allows it (Text columns: descriptions, notes).
LONG_TEXT = "'); DROP TABLE nomenclature; -- " + "Ж" * 10_000
# A Thursday, so weeks and months both cut through the data.
FIRST_DAY = dt.datetime(2024, 1, 4)
PRODUCT_TYPES = ("cold_smoked", "salted", "frozen", None)


@dataclass(frozen=True)
class Seeded:
    calculations: list[dict]
    forecasts: list[dict]
    product_types: dict[int, str | None]
    model_names: dict[int, str]


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [r[0] for r in result]


def seed_timeseries(engine: sa.Engine, *, weeks: int = 6, products: int = 4, names: tuple[str, ...] = (),
                    start: dt.datetime = FIRST_DAY) -> Seeded:
    """Two stores of the same products (a file each), calculation rows twice a week, movements,
    coefficients, forecasts."""
    t = m.Base.metadata.tables
    product_names = list(names) + [f"ПРОДУКТ {i} Х/К" for i in range(products - len(names))]
    with engine.begin() as conn:
        # Two stores with the same products, one file each: their rows alternate every 3 days.
        stores = _insert(conn, t["warehouses"], [{"name": f"Магазин {s} {start:%Y%m%d}",
                                                   "normalized_name": f"магазин {s} {start:%Y%m%d}"} for s in (1, 2)])
        sources = _insert(conn, t["source_data"], [{"file_name": f"w{s}.xls", "file_hash": f"h{s}-{start:%Y%m%d}",
                                                     "warehouse_id": store} for s, store in enumerate(stores)])
        product_ids = _insert(conn, t["nomenclature"], [
            {"name": name, "normalized_name": f"{start:%Y%m%d}:{i}:{name}".lower(),
             "product_type": PRODUCT_TYPES[i % len(PRODUCT_TYPES)]}
            for i, name in enumerate(product_names)])
        model_ids = _insert(conn, t["models"], [
            {"name": "exp_linear", "model_type": "curve", "version": f"{start:%Y%m%d}"},
            {"name": "linear", "model_type": "curve", "version": f"{start:%Y%m%d}"}])
        calcs = []
        for day in range(0, weeks * 7, 3):
            for k, pid in enumerate(product_ids):
                calcs.append({
                    "source_data_id": sources[day // 3 % 2], "nomenclature_id": pid,
                    "warehouse_id": stores[day // 3 % 2],
                    "calculation_date": start + dt.timedelta(days=day, hours=k),
                    "initial_balance": 100 + day * 0.25, "incoming": 10 + k * 0.5, "outgoing": 8 + day * 0.25,
                    "final_balance": 101.5, "inventory_shrinkage_total": (day % 5) * 0.25,
                    "adjusted_shrinkage_rate": None if (day + k) % 4 == 0 else (k + 1) * 0.125,
                    "manual_review_required": (day + k) % 7 == 0,
                })
        calc_ids = _insert(conn, t["calculation_data"], calcs)
        movements = [{
            "source_data_id": c["source_data_id"], "nomenclature_id": c["nomenclature_id"],
            "calculation_data_id": cid, "warehouse_id": c["warehouse_id"],
            "source_row": i, "document_type": names[i % len(names)][:256] if names else "Реализация",
            "document_kind": "sale", "document_datetime": c["calculation_date"] - dt.timedelta(hours=1),
            "opening": 5.0, "incoming": 0.0, "outgoing": 1.25, "closing": 3.75,
        } for i, (c, cid) in enumerate(zip(calcs, calc_ids))]
        conn.execute(sa.insert(t["batch_movements"]), movements)
        coefficient_ids = _insert(conn, t["coefficients"], [
            {"calculation_data_id": cid, "model_id": model_ids[i % 2], "coefficient_a": 0.5}
            for i, cid in enumerate(calc_ids)])
        forecasts = [{
            "coefficient_id": coef, "model_id": None if i % 9 == 0 else model_ids[i % 2],
            "forecast_value": 1.0 + (i % 3) * 0.25, "actual_value": None if i % 5 == 0 else 1.5,
            "deviation": None if i % 5 == 0 else (i % 3) * 0.25 - 0.5,
            "accuracy": None if i % 5 == 0 else 0.5 + (i % 2) * 0.25,
            "forecast_date": calcs[i]["calculation_date"], "horizon_days": 7,
        } for i, coef in enumerate(coefficient_ids)]
        conn.execute(sa.insert(t["forecasts"]), forecasts)
        conn.execute(sa.insert(t["validation_errors"]), [
            {"calculation_data_id": cid, "error_type": "balance", "severity_level": "low",
             "description": LONG_TEXT if names else "x"} for cid in calc_ids[::5]])
        conn.execute(sa.insert(t["analytics"]), [
            {"nomenclature_id": pid, "avg_accuracy": 0.5, "total_calculations": 3,
             "last_updated": start + dt.timedelta(days=7 * w)} for w in range(weeks) for pid in product_ids])
    for c, cid in zip(calcs, calc_ids):
        c["id"] = cid
    types = {pid: PRODUCT_TYPES[i % len(PRODUCT_TYPES)] for i, pid in enumerate(product_ids)}
    return Seeded(calcs, forecasts, types, {model_ids[0]: "exp_linear", model_ids[1]: "linear"})


def week_start(ts: dt.datetime) -> dt.datetime:
    day = dt.datetime(ts.year, ts.month, ts.day)
    return day - dt.timedelta(days=day.weekday())


def month_start(ts: dt.datetime) -> dt.datetime:
    return dt.datetime(ts.year, ts.month, 1)


def expected_product_shrinkage(seeded: Seeded, bucket) -> dict[tuple, tuple]:
    """(period_start, warehouse_id, nomenclature_id) -> (calc_rows, incoming, shrinkage_kg, avg rate, review_rows)."""
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0, 0])
    for c in seeded.calculations:
        a = acc[(bucket(c["calculation_date"]), c["warehouse_id"], c["nomenclature_id"])]
        a[0] += 1
        a[1] += c["incoming"]
        a[2] += c["inventory_shrinkage_total"]
        if c["adjusted_shrinkage_rate"] is not None:
            a[3] += c["adjusted_shrinkage_rate"]
            a[4] += 1
        a[5] += int(c["manual_review_required"])
    return {k: (a[0], a[1], a[2], a[3] / a[4] if a[4] else None, a[5]) for k, a in acc.items()}


def expected_type_shrinkage(seeded: Seeded, bucket) -> dict[tuple, tuple]:
    """(period_start, warehouse_id, product_type) -> (products, calc_rows, shrinkage_kg, avg rate)."""
    acc: dict[tuple, list] = defaultdict(lambda: [set(), 0, 0.0, 0.0, 0])
    for c in seeded.calculations:
        a = acc[(bucket(c["calculation_date"]), c["warehouse_id"], seeded.product_types[c["nomenclature_id"]])]
        a[0].add(c["nomenclature_id"])
        a[1] += 1
        a[2] += c["inventory_shrinkage_total"]
        if c["adjusted_shrinkage_rate"] is not None:
            a[3] += c["adjusted_shrinkage_rate"]
            a[4] += 1
    return {k: (len(a[0]), a[1], a[2], a[3] / a[4] if a[4] else None) for k, a in acc.items()}


def expected_forecast_accuracy(seeded: Seeded) -> dict[tuple, tuple]:
    """(period_start, model_name) -> (forecasts, with_actual, avg_accuracy, mean_abs_deviation)."""
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0, [], []])
    for f in seeded.forecasts:
        a = acc[(month_start(f["forecast_date"]), seeded.model_names.get(f["model_id"]))]
        a[0] += 1
        a[1] += f["actual_value"] is not None
        if f["accuracy"] is not None:
            a[2].append(f["accuracy"])
        if f["deviation"] is not None:
            a[3].append(abs(f["deviation"]))
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    return {k: (a[0], a[1], mean(a[2]), mean(a[3])) for k, a in acc.items()}


def as_datetime(value) -> dt.datetime:
    """SQLite views return text timestamps; PostgreSQL returns datetimes."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def read_analytics(conn: sa.Connection) -> dict[str, dict[tuple, tuple]]:
    """The analytical views, keyed like the expected_* oracles."""
    product = {
        (as_datetime(r.period_start), r.warehouse_id, r.nomenclature_id):
            (r.calc_rows, r.incoming, r.shrinkage_kg, r.avg_adjusted_shrinkage_rate, r.review_rows)
        for view in ("shrinkage_product_weekly",)
        for r in conn.execute(sa.text(f"SELECT * FROM {view}"))}
    product_monthly = {
        (as_datetime(r.period_start), r.warehouse_id, r.nomenclature_id):
            (r.calc_rows, r.incoming, r.shrinkage_kg, r.avg_adjusted_shrinkage_rate, r.review_rows)
        for r in conn.execute(sa.text("SELECT * FROM shrinkage_product_monthly"))}
    types = {
        name: {(as_datetime(r.period_start), r.warehouse_id, r.product_type):
               (r.products, r.calc_rows, r.shrinkage_kg, r.avg_adjusted_shrinkage_rate)
               for r in conn.execute(sa.text(f"SELECT * FROM {name}"))}
        for name in ("shrinkage_type_weekly", "shrinkage_type_monthly")}
    accuracy = {(as_datetime(r.period_start), r.model_name):
                (r.forecasts, r.with_actual, r.avg_accuracy, r.mean_abs_deviation)
                for r in conn.execute(sa.text("SELECT * FROM forecast_accuracy_monthly"))}
    return {"product_weekly": product, "product_monthly": product_monthly,
            "type_weekly": types["shrinkage_type_weekly"], "type_monthly": types["shrinkage_type_monthly"],
            "accuracy_monthly": accuracy}


def expected_analytics(seeded: Seeded) -> dict[str, dict[tuple, tuple]]:
    return {"product_weekly": expected_product_shrinkage(seeded, week_start),
            "product_monthly": expected_product_shrinkage(seeded, month_start),
            "type_weekly": expected_type_shrinkage(seeded, week_start),
            "type_monthly": expected_type_shrinkage(seeded, month_start),
            "accuracy_monthly": expected_forecast_accuracy(seeded)}


ANALYTICS_COLUMNS = {
    "shrinkage_product_weekly": ["period_start", "warehouse_id", "warehouse_name", "nomenclature_id", "product_name",
                                 "product_type", "calc_rows", "initial_balance", "incoming", "outgoing",
                                 "final_balance", "shrinkage_kg", "avg_adjusted_shrinkage_rate", "review_rows"],
    "shrinkage_type_weekly": ["period_start", "warehouse_id", "warehouse_name", "product_type", "products",
                              "calc_rows", "initial_balance",
                              "incoming", "outgoing", "final_balance", "shrinkage_kg",
                              "avg_adjusted_shrinkage_rate", "review_rows"],
    "forecast_accuracy_monthly": ["period_start", "model_id", "model_name", "model_version", "forecasts",
                                  "with_actual", "avg_accuracy", "mean_abs_deviation"],
}
ANALYTICS_COLUMNS["shrinkage_product_monthly"] = ANALYTICS_COLUMNS["shrinkage_product_weekly"]
ANALYTICS_COLUMNS["shrinkage_type_monthly"] = ANALYTICS_COLUMNS["shrinkage_type_weekly"]


def view_columns(conn: sa.Connection, view: str) -> list[str]:
    return list(conn.execute(sa.text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


MIGRATION_T0 = dt.datetime(2025, 3, 3)
# Migration 0005 with data (tests/integration/test_migration_warehouses.py and the TimescaleDB one).
# Rows of every table the migration touches, counted before and after.
MIGRATION_TABLES = ("source_data", "nomenclature", "calculation_data", "batch_movements", "coefficients",
                    "forecasts", "preliminary_forecasts", "validation_errors", "data_lineage")


def _insert_row(conn, table: str, row: dict) -> int:
    columns = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    return conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id"), row).scalar_one()


def seed_0004(engine: sa.Engine) -> dict[str, int]:
    """Three loaded files at revision 0004: two of one store (named with other spacing and case),
    one naming no store; a rejected file; rows hanging on every calculation row."""
    ids = {}
    with engine.begin() as conn:
        product = _insert_row(conn, "nomenclature", {"name": "СЕЛЬДЬ Х/К", "normalized_name": "сельдь х/к"})
        model = _insert_row(conn, "models", {"name": "exp_linear", "model_type": "curve", "version": "1"})
        for key, store in (("a", "Магазин  на Ленина"), ("b", "магазин на ленина"), ("c", None)):
            source = _insert_row(conn, "source_data", {"file_name": f"{key}.xlsx", "file_hash": key, "processed": True,
                                                   "warehouse": store})
            calc = _insert_row(conn, "calculation_data", {
                "source_data_id": source, "nomenclature_id": product, "calculation_date": MIGRATION_T0,
                "initial_balance": 1.0, "final_balance": 2.0})
            _insert_row(conn, "batch_movements", {
                "source_data_id": source, "nomenclature_id": product, "calculation_data_id": calc, "source_row": 7,
                "document_type": "Инвентаризация", "document_kind": "count", "document_datetime": MIGRATION_T0,
                "opening": 1.0, "incoming": 0.0, "outgoing": 0.25, "closing": 0.75})
            coefficient = _insert_row(conn, "coefficients", {"calculation_data_id": calc, "model_id": model})
            _insert_row(conn, "forecasts", {"coefficient_id": coefficient, "forecast_date": MIGRATION_T0})
            _insert_row(conn, "preliminary_forecasts", {"calculation_data_id": calc})
            _insert_row(conn, "validation_errors", {"calculation_data_id": calc, "error_type": "x",
                                                    "severity_level": "low"})
            _insert_row(conn, "data_lineage", {"calculation_data_id": calc, "process_name": "t", "status": "success",
                                           "lineage_key": key})
            ids[key] = source
        _insert_row(conn, "source_data", {"file_name": "bad.xlsx", "file_hash": "bad", "processed": False})
    return ids


def migration_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in MIGRATION_TABLES}
