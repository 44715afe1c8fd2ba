"""`shrinkage run` and `shrinkage demo`: the main job, registered into the core CLI as a plugin.

Registered through the ``shrinkage.commands`` entry point so the core never imports Dagster;
Dagster itself is imported only when one of these commands runs.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from shrinkage.cli.common import EXIT_FILE_FAILED, CliError, progress_bar, state


def register(main: click.Group) -> None:
    main.add_command(run)
    main.add_command(demo)


def _execute(inbox: Path) -> None:
    from pipelines.main_job import run_main_job
    from resources import DatabaseResource
    from shrinkage.config import mask_url

    current = state()
    engine = current.engine()  # one clear message and exit 2 if the database is unreachable
    database = DatabaseResource(url=engine.url.render_as_string(hide_password=False))
    report_count = sum(1 for p in inbox.rglob("*") if p.is_file()) if inbox.is_dir() else 0
    started = time.perf_counter()
    click.echo(f"main job: inbox {inbox} -> {mask_url(database.engine().url)}")
    with progress_bar(report_count, "files", "file") as bar:
        summary = run_main_job(inbox, database, user=current.user, on_file=lambda _f: bar.update())
    echo_summary(summary, time.perf_counter() - started)
    if not summary.ok:
        raise CliError("the main job completed with failures (see above)", EXIT_FILE_FAILED)


def echo_summary(summary, seconds: float) -> None:
    counts = {}
    for f in summary.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    click.echo(f"files: {len(summary.files)} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items())) or 'none'})")
    for f in summary.files:
        if f.status in {"failed", "skipped"}:
            click.echo(f"  {f.status}: {f.path.name}: {f.message.removeprefix(f.path.name + ': ')}",
                       err=f.status == "failed")
    for name, value in summary.figures.items():
        click.echo(f"{name.replace('_', ' ')}: {value}")
    for path in summary.report_paths:
        click.echo(f"report: {path}")
    if not summary.store_ok:
        click.echo(f"store refresh failed: {summary.store_error}", err=True)
    outcome = "completed" if summary.ok else "completed with failures"
    click.echo(f"main job {outcome} in {seconds:.1f} s")


@click.command("run")
@click.option("--inbox", type=click.Path(path_type=Path), default=None,
              help="Folder of report files (default: SHRINKAGE_INBOX, else inbox/ in the project home).")
def run(inbox: Path | None) -> None:
    """The main job: ingest every new report in the inbox, then refresh models, forecasts and reports."""
    _execute(inbox or state().settings.inbox_dir)


@click.command("demo")
@click.option("--inbox", type=click.Path(path_type=Path), default=None)
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520))
@click.option("--products", default=30, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=0, show_default=True, type=int)
def demo(inbox: Path | None, weeks: int, products: int, seed: int) -> None:
    """Write demo statements of a simulated store into the inbox and run the main job on them."""
    from shrinkage.demo import main_demo_data

    settings = state().settings
    inbox = inbox or settings.inbox_dir
    written = main_demo_data(inbox, weeks=weeks, products=products, seed=seed)
    for path in written:  # the ground truth is for checking results, not an inbox report
        if path.suffix == ".json":
            truth = settings.home / "data" / "demo_ground_truth.json"
            truth.parent.mkdir(parents=True, exist_ok=True)
            path.replace(truth)
            click.echo(f"demo ground truth: {truth}")
    _execute(inbox)
