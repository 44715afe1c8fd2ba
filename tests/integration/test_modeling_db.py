"""A fit run from ingested demo statements, on SQLite and PostgreSQL: every modelling table,
registry versions and rollback, forecasts and their actuals, surplus decisions and validations."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from shrinkage.app.fit import load_observations, run_fit
from shrinkage.app.forecasts import write_forecasts
from shrinkage.app.ingest import ingest_paths
from shrinkage.app.registry import coefficients_in_force as active_coefficients
from shrinkage.app.registry import export_coefficients, rollback_model
from shrinkage.app.surplus import accept_recommendation, confirm_validation, reject_recommendation
from shrinkage.db import models as m
from shrinkage.demo import simulate_store
from shrinkage.demo.writer import statement_file_name, write_statement_xlsx
from shrinkage.modeling.forecast import forecast_loss
from shrinkage.modeling.results import fit_from_details

WEEKS = 7
pytestmark = pytest.mark.slow  # each test ingests a store and fits it (about 10 s per database)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Weekly statements of a 7-week store, plus week 6 without its Sunday (no count yet)."""
    sim = simulate_store(weeks=WEEKS, products=12, seed=8, errors=2)
    out = tmp_path_factory.mktemp("modeling-demo")
    weekly = []
    for statement in sim.statements:
        path = out / statement_file_name(statement)
        write_statement_xlsx(statement, path)
        weekly.append(path)
    week6 = sim.statements[5]
    partial = sim.statement_for(week6.period_start, week6.period_end - timedelta(days=1))
    partial_path = out / "partial" / statement_file_name(partial)
    write_statement_xlsx(partial, partial_path)
    return sim, weekly, partial_path


def rows(engine, table) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.select(table), conn)


def ingest(engine, paths) -> None:
    outcomes = ingest_paths(engine, paths)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]


def test_fit_run_writes_every_modelling_table(engine, store):
    sim, weekly, _ = store
    ingest(engine, weekly)
    summary = run_fit(engine, created_by="test")
    fitted = summary.fit.products_fitted  # a slow product with no usable count is skipped
    assert summary.fit.version == "1" and fitted >= 10 and fitted + summary.fit.skipped == 12
    assert summary.fit.median_r2 > 0.9

    models = rows(engine, m.Model)
    assert set(models["name"]) == {"exp_linear", "linear", "power", "logarithmic", "quadratic"}
    registry = rows(engine, m.MLModelRegistry)
    assert len(registry) == 5 and registry["is_active"].all()
    metrics = max(registry["accuracy_metrics"], key=lambda x: x["n_products"])
    assert metrics["n_products"] >= 1 and 0 < metrics["median_r2"] <= 1
    assert sum(x["n_products"] for x in registry["accuracy_metrics"]) == fitted

    coefficients = rows(engine, m.Coefficient)
    calc = rows(engine, m.CalculationData)
    fitted_calc = calc[calc["id"].isin(coefficients["calculation_data_id"])]
    assert fitted_calc["nomenclature_id"].nunique() == fitted  # one row per calculation row
    assert len(coefficients) == len(fitted_calc)
    assert (coefficients[["coefficient_a"]].fillna(0) >= 0).all().all()
    details = coefficients["fit_details"].iloc[0]
    assert {"family", "params", "method", "surplus_rate", "surplus_source", "n_observations",
            "rmse", "mae", "aicc"} <= set(details)
    assert coefficients["pre_shrinkage_factor"].between(0, 0.3).all()
    assert fitted_calc["pre_shrinkage_amount"].notna().all()

    forecasts = rows(engine, m.Forecast)
    assert set(forecasts["horizon_days"]) == {7, 14}
    wide = forecasts.pivot_table(index="coefficient_id", columns="horizon_days",
                                 values="forecast_value")
    assert (wide[14] >= wide[7] - 1e-12).all() and (wide[7] > 0).any()

    # seafood arrives glazed: its surplus is recommended with the truth's rate
    truth = {p.name.strip(): p.surplus_rate for p in sim.products}
    recs = rows(engine, m.SurplusRecommendation).merge(
        rows(engine, m.Nomenclature)[["id", "name"]], left_on="nomenclature_id", right_on="id")
    assert len(recs) >= 1
    for rec in recs.itertuples():
        assert abs(rec.recommended_surplus_percentage - 100 * truth[rec.name.strip()]) < 0.5
        assert 0 <= rec.confidence_level <= 1 and rec.supporting_data["n_counts_with_receipts"] > 0

    analytics = rows(engine, m.Analytics)
    assert analytics["nomenclature_id"].notna().sum() == fitted
    assert analytics["avg_accuracy"].dropna().between(0, 1).all()
    patterns = rows(engine, m.AIPattern)
    assert len(patterns) >= 1 and patterns["confidence_level"].between(0, 1).all()
    # the injected keying errors are flagged on their calculation rows
    flagged = calc[calc["manual_review_required"]]
    names = rows(engine, m.Nomenclature).set_index("id")["name"].str.strip()
    assert {e.product.strip() for e in sim.errors} <= set(names[flagged["nomenclature_id"]])

    # a re-run adds a registry version, keeps one active per model, replaces the patterns
    second = run_fit(engine, created_by="test")
    assert second.fit.version == "2"
    registry = rows(engine, m.MLModelRegistry)
    assert len(registry) == 10
    assert registry.groupby("model_name")["is_active"].sum().eq(1).all()
    assert set(registry.loc[registry["is_active"], "version"]) == {"2"}
    assert len(rows(engine, m.AIPattern)) == len(patterns)


