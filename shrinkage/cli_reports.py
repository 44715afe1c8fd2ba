"""CLI commands for reports, review workflows and reference data (registered on `shrinkage`).

``register(main)`` adds ``review list|resolve``, ``report``, ``export TABLE`` and
``import``. Commands take the engine from ``ctx.obj["engine"]`` when a caller (a test, an
embedding tool) provides one, else connect to the configured database.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import click
import pandas as pd
from tqdm import tqdm

from shrinkage.config import CONFIG, get_settings

REVIEW_KINDS = ("errors", "rows")
SEVERITIES = ("low", "medium", "high", "critical")
EXCEL_MAX_ROWS = 1_048_576


def _engine(ctx: click.Context):
    provided = (ctx.obj or {}).get("engine") if isinstance(ctx.obj, dict) else None
    if provided is not None:
        return provided
    from shrinkage.cli import connected_engine

    return connected_engine()


def _user() -> str:
    from shrinkage.cli import current_user

    return current_user()


def user_errors(fn: Callable) -> Callable:
    """Expected failures become one clear message and exit code 2 (the shared CLI policy)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from shrinkage.cli import fail, friendly_errors
        from shrinkage.db.review import AlreadyResolved
        from shrinkage.db.services import NotFound
        from shrinkage.db.table_export import UnknownTable
        from shrinkage.reference_data import ReferenceImportError
        from shrinkage.reports.template import TemplateError

        try:
            return friendly_errors(fn)(*args, **kwargs)
        except (TemplateError, ReferenceImportError, NotFound, AlreadyResolved, UnknownTable,
                ValueError) as exc:
            fail(str(exc))

    return wrapper


def register(main: click.Group) -> None:
    """Add the report / review / export / import commands to the ``shrinkage`` group."""
    main.add_command(review)
    main.add_command(report)
    main.commands["export"].add_command(export_table, "table")
    main.add_command(import_reference)


# --- review -------------------------------------------------------------------------------

@click.group()
def review() -> None:
    """Rows flagged for manual review and validation errors: list and resolve them."""


@review.command("list")
@click.option("--kind", type=click.Choice(REVIEW_KINDS), default="errors", show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 1000), default=CONFIG.reports.review_page_size,
              show_default=True)
@click.option("--severity", "severities", multiple=True, type=click.Choice(SEVERITIES),
              help="Only errors of this severity (repeatable).")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved errors / cleared rows.")
@click.pass_context
@user_errors
def review_list(ctx: click.Context, kind: str, page: int, page_size: int, severities: tuple[str, ...],
                include_resolved: bool) -> None:
    """List validation errors (--kind errors) or rows flagged for review (--kind rows)."""
    from shrinkage.db.services import DatabaseService
    from shrinkage.reports.tables import text_table

    engine = _engine(ctx)
    service = DatabaseService(engine)
    if kind == "errors":
        frame, listing = _errors_page(engine, service, page, page_size, severities, include_resolved)
        noun = "validation error(s)"
    else:
        if severities:
            raise click.UsageError("--severity applies to --kind errors only")
        frame, listing = _rows_page(engine, service, page, page_size, include_resolved)
        noun = "flagged row(s)"
    click.echo(text_table(frame))
    footer = f"page {listing.page} of {listing.pages} ({listing.total} {noun})"
    if listing.page < listing.pages:
        footer += f"; next: --page {listing.page + 1}"
    click.echo(footer)
    if listing.total:
        click.echo(f"resolve one with: shrinkage review resolve ID --kind {kind} --note \"...\"")


def _names(engine, nomenclature_ids) -> dict[int, str]:
    from shrinkage.db.report_queries import nomenclature

    ids = [int(i) for i in nomenclature_ids if i is not None]
    return nomenclature(engine, ids)["product"].to_dict()


def _file_names(service, ids) -> dict[int, str]:
    from shrinkage.db.models import SourceData

    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    rows = service.list(SourceData, filters={"id__in": wanted}, page_size=len(wanted)).items
    return {r.id: r.file_name for r in rows}


