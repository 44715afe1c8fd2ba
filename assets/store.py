"""Whole-store assets: observations, coefficients, forecasts, surplus, analytics, reports.

Not partitioned: each depends on every source file's normalised tables and works from the
database (never by re-reading files). The fit run's in-memory results pass to the surplus
and analytics steps through the IO manager, so all three see the same fit.
"""


import base64

import dagster as dg

from assets.metadata import CODE_VERSION, INPUT_RECORDS, REPORT_PATHS, ROW_COUNT, SUMMARY, launcher_of
from resources import DatabaseResource, SettingsResource
from shrinkage.app.analytics import write_analytics
from shrinkage.app.fit import FitRun, fit_and_register, load_observations
from shrinkage.app.forecasts import write_forecasts
from shrinkage.app.registry import coefficients_in_force
from shrinkage.app.reports import write_report
from shrinkage.app.surplus import write_surplus
from shrinkage.modeling.observations import Observations
from shrinkage.reports import curves_png, markdown_table

GROUP = "store"
NORMALISED = [dg.AssetKey("calculation_data"), dg.AssetKey("batch_movements")]


def _png_markdown(png: bytes, title: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")


@dg.asset(
    group_name=GROUP, kinds={"python", "pandas", "sql"}, code_version=CODE_VERSION, deps=NORMALISED,
    description="Shrinkage observations of every product from the stored batch movements: the "
                "exposure model's segments and counts, turnover-statement periods and the naive baseline.",
)
def shrinkage_observations(context: dg.AssetExecutionContext, database: DatabaseResource) -> dg.Output[Observations]:
    observations = load_observations(database.engine())
    counts = 0 if observations.exposure is None else len(observations.exposure.counts)
    context.log.info("%d products, %d counts, %d turnover periods", len(observations.names), counts,
                     len(observations.turnover))
    return dg.Output(observations, metadata={
        ROW_COUNT: counts, INPUT_RECORDS: len(observations.movements),
        "products": len(observations.names), "turnover periods": len(observations.turnover),
        "duplicate movements dropped": observations.duplicates_dropped,
    })


@dg.asset(
    group_name=GROUP, kinds={"python", "scipy", "sql"}, code_version=CODE_VERSION,
    description="Shrinkage curves per product (S(t) = a(1 − e^(−bt)) + ct and alternatives, chosen by "
                "AICc, pooled by product type where counts are few), registered as a new model "
                "version (models, ml_model_registry) with coefficients per calculation row.",
)
def coefficients(context: dg.AssetExecutionContext, database: DatabaseResource,
                 shrinkage_observations: Observations) -> dg.Output[FitRun]:
    engine = database.engine()
    run = fit_and_register(engine, shrinkage_observations, created_by=launcher_of(context.run))
    s = run.summary
    context.log.info("fit run %s: %d products, methods %s, families %s", s.version, s.products_fitted,
                     s.methods, s.families)
    active = coefficients_in_force(engine)
    metadata = {
        ROW_COUNT: s.coefficient_rows, INPUT_RECORDS: len(shrinkage_observations.names),
        "registry version": s.version or "-", "products fitted": s.products_fitted,
        "median R²": float(s.median_r2) if s.median_r2 is not None else float("nan"),
        "methods": s.methods, "families": s.families, "anomalous counts": s.anomalies,
        "coefficients": dg.MetadataValue.md(markdown_table(active, max_rows=20)) if len(active) else "none",
        f"{SUMMARY}products_fitted": s.products_fitted, f"{SUMMARY}coefficients": s.coefficient_rows,
        f"{SUMMARY}items_for_review": s.review_items,
    }
    if s.products_fitted:
        metadata["fitted curves"] = _png_markdown(curves_png(engine), "fitted shrinkage curves")
    return dg.Output(run, metadata=metadata)


@dg.asset(
    group_name=GROUP, kinds={"python", "sql"}, code_version=CODE_VERSION, deps=[coefficients],
    description="Loss expected over the next days from the stock on hand per batch and its age, "
                "preliminary forecasts for periods without a count, and actuals filled in as counts arrive.",
)
def forecasts(context: dg.AssetExecutionContext, database: DatabaseResource,
              shrinkage_observations: Observations) -> dg.MaterializeResult:
    engine = database.engine()
    summary = write_forecasts(engine, shrinkage_observations)
    context.log.info("%d forecasts, %d preliminary, %d actuals filled, MAPE %s", summary.forecasts,
                     summary.preliminary_forecasts, summary.forecast_actuals_filled, summary.forecast_mape)
    return dg.MaterializeResult(metadata={
        ROW_COUNT: summary.forecasts + summary.preliminary_forecasts,
        INPUT_RECORDS: len(shrinkage_observations.names),
        "forecasts": summary.forecasts, "preliminary forecasts": summary.preliminary_forecasts,
        "actuals filled": summary.forecast_actuals_filled + summary.preliminary_actuals_filled,
        "forecast MAPE": float(summary.forecast_mape) if summary.forecast_mape is not None else float("nan"),
        f"{SUMMARY}forecasts": summary.forecasts,
        f"{SUMMARY}preliminary_forecasts": summary.preliminary_forecasts,
        "fitted curves": _png_markdown(curves_png(engine), "curves the forecasts use"),
    })


@dg.asset(
    group_name=GROUP, kinds={"python", "sql"}, code_version=CODE_VERSION,
    description="Surplus recommendations from the fitted surplus rates and count evidence, and "
                "validations of accepted surplus patterns at every new count.",
)
def surplus_recommendations(context: dg.AssetExecutionContext, database: DatabaseResource,
                            coefficients: FitRun) -> dg.MaterializeResult:
    summary = write_surplus(database.engine(), coefficients)
    context.log.info("%d recommendations, %d pattern validations (%d auto-confirmed)",
                     summary.recommendations, summary.validations, summary.auto_confirmed)
    return dg.MaterializeResult(metadata={
        ROW_COUNT: summary.recommendations + summary.validations,
        INPUT_RECORDS: len(coefficients.fits),
        "recommendations": summary.recommendations, "pattern validations": summary.validations,
        "auto-confirmed": summary.auto_confirmed, "awaiting a user": summary.awaiting_user,
        f"{SUMMARY}surplus_recommendations": summary.recommendations,
    })


@dg.asset(
    group_name=GROUP, kinds={"python", "scikit-learn", "sql"}, code_version=CODE_VERSION,
    deps=[forecasts],
    description="Analytics per product, model and period (accuracy, number of calculations), AI "
                "patterns (anomalous counts, clusters of similar curves, seasonal effects) and the "
                "analytical views / continuous aggregates refreshed.",
)
def analytics(context: dg.AssetExecutionContext, database: DatabaseResource,
              coefficients: FitRun) -> dg.MaterializeResult:
    summary = write_analytics(database.engine(), coefficients, refresh=True)
    context.log.info("%d analytics rows, patterns %s", summary.analytics_rows, summary.patterns)
    return dg.MaterializeResult(metadata={
        ROW_COUNT: summary.analytics_rows, INPUT_RECORDS: len(coefficients.fits),
        "patterns": summary.patterns, "analytical relations refreshed": summary.refreshed or "none",
        f"{SUMMARY}anomalies": int(summary.patterns.get("anomaly", 0)),
    })


@dg.asset(
    group_name=GROUP, kinds={"excel", "pdf", "csv"}, code_version=CODE_VERSION,
    deps=[coefficients, forecasts, surplus_recommendations, analytics],
    description="The shrinkage report for the data's period: Excel workbook with native charts, "
                "CSV exports and a PDF summary, written to the reports folder.",
)
def reports(context: dg.AssetExecutionContext, database: DatabaseResource,
            settings: SettingsResource) -> dg.MaterializeResult:
    paths = write_report(database.engine(), settings.reports_folder())
    context.log.info("%d report files written to %s", len(paths), settings.reports_folder())
    listing = "\n".join(str(p) for p in paths)
    return dg.MaterializeResult(metadata={
        ROW_COUNT: len(paths), REPORT_PATHS: listing,
        "files": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in paths) or "_none_"),
        "folder": dg.MetadataValue.path(str(settings.reports_folder())),
    })


STORE_ASSETS = [shrinkage_observations, coefficients, forecasts, surplus_recommendations, analytics, reports]