def test_forecast_actuals_preliminary_forecasts_and_rollback(engine, store):
    sim, weekly, partial = store
    ingest(engine, weekly[:5])
    run_fit(engine)  # forecasts from the stock at the week-5 count
    ingest(engine, [partial])
    first = run_fit(engine)
    assert first.forecasts.preliminary_forecasts >= 8  # week 6 has no count yet
    preliminary = rows(engine, m.PreliminaryForecast)
    assert preliminary["confidence_level"].between(0, 1).all()
    assert preliminary["batch_storage_history"].map(lambda h: len(h["stock"]["batches"])).gt(0).any()

    ingest(engine, weekly[5:])  # overlaps the partial file: its documents come twice
    second = run_fit(engine)
    assert second.fit.duplicates_dropped > 0
    assert second.forecasts.preliminary_actuals_filled == first.forecasts.preliminary_forecasts
    assert second.forecasts.forecast_actuals_filled > 0 and second.forecasts.forecast_mape is not None
    preliminary = rows(engine, m.PreliminaryForecast)
    done = preliminary[preliminary["actual_shrinkage"].notna()]
    assert done["forecast_accuracy"].between(0, 1).all()
    # the partial week's forecast is close to the shortage the Sunday count booked
    assert np.median(done["forecast_accuracy"]) > 0.5
    forecasts = rows(engine, m.Forecast)
    compared = forecasts[forecasts["actual_value"].notna()]
    assert np.allclose(compared["deviation"], compared["actual_value"] - compared["forecast_value"])
    registry = rows(engine, m.MLModelRegistry)
    v1 = registry[(registry["version"] == "1") & registry["accuracy_metrics"].map(
        lambda x: x.get("n_products", 0) > 0)]
    assert v1["accuracy_metrics"].map(lambda x: "forecast_mape" in x).any()
    # the preliminary forecasts' error is reported next to the forecasts' one
    assert second.forecasts.preliminary_mape is not None
    assert second.forecasts.preliminary_mape == pytest.approx(
        np.median(1.0 - done["forecast_accuracy"]), abs=0.05)
    assert registry["accuracy_metrics"].map(lambda x: "preliminary_mape" in (x or {})).any()

    # rollback: the earlier version becomes active and new forecasts use its parameters
    before = active_coefficients(engine)
    family = before["family"].mode().iloc[0]  # the family most products chose
    family_products = before.loc[before["family"] == family, "product"]
    assert rollback_model(engine, family) == ("3", "2")
    registry = rows(engine, m.MLModelRegistry).set_index(["model_name", "version"])
    assert registry.loc[(family, "2"), "is_active"]
    assert not registry.loc[(family, "3"), "is_active"]
    write_forecasts(engine)
    after = active_coefficients(engine).set_index("product")
    observations = load_observations(engine)
    forecasts = rows(engine, m.Forecast).merge(
        rows(engine, m.Coefficient)[["id", "ml_model_registry_id"]],
        left_on="coefficient_id", right_on="id", suffixes=("", "_c"))
    run2_ids = set(registry.loc[registry.index.get_level_values("version") == "2", "id"])
    checked = 0
    for product in family_products:
        # its newest fit was the rolled-back one: it falls back to its run-2 fit
        coefficient = after.loc[product]
        assert coefficient["ml_model_registry_id"] in run2_ids
        fit = fit_from_details(product, coefficient["fit_details"])
        stock = observations.exposure.on_hand[observations.exposure.on_hand["product"] == product]
        latest = forecasts[(forecasts["coefficient_id"] == coefficient["coefficient_id"])
                           & (forecasts["horizon_days"] == 7)]
        latest = latest[latest["forecast_date"] == latest["forecast_date"].max()]
        assert len(latest) == 1
        assert latest["forecast_value"].iloc[0] == pytest.approx(forecast_loss(fit, stock, 7).total)
        checked += 1
    assert checked >= 1