def _errors_page(engine, service, page, page_size, severities, include_resolved):
    from shrinkage.db.models import CalculationData, ValidationError
    from shrinkage.db.report_queries import open_errors_filter

    filters = {} if include_resolved else open_errors_filter()
    if severities:
        filters["severity_level__in"] = list(severities)
    listing = service.list(ValidationError, filters=filters, order_by=["-id"], page=page, page_size=page_size)
    calc_ids = sorted({e.calculation_data_id for e in listing.items if e.calculation_data_id})
    calcs = ({c.id: c for c in service.list(CalculationData, filters={"id__in": calc_ids},
                                            page_size=len(calc_ids)).items} if calc_ids else {})
    products = _names(engine, [c.nomenclature_id for c in calcs.values()])
    file_ids = {e.id: e.source_data_id or (calcs[e.calculation_data_id].source_data_id
                                           if e.calculation_data_id in calcs else None)
                for e in listing.items}
    files = _file_names(service, file_ids.values())
    rows = []
    for e in listing.items:
        calc = calcs.get(e.calculation_data_id)
        file_id = file_ids[e.id]
        rows.append({"id": e.id, "severity": e.severity_level, "type": e.error_type,
                     "file": files.get(file_id, ""), "product": products.get(calc.nomenclature_id, "") if calc else "",
                     "description": e.description or "", "resolved": "yes" if e.resolved else "no"})
    return pd.DataFrame(rows, columns=["id", "severity", "type", "file", "product", "description", "resolved"]), listing


def _rows_page(engine, service, page, page_size, include_resolved):
    from shrinkage.db.models import CalculationData
    from shrinkage.db.report_queries import needs_review_filter

    filters = {} if include_resolved else needs_review_filter()
    listing = service.list(CalculationData, filters=filters,
                           order_by=["-human_error_probability", "id"], page=page, page_size=page_size)
    products = _names(engine, [c.nomenclature_id for c in listing.items])
    files = _file_names(service, [c.source_data_id for c in listing.items])
    rows = []
    for c in listing.items:
        period = (f"{c.inventory_period_start:%d.%m.%Y}–{c.inventory_period_end:%d.%m.%Y}"
                  if c.inventory_period_start and c.inventory_period_end else "")
        rows.append({"id": c.id, "product": products.get(c.nomenclature_id, ""),
                     "file": files.get(c.source_data_id, ""), "period": period,
                     "shrinkage_kg": c.inventory_shrinkage_total,
                     "p_error": c.human_error_probability, "flag": c.data_quality_flag or "",
                     "reason": (c.validation_errors or "").splitlines()[0] if c.validation_errors else ""})
    columns = ["id", "product", "file", "period", "shrinkage_kg", "p_error", "flag", "reason"]
    return pd.DataFrame(rows, columns=columns), listing


@review.command("resolve")
@click.argument("item_id", metavar="ID", type=int)
@click.option("--kind", type=click.Choice(REVIEW_KINDS), default="errors", show_default=True,
              help="errors: mark a validation error resolved; rows: clear a row's review flag.")
@click.option("--note", default=None, help="Why it is fine (kept with the record).")
@click.pass_context
@user_errors
def review_resolve(ctx: click.Context, item_id: int, kind: str, note: str | None) -> None:
    """Resolve validation error ID, or clear the review flag of calculation row ID (--kind rows)."""
    from shrinkage.db.review import clear_review_flag, resolve_validation_error
    from shrinkage.db.services import DatabaseService

    service = DatabaseService(_engine(ctx))
    action = resolve_validation_error if kind == "errors" else clear_review_flag
    outcome = action(service, item_id, note=note, user=_user())
    click.echo(outcome.message)


# --- report -------------------------------------------------------------------------------

@click.command("report")
@click.option("--format", "formats", multiple=True, type=click.Choice(("xlsx", "csv", "pdf")),
              help="Output format (repeatable; default: all three).")
@click.option("--period", default=None, metavar="START:END",
              help="e.g. 2025-03-03:2025-05-25 (default: the span of the data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: SHRINKAGE_REPORTS, 'reports').")
@click.option("--template", default=None, metavar="PATH|NAME",
              help="Report template: a built-in name (default, manager) or a JSON/YAML file.")
