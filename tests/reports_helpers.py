"""A small, realistic store in the database for report and review tests.

Rows are inserted through the service layer exactly as the modelling and ingestion code
would leave them: two source files, products of four types, calculation rows with counts,
coefficients of two registry versions (only the second active) for exp_linear and linear
families, forecasts with and without actuals, preliminary forecasts, surplus recommendations
(pending and decided), rows flagged for review and validation errors across both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shrinkage.db import models as m
from shrinkage.db.services import DatabaseService, get_or_create_nomenclature

FILES = (
    ("Ведомость по партиям март.xlsx", datetime(2025, 3, 3), datetime(2025, 3, 30, 23, 59)),
    ("Ведомость по партиям апрель-май.xlsx", datetime(2025, 3, 31), datetime(2025, 5, 25, 23, 59)),
)
PERIOD_LABEL = "2025-03-03_2025-05-25"

# name, product type, code, family, params, surplus rate, method, n_observations
PRODUCTS = (
    ("ВОБЛА ВЯЛЕНАЯ", "dried", "DRY", "exp_linear", {"a": 0.06, "b": 0.12, "c": 0.0004}, 0.0, "individual", 14),
    ("ЛЕЩ ВЯЛЕНЫЙ", "dried", "DRY", "exp_linear", {"a": 0.05, "b": 0.09, "c": 0.0003}, 0.0, "shrunk", 4),
    ("СКУМБРИЯ Х/К", "cold_smoked", "CSM", "exp_linear", {"a": 0.03, "b": 0.2, "c": 0.0002}, 0.012, "individual", 9),
    ("СЕЛЬДЬ Х/К", "cold_smoked", "CSM", "linear", {"a": 0.0011}, 0.0, "pooled", 2),
    ("КРЕВЕТКИ С/М ВАРЕНО-МОРОЖЕНЫЕ", "seafood", "SEA", "linear", {"a": 0.00012}, 0.06, "pooled", 3),
    ("ГОРБУША ОХЛ.", "chilled", "CHL", "linear", {"a": 0.0003}, 0.0, "individual", 7),
)


@dataclass
class StoreIds:
    source_ids: list[int] = field(default_factory=list)
    nomenclature: dict[str, int] = field(default_factory=dict)
    calculations: dict[tuple[str, int], int] = field(default_factory=dict)
    flagged_rows: list[int] = field(default_factory=list)
    validation_errors: list[int] = field(default_factory=list)
    resolved_error: int | None = None
    active_coefficients: dict[str, int] = field(default_factory=dict)
    inactive_coefficient: int | None = None
    forecasts_with_actual: int = 0
    forecasts_without_actual: int = 0
    pending_recommendations: list[int] = field(default_factory=list)
    preliminary: int = 0


def curve_value(family: str, params: dict, t: float) -> float:
    from shrinkage.modeling.curves import make_family
    return float(make_family(family, params).predict([t])[0])


def build_store(service: DatabaseService) -> StoreIds:
    ids = StoreIds()
    with service.transaction() as crud:
        sources = []
        store = crud.create(m.Warehouse, name="Магазин №1", normalized_name="магазин №1")
        for index, (name, start, end) in enumerate(FILES):
            src = crud.create(m.SourceData, file_name=name, file_path=f"/inbox/{name}",
                              file_hash=f"hash-{index}", processed=True, report_kind="batch_statement",
                              period_start=start, period_end=end, warehouse="Магазин №1", warehouse_id=store.id)
            sources.append(src)
            ids.source_ids.append(src.id)
        exp_model = crud.create(m.Model, name="exp_linear", model_type="exp_linear", version="1.0")
        lin_model = crud.create(m.Model, name="linear", model_type="linear", version="1.0")
        old = crud.create(m.MLModelRegistry, model_id=exp_model.id, model_name="shrinkage_curves",
                          version="1", is_active=False, algorithm_type="exposure_fit")
        active = crud.create(m.MLModelRegistry, model_id=exp_model.id, model_name="shrinkage_curves",
                             version="2", is_active=True, algorithm_type="exposure_fit")
        for p_index, (name, ptype, code, family, params, rate, method, n_obs) in enumerate(PRODUCTS):
            product = get_or_create_nomenclature(crud, name, product_type=ptype, product_type_code=code)
            ids.nomenclature[name] = product.id
            last_calc, expectations = None, []
            for f_index, (src, (_fname, start, end)) in enumerate(zip(sources, FILES)):
                days = 9 + 5 * p_index + 7 * f_index
                exposed = 40.0 + 10 * p_index
                loss = exposed * curve_value(family, params, days) * (1.0 + 0.1 * f_index)
                flagged = (p_index, f_index) in {(1, 1), (3, 0), (4, 1)}
                calc = crud.create(
                    m.CalculationData, source_data_id=src.id, nomenclature_id=product.id, warehouse_id=store.id,
                    initial_balance=exposed * 0.6, incoming=exposed * 0.4, outgoing=exposed * 0.7,
                    final_balance=exposed * 0.3 - loss, storage_days=days, calculation_date=end,
                    inventory_period_start=start, inventory_period_end=end,
                    inventory_shrinkage_total=loss if p_index != 5 or f_index else None,
                    data_quality_flag="error" if flagged else "ok",
                    human_error_probability=0.93 - 0.1 * p_index if flagged else 0.02,
                    manual_review_required=flagged,
                    validation_errors=("[high] count_share_implausible; [medium] balance_mismatch"
                                       if flagged and p_index != 3 else None),
                )
                ids.calculations[(name, f_index)] = calc.id
                # what the fit expected for this period, on the same base as the observed share
                expectations.append((calc, curve_value(family, params, days)))
                if flagged:
                    ids.flagged_rows.append(calc.id)
                last_calc = calc
            model = exp_model if family == "exp_linear" else lin_model
            values = [params.get(k) for k in ("a", "b", "c")]
            details = {"family": family, "params": params, "method": method, "surplus_rate": rate,
                       "surplus_source": "estimated" if rate else "none", "n_observations": n_obs,
                       "r2": 0.91 - 0.05 * p_index, "product_type": ptype}
            for calc, expected in expectations:
                coef = crud.create(m.Coefficient, calculation_data_id=calc.id, model_id=model.id,
                                   coefficient_a=values[0], coefficient_b=values[1], coefficient_c=values[2],
                                   accuracy_r2=0.91 - 0.05 * p_index, ml_model_registry_id=active.id,
                                   fit_details=details, calculation_date=datetime(2025, 5, 26),
                                   effective_shrinkage_rate=expected)
            ids.active_coefficients[name] = coef.id
            if p_index == 0:
                stale = crud.create(m.Coefficient, calculation_data_id=last_calc.id, model_id=model.id,
                                    coefficient_a=0.2, coefficient_b=0.5, coefficient_c=0.001,
                                    accuracy_r2=0.5, ml_model_registry_id=old.id,
                                    fit_details={**details, "params": {"a": 0.2, "b": 0.5, "c": 0.001}})
                ids.inactive_coefficient = stale.id
            for h_index, horizon in enumerate((7, 14)):
                forecast_value = round(2.0 + p_index * 0.3 + h_index * 0.5, 3)
                has_actual = h_index == 0
                actual = forecast_value + (0.9 if p_index == 2 else 0.1) if has_actual else None
                crud.create(m.Forecast, coefficient_id=coef.id, model_id=model.id,
                            forecast_value=forecast_value, horizon_days=horizon,
                            forecast_date=datetime(2025, 5, 10) + timedelta(days=p_index),
                            actual_value=actual,
                            deviation=(actual - forecast_value) if has_actual else None,
                            accuracy=(1 - abs(actual - forecast_value) / actual) if has_actual else None)
                if has_actual:
                    ids.forecasts_with_actual += 1
                else:
                    ids.forecasts_without_actual += 1
            if p_index < 3:
                crud.create(m.PreliminaryForecast, calculation_data_id=last_calc.id,
                            forecast_model_id=model.id, forecast_period_days=14,
                            expected_shrinkage=1.2 + p_index, adjusted_expected_shrinkage=1.1 + p_index,
                            confidence_level=0.8, forecast_date=datetime(2025, 5, 20),
                            actual_shrinkage=1.3 + p_index if p_index == 0 else None,
                            forecast_accuracy=0.92 if p_index == 0 else None)
                ids.preliminary += 1
            if ptype in ("seafood", "cold_smoked"):
                rec = crud.create(m.SurplusRecommendation, nomenclature_id=product.id,
                                  recommended_surplus_percentage=6.0 if ptype == "seafood" else 1.2,
                                  confidence_level=0.85 if ptype == "seafood" else 0.6,
                                  analysis_period_start=FILES[0][1], analysis_period_end=FILES[1][2],
                                  calculation_method="receipt_excess_median",
                                  supporting_data={"receipts": 5}, is_accepted=None)
                ids.pending_recommendations.append(rec.id)
        decided = get_or_create_nomenclature(crud, "ВОБЛА ВЯЛЕНАЯ")
        crud.create(m.SurplusRecommendation, nomenclature_id=decided.id, recommended_surplus_percentage=0.5,
                    confidence_level=0.4, is_accepted=False, acceptance_date=datetime(2025, 5, 1))
        errors = [
            (ids.calculations[("ЛЕЩ ВЯЛЕНЫЙ", 1)], None, "count_share_implausible", "high",
             "Недостача 9,1 кг больше 25 % остатка партии"),
            (ids.calculations[("ЛЕЩ ВЯЛЕНЫЙ", 1)], None, "balance_mismatch", "medium",
             "Остаток на начало + приход − расход ≠ остаток на конец (0,004 кг)"),
            (ids.calculations[("КРЕВЕТКИ С/М ВАРЕНО-МОРОЖЕНЫЕ", 1)], None, "count_share_implausible", "high",
             "Недостача 7,5 кг больше 25 % остатка партии"),
            (ids.calculations[("СЕЛЬДЬ Х/К", 0)], None, "date_outside_period", "low",
             "Дата документа вне периода отчёта"),
            (None, sources[0].id, "duplicate_rows", "medium", "Строка 120 повторяет строку 119"),
        ]
        for calc_id, source_id, etype, severity, text in errors:
            err = crud.create(m.ValidationError, calculation_data_id=calc_id, source_data_id=source_id,
                              error_type=etype, severity_level=severity, description=text,
                              detected_by="great_expectations")
            ids.validation_errors.append(err.id)
        resolved = crud.create(m.ValidationError, source_data_id=sources[1].id, error_type="duplicate_rows",
                               severity_level="low", description="Строка 7 повторяет строку 6",
                               detected_by="great_expectations", resolved=True,
                               resolution_date=datetime(2025, 5, 27), notes="проверено")
        ids.resolved_error = resolved.id
    return ids