def test_surplus_accept_reject_and_pattern_validations(engine, store):
    _, weekly, _ = store
    ingest(engine, weekly[:5])
    run_fit(engine)
    recs = rows(engine, m.SurplusRecommendation).sort_values("recommended_surplus_percentage")
    assert len(recs) >= 2
    accepted, rejected = int(recs["id"].iloc[-1]), int(recs["id"].iloc[0])
    with engine.begin() as conn:  # a strict user: 2 points of deviation still auto-confirm
        conn.execute(sa.insert(m.FeedbackPreference).values(
            feedback_frequency="daily", auto_confirm_threshold=0.02, is_active=True))
    pattern_id = accept_recommendation(engine, accepted, create_specification=True,
                                       created_by="test")
    reject_recommendation(engine, rejected)
    with pytest.raises(ValueError, match="already accepted"):
        accept_recommendation(engine, accepted)
    decided = rows(engine, m.SurplusRecommendation).set_index("id")
    assert decided.loc[accepted, "is_accepted"] and not decided.loc[rejected, "is_accepted"]
    pattern = rows(engine, m.SurplusPattern).set_index("id").loc[pattern_id]
    assert pattern["pattern_condition"] == "on receipt"
    assert pattern["created_from_recommendation_id"] == accepted
    spec = rows(engine, m.SurplusSpecification)
    assert len(spec) == 1

    ingest(engine, weekly[5:])
    summary = run_fit(engine)
    # the specification fixes r for that product in the new fit
    coeff = active_coefficients(engine).set_index("product")
    product = int(decided.loc[accepted, "nomenclature_id"])
    assert coeff.loc[product, "fit_details"]["surplus_source"] == "specified"
    assert summary.surplus.validations >= 1
    validations = rows(engine, m.PatternValidation)
    assert (validations["surplus_pattern_id"] == pattern_id).all()
    assert np.allclose(validations["deviation"],
                       validations["actual_surplus_percentage"]
                       - validations["predicted_surplus_percentage"])
    auto = validations[validations["deviation"].abs() < 2.0]
    assert auto["is_confirmed"].all() and (auto["validation_result"] == "confirmed").all()
    pattern = rows(engine, m.SurplusPattern).set_index("id").loc[pattern_id]
    assert pattern["validation_count"] == len(validations)
    assert pattern["last_validated_date"] is not None
    # decided recommendations survive a new run; validations are not repeated
    assert len(rows(engine, m.SurplusRecommendation).dropna(subset=["is_accepted"])) == 2
    again = run_fit(engine)
    assert again.surplus.validations == 0

    confirm_validation(engine, int(validations["id"].iloc[0]), confirmed=True, feedback="ok")
    assert rows(engine, m.SurplusPattern).set_index("id").loc[pattern_id, "feedback_count"] == 1


def test_export_and_cli_commands(engine, db_url, store, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from shrinkage import config
    from shrinkage.cli import main as group

    _, weekly, _ = store
    ingest(engine, weekly[:4])
    monkeypatch.setenv("SHRINKAGE_DATABASE_URL", db_url.render_as_string(hide_password=False))
    config.get_settings.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(group, ["fit"])
        assert result.exit_code == 0, result.output
        assert "products fitted" in result.output and "median R2" in result.output
        runner.invoke(group, ["fit"])
        result = runner.invoke(group, ["model", "list"])
        assert result.exit_code == 0 and "exp_linear" in result.output
        result = runner.invoke(group, ["model", "compare", "1", "2"])
        assert result.exit_code == 0 and "median_r2" in result.output
        result = runner.invoke(group, ["model", "rollback", "linear", "--to", "1"])
        assert result.exit_code == 0 and "2 -> 1" in result.output
        result = runner.invoke(group, ["model", "rollback", "nosuch"])
        assert result.exit_code != 0 and "no registry versions" in result.output
        result = runner.invoke(group, ["surplus", "list"])
        assert result.exit_code == 0
        result = runner.invoke(group, ["surplus", "reject", "9999"])
        assert result.exit_code != 0 and "no surplus recommendation #9999" in result.output
        out = tmp_path / "coefficients.csv"
        result = runner.invoke(group, ["export", "coefficients", "--out", str(out)])
        assert result.exit_code == 0, result.output
    finally:
        config.get_settings.cache_clear()
    exported = pd.read_csv(out)
    assert list(exported.columns) == ["nomenclature", "product_type", "model", "a", "b", "c", "r2",
                                      "n_observations", "pooled", "surplus_rate", "S7", "S14", "S30"]
    assert len(exported) == len(export_coefficients(engine)) >= 10
    assert (exported["S7"] <= exported["S14"]).all() and (exported["S14"] <= exported["S30"]).all()
    direct = export_coefficients(engine)
    assert np.allclose(direct["S14"], exported["S14"])
