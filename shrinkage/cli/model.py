"""CLI commands of modelling: `fit`, `model list|compare|rollback`, `surplus list|accept|reject|confirm`,
`export coefficients`."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from shrinkage.cli.common import CliError, progress_bar, state


def _engine():
    return state().engine(migrate=True)


def _fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def echo_fit_summary(summary) -> None:
    fit, fc, sp, an = summary.fit, summary.forecasts, summary.surplus, summary.analytics
    if fit.version is None:
        click.echo("no batch movements in the database: ingest batch statements first "
                   "(`shrinkage ingest FILES`)")
        return
    methods = ", ".join(f"{k} {v}" for k, v in sorted(fit.methods.items())) or "-"
    families = ", ".join(f"{k} {v}" for k, v in sorted(fit.families.items(), key=lambda kv: -kv[1]))
    click.echo(f"fit run {fit.version}: {fit.products_fitted} products fitted ({methods}); "
               f"{fit.skipped} skipped")
    click.echo(f"  families chosen: {families or '-'}")
    click.echo(f"  median R2: {_fmt(fit.median_r2)}; coefficient rows: {fit.coefficient_rows}; "
               f"duplicate lines dropped: {fit.duplicates_dropped}; "
               f"turnover observations: {fit.turnover_observations}")
    click.echo(f"  forecasts: {fc.forecasts}; preliminary forecasts: {fc.preliminary_forecasts}; "
               f"actuals filled: {fc.forecast_actuals_filled} + {fc.preliminary_actuals_filled} "
               f"preliminary; MAPE: forecasts "
               f"{'-' if fc.forecast_mape is None else f'{100 * fc.forecast_mape:.1f} %'}, "
               f"preliminary "
               f"{'-' if fc.preliminary_mape is None else f'{100 * fc.preliminary_mape:.1f} %'}")
    click.echo(f"  surplus recommendations: {sp.recommendations}; pattern validations: "
               f"{sp.validations} ({sp.auto_confirmed} auto-confirmed, {sp.awaiting_user} "
               f"awaiting a user)")
    patterns = ", ".join(f"{k} {v}" for k, v in sorted(an.patterns.items())) or "none"
    click.echo(f"  anomalies: {fit.anomalies}; items for review: {fit.review_items}; "
               f"patterns: {patterns}; analytics rows: {an.analytics_rows}")


@click.command("fit")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes for the per-product fits.")
def fit(jobs: int) -> None:
    """Fit shrinkage curves from the database and write coefficients, registry versions,
    forecasts, surplus recommendations, analytics and patterns."""
    from shrinkage.app.fit import FitRunSummary, run_fit

    engine = _engine()
    with progress_bar(len(FitRunSummary.STEPS), "fit", "step") as bar:
        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            bar.update()
        summary = run_fit(engine, created_by=state().user, n_jobs=jobs, progress=progress)
    echo_fit_summary(summary)


@click.group("model")
def model() -> None:
    """The model registry: versions, comparison, rollback."""


@model.command("list")
def model_list() -> None:
    """Every registry version with its key metrics (* marks the active one)."""
    from shrinkage.app.registry import list_registry

    frame = list_registry(_engine())
    if frame.empty:
        click.echo("the registry is empty: run `shrinkage fit`")
        return
    click.echo(f"{'model':<14} {'version':>7}  {'trained':<19} {'products':>8} "
               f"{'median R2':>9} {'fc MAPE':>8}")
    for row in frame.itertuples(index=False):
        metrics = row.accuracy_metrics or {}
        mark = "*" if row.is_active else " "
        mape = metrics.get("forecast_mape")
        click.echo(f"{row.model_name:<14} {mark}{row.version:>6}  "
                   f"{pd.Timestamp(row.training_date):%Y-%m-%d %H:%M:%S} "
                   f"{metrics.get('n_products', 0):>8} {_fmt(metrics.get('median_r2')):>9} "
                   f"{'-' if mape is None else f'{100 * mape:.1f}%':>8}")


@model.command("compare")
@click.argument("version_a")
@click.argument("version_b")
@click.option("--model", "model_name", default=None, help="Only this model (curve family).")
def model_compare(version_a: str, version_b: str, model_name: str | None) -> None:
    """Metrics of registry versions VERSION_A and VERSION_B side by side."""
    from shrinkage.app.registry import compare_versions

    frame = compare_versions(_engine(), version_a, version_b, model_name)
    click.echo(f"{'model':<14} {'metric':<18} {version_a:>12} {version_b:>12}")
    for row in frame.itertuples(index=False):
        click.echo(f"{row[0]:<14} {row[1]:<18} {_fmt(row[2]):>12} {_fmt(row[3]):>12}")


@model.command("rollback")
@click.argument("model_name")
@click.option("--to", "to_version", default=None,
              help="Version to activate (default: the one before the active one).")
def model_rollback(model_name: str, to_version: str | None) -> None:
    """Make an earlier version of MODEL_NAME the active one (forecasts then use it)."""
    from shrinkage.app.registry import rollback_model

    before, after = rollback_model(_engine(), model_name, to_version)
    click.echo(f"{model_name}: active version {before or '-'} -> {after}; run "
               "`shrinkage fit` or the forecasts step to remake forecasts with it")


@click.group("surplus")
def surplus() -> None:
    """Surplus recommendations: list, accept, reject; verdicts on pattern validations."""


@surplus.command("list")
@click.option("--all", "include_decided", is_flag=True, help="Include decided ones.")
def surplus_list(include_decided: bool) -> None:
    """Surplus recommendations awaiting a decision."""
    from shrinkage.app.surplus import list_recommendations

    frame = list_recommendations(_engine(), include_decided)
    if frame.empty:
        click.echo("no surplus recommendations" + ("" if include_decided else " awaiting a decision"))
        return
    click.echo(f"{'id':>5}  {'product':<40} {'surplus %':>9} {'confidence':>10}  period")
    for row in frame.itertuples(index=False):
        state = {True: " accepted", False: " rejected"}.get(row.is_accepted, "")
        click.echo(f"{row.id:>5}  {str(row.product)[:40]:<40} "
                   f"{row.recommended_surplus_percentage:>9.2f} {row.confidence_level:>10.2f}  "
                   f"{pd.Timestamp(row.analysis_period_start):%Y-%m-%d}.."
                   f"{pd.Timestamp(row.analysis_period_end):%Y-%m-%d}{state}")


@surplus.command("accept")
@click.argument("recommendation_id", type=int)
@click.option("--specification/--no-specification", default=False, show_default=True,
              help="Also create a surplus specification the next fit uses as a fixed rate.")
def surplus_accept(recommendation_id: int, specification: bool) -> None:
    """Accept a recommendation: a surplus pattern validated at every new count."""
    from shrinkage.app.surplus import accept_recommendation

    pattern_id = accept_recommendation(_engine(), recommendation_id,
                                       create_specification=specification,
                                       created_by=state().user)
    click.echo(f"accepted #{recommendation_id}: surplus pattern #{pattern_id}"
               + (" and a surplus specification" if specification else ""))


@surplus.command("reject")
@click.argument("recommendation_id", type=int)
def surplus_reject(recommendation_id: int) -> None:
    """Reject a recommendation (the decision is kept)."""
    from shrinkage.app.surplus import reject_recommendation

    reject_recommendation(_engine(), recommendation_id)
    click.echo(f"rejected #{recommendation_id}")


@surplus.command("confirm")
@click.argument("validation_id", type=int)
@click.option("--reject", "rejected", is_flag=True, help="The pattern did not hold at this count.")
@click.option("--feedback", default=None, help="Why (kept with the validation).")
def surplus_confirm(validation_id: int, rejected: bool, feedback: str | None) -> None:
    """Give a verdict on a pattern validation the auto-confirm threshold left to a user."""
    from shrinkage.app.surplus import confirm_validation

    confirm_validation(_engine(), validation_id, confirmed=not rejected, feedback=feedback)
    click.echo(f"validation #{validation_id} {'rejected' if rejected else 'confirmed'}")


@click.command("coefficients")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="CSV file to write.")
def export_coefficients_cmd(out: Path) -> None:
    """One row per product: the coefficients in force, R², S at 7/14/30 days (fractions)."""
    from shrinkage.app.registry import export_coefficients

    frame = export_coefficients(_engine())
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    click.echo(f"wrote {len(frame)} products to {out}")
    if frame.empty:
        raise CliError("no active coefficients: run `shrinkage fit` first", 1)


COMMANDS = [fit, model, surplus]