@click.option("--separator", type=click.Choice((";", ",", "tab")), default=CONFIG.reports.csv_separator,
              show_default=True, help="CSV field separator.")
@click.option("--decimal-comma/--decimal-point", default=CONFIG.reports.csv_decimal == ",",
              show_default=True, help="CSV decimal mark.")
@click.pass_context
@user_errors
def report(ctx: click.Context, formats: tuple[str, ...], period: str | None, out_dir: Path | None,
           template: str | None, separator: str, decimal_comma: bool) -> None:
    """Write the shrinkage report (Excel, CSV, PDF) with the period in the file names."""
    from shrinkage.reports import CsvOptions, load_template, write_reports
    from shrinkage.reports.build import FORMATS, report_steps

    chosen = formats or FORMATS
    options = CsvOptions(separator="\t" if separator == "tab" else separator,
                         decimal="," if decimal_comma else ".")
    loaded = load_template(template)
    engine = _engine(ctx)
    folder = out_dir or get_settings().reports_dir
    with tqdm(total=report_steps(chosen), desc="report", unit="step", disable=None) as bar:
        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            bar.update()

        paths = write_reports(engine, folder, chosen, loaded, period, csv_options=options, on_progress=progress)
    for path in paths:
        click.echo(str(path))
    click.echo(f"{len(paths)} file(s) written to {folder}")


# --- export TABLE ---------------------------------------------------------------------------

@click.command("table")
@click.argument("table_name", metavar="TABLE")
@click.option("--format", "fmt", type=click.Choice(("csv", "xlsx")), default="csv", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: <reports folder>/<TABLE>.<format>).")
@click.option("--separator", type=click.Choice((";", ",", "tab")), default=CONFIG.reports.csv_separator,
              show_default=True)
@click.pass_context
@user_errors
def export_table(ctx: click.Context, table_name: str, fmt: str, out_file: Path | None, separator: str) -> None:
    """Export any table to CSV (UTF-8 with BOM) or Excel, streaming it in pages."""
    from shrinkage.db.table_export import count_rows, iter_pages, table

    engine = _engine(ctx)
    total = count_rows(engine, table_name)
    if fmt == "xlsx" and total >= EXCEL_MAX_ROWS:
        raise click.UsageError(f"{table_name} has {total} rows, more than an Excel sheet holds: use --format csv")
    path = out_file or get_settings().reports_dir / f"{table_name}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = iter_pages(engine, table_name, CONFIG.reports.export_chunk_rows)
    columns = list(table(table_name).c.keys())
    with tqdm(total=total, desc=table_name, unit="row", disable=None) as bar:
        if fmt == "csv":
            written = _stream_csv(path, columns, pages, "\t" if separator == "tab" else separator, bar.update)
        else:
            written = _stream_xlsx(path, table_name, columns, pages, bar.update)
    click.echo(f"{written} row(s) of {table_name} written to {path}")


def _plain(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


def _stream_csv(path: Path, columns: list[str], pages, separator: str, advance) -> int:
    import csv

    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=separator)
        writer.writeheader()
        for rows in pages:
            writer.writerows({k: _plain(v) for k, v in r.items()} for r in rows)
            written += len(rows)
            advance(len(rows))
    return written


def _stream_xlsx(path: Path, table_name: str, columns: list[str], pages, advance) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table_name[:31])
    ws.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    written = 0
    for rows in pages:
        for r in rows:
            ws.append([_plain(v) for v in r.values()])
        written += len(rows)
        advance(len(rows))
    wb.save(path)
    return written


# --- import ---------------------------------------------------------------------------------

@click.command("import")
@click.argument("kind", type=click.Choice(("surplus-specifications", "priority-periods", "product-type-keywords")))
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
@user_errors
def import_reference(ctx: click.Context, kind: str, file: Path) -> None:
    """Import reference data from CSV/XLSX; the whole file or nothing, with row-level errors."""
    from shrinkage.db.reference_store import import_reference_file

    keywords_file = (ctx.obj or {}).get("keywords_file") if isinstance(ctx.obj, dict) else None
    outcome = import_reference_file(_engine(ctx), kind, file, user=_user(), keywords_file=keywords_file)
    click.echo(outcome.message)
