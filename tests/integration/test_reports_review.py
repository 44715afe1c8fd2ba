"""Review, export and reference-data import through the CLI commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from shrinkage.app.reference import product_type_keywords
from shrinkage.cli import CliState, main
from shrinkage.db import cache
from shrinkage.db import models as m
from shrinkage.db.report_queries import nomenclature
from shrinkage.db.services import DatabaseService
from tests.reports_helpers import build_store


@pytest.fixture
def store(service):
    return build_store(service)


@pytest.fixture
def cli(engine, tmp_path):
    runner = CliRunner()

    def invoke(*args: str):
        obj = CliState(provided_engine=engine, keywords_file=tmp_path / "keywords.json")
        return runner.invoke(main, list(args), obj=obj, catch_exceptions=False)

    return invoke


def test_review_list_pages_and_filters(cli, store):
    result = cli("review", "list")
    assert result.exit_code == 0, result.output
    assert f"({len(store.validation_errors)} validation error(s))" in result.output
    assert "Ведомость по партиям март.xlsx" in result.output and "ЛЕЩ ВЯЛЕНЫЙ" in result.output
    result = cli("review", "list", "--severity", "high", "--page-size", "1", "--page", "2")
    assert "page 2 of 2 (2 validation error(s))" in result.output
    assert result.output.count("count_share_implausible") == 1
    rows = cli("review", "list", "--kind", "rows")
    assert f"({len(store.flagged_rows)} flagged row(s))" in rows.output
    assert "count_share_implausible" in rows.output


def test_resolve_error_and_clear_row(cli, store, service):
    error_id = store.validation_errors[-1]
    result = cli("review", "resolve", str(error_id), "--note", "дубль из-за выгрузки")
    assert result.exit_code == 0 and "resolved" in result.output
    error = service.get(m.ValidationError, error_id)
    assert error.resolved and error.resolution_date is not None and "дубль из-за выгрузки" in error.notes
    again = cli("review", "resolve", str(error_id))
    assert again.exit_code == 2 and "already resolved" in again.output

    row_id = store.calculations[("ЛЕЩ ВЯЛЕНЫЙ", 1)]
    result = cli("review", "resolve", str(row_id), "--kind", "rows", "--note", "пересчитали вручную")
    assert result.exit_code == 0 and "2 of its validation error(s) resolved" in result.output
    row = service.get(m.CalculationData, row_id)
    assert row.manual_review_required is False and "пересчитали вручную" in row.validation_errors
    remaining = cli("review", "list", "--kind", "rows")
    assert f"({len(store.flagged_rows) - 1} flagged row(s))" in remaining.output
    missing = cli("review", "resolve", "999999", "--kind", "rows")
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_export_table_csv_and_xlsx(cli, store, tmp_path):
    out = tmp_path / "calc.csv"
    result = cli("export", "calculation_data", "--out", str(out))
    assert result.exit_code == 0 and "12 row(s)" in result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 12 and {"id", "inventory_shrinkage_total"} <= set(rows[0])
    xlsx = tmp_path / "nom.xlsx"
    assert cli("export", "nomenclature", "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    ws = openpyxl.load_workbook(xlsx).active
    assert ws["B1"].value == "name" and ws.max_row == 1 + 6
    coefs = tmp_path / "coef.csv"
    cli("export", "table", "coefficients", "--out", str(coefs))
    first = next(csv.DictReader(io.StringIO(coefs.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert json.loads(first["fit_details"])["family"] in ("exp_linear", "linear")
    bad = cli("export", "no_such_table")
    assert bad.exit_code == 2 and "choose one of" in bad.output


def _write_csv(path, header, rows, sep=";"):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_import_surplus_specifications_good_then_idempotent(cli, store, service, tmp_path):
    path = _write_csv(tmp_path / "specs.csv", ["Номенклатура", "Процент излишка", "Дата начала", "Дата окончания"], [
        ["Креветки с/м варено-мороженые", "6,5", "01.03.2025", "31.12.2025"],
        ["СКУМБРИЯ Х/К", "1.2%", "2025-03-01", ""],
    ])
    result = cli("import", "surplus-specifications", str(path))
    assert result.exit_code == 0, result.output
    assert "2 added, 0 updated" in result.output
    again = cli("import", "surplus-specifications", str(path))
    assert "0 added, 2 updated" in again.output
    specs = service.list(m.SurplusSpecification, order_by="surplus_percentage").items
    assert [s.surplus_percentage for s in specs] == [1.2, 6.5]
    assert specs[1].specification_end_date == datetime(2025, 12, 31)


def test_import_bad_file_stores_nothing_and_names_rows(cli, store, service, tmp_path):
    columns = ["Номенклатура", "Процент излишка", "Дата начала", "Дата окончания"]
    path = _write_csv(tmp_path / "bad specs.csv", columns, [
        ["СКУМБРИЯ Х/К", "1,5", "01.03.2025", ""],
        ["СКУМБРИЯ Х/К", "пять", "01.04.2025", ""],
        ["ВОБЛА ВЯЛЕНАЯ", "3", "31.05.2025", "01.05.2025"],
        ["ВОБЛА ВЯЛЕННАЯ", "3", "01.06.2025", ""],
    ])
    result = cli("import", "surplus-specifications", str(path))
    assert result.exit_code == 2
    assert "bad specs.csv" in result.output and "nothing was imported" in result.output
    assert "row 3, column 'Процент излишка': 'пять' is not a number" in result.output
    assert "row 4" in result.output and "swap the dates" in result.output
    assert service.count(m.SurplusSpecification) == 0
    unknown = _write_csv(tmp_path / "unknown.csv", ["product", "surplus_percentage", "start"], [
        ["СКУМБРИЯ Х/К", "1,5", "01.03.2025"], ["ВОБЛА ВЯЛЕННАЯ", "3", "01.06.2025"]])
    result = cli("import", "surplus-specifications", str(unknown))
    assert result.exit_code == 2 and "row 3" in result.output and "did you mean 'ВОБЛА ВЯЛЕНАЯ'" in result.output
    assert service.count(m.SurplusSpecification) == 0, "all or nothing: the good row was not stored either"


def test_import_priority_periods_from_xlsx(cli, store, service, tmp_path):
    path = tmp_path / "periods.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Начало", "Конец", "Приоритет", "Описание"])
    ws.append([datetime(2025, 3, 1), datetime(2025, 3, 10), 2, "Масленица"])
    ws.append(["01.05.2025", "12.05.2025", "3", "Майские"])
    wb.save(path)
    result = cli("import", "priority-periods", str(path))
    assert result.exit_code == 0, result.output
    periods = service.list(m.PriorityPeriod, order_by="period_start").items
    assert [(p.priority_level, p.description) for p in periods] == [(2, "Масленица"), (3, "Майские")]
    missing = tmp_path / "nolevel.csv"
    _write_csv(missing, ["Начало", "Конец"], [["01.05.2025", "12.05.2025"]])
    result = cli("import", "priority-periods", str(missing))
    assert result.exit_code == 2 and "no column for 'priority_level'" in result.output


def test_import_keywords_reclassifies_and_invalidates_cache(cli, store, engine, tmp_path):
    cache.invalidate()
    before = nomenclature(engine)
    assert (before["product_type"] == "dried").sum() == 2
    path = _write_csv(tmp_path / "kw.csv", ["Тип", "Код", "Ключевые слова"], [
        ["seafood", "SEA", "КРЕВЕТ, КРАБ"],
        ["vobla", "VOB", "ВОБЛА"],
        ["dried", "DRY", "ВЯЛ; СУШ"],
    ])
    result = cli("import", "product-type-keywords", str(path))
    assert result.exit_code == 0, result.output
    assert "reclassified" in result.output
    after = nomenclature(engine)  # the write invalidated the cached names and types
    types = dict(zip(after["product"], after["product_type"]))
    assert types["ВОБЛА ВЯЛЕНАЯ"] == "vobla" and types["ЛЕЩ ВЯЛЕНЫЙ"] == "dried"
    assert types["СКУМБРИЯ Х/К"] == "other"
    table = product_type_keywords(tmp_path / "keywords.json")
    assert table[1] == ("vobla", "VOB", ("ВОБЛА",))
    clash = _write_csv(tmp_path / "clash.csv", ["product_type", "code", "keywords"], [
        ["dried", "DRY", "ВЯЛ"], ["smoked", "SMK", "КОПЧ, ВЯЛ"]])
    result = cli("import", "product-type-keywords", str(clash))
    assert result.exit_code == 2 and "row 3" in result.output and "already used for 'dried'" in result.output
    assert product_type_keywords(tmp_path / "keywords.json")[1][0] == "vobla", "bad file changed nothing"


def test_nomenclature_cache_serves_repeated_reads_and_reloads_unknown_ids(engine, store, service):
    cache.invalidate()
    loads = cache.reference_cache.loads
    first = nomenclature(engine)
    nomenclature(engine)
    assert cache.reference_cache.loads == loads + 1, "second read came from the cache"
    with service.transaction() as crud:
        new = crud.create(m.Nomenclature, name="ИКРА ГОРБУШИ", normalized_name="икра горбуши",
                          product_type="caviar", product_type_code="CAV")
    assert new.id not in first.index
    assert nomenclature(engine, [new.id]).loc[new.id, "product"] == "ИКРА ГОРБУШИ"
    with engine.connect() as conn:
        assert conn.execute(select(m.Nomenclature.id).where(m.Nomenclature.id == new.id)).scalar_one()


def test_report_queries_are_parameterised_and_use_indexes(sqlite_engine):
    """Capture the SQL the report queries send, then ask SQLite for its plan (PostgreSQL's plans
    depend on table statistics, so they are not checked)."""
    from sqlalchemy import event

    from shrinkage.db import report_queries as q

    engine = sqlite_engine
    build_store(DatabaseService(engine))
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    cache.invalidate()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        q.review_rows(engine, datetime(2025, 4, 1), datetime(2025, 5, 25))
        q.review_rows(engine)
        q.coefficients(engine)
        q.forecasts(engine)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = {}
    with engine.connect() as conn:
        for statement, parameters in sent:
            assert "2025-04-01" not in statement, "values are bound, not pasted into the SQL"
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans[statement] = " | ".join(str(row[-1]) for row in plan)
    review_plans = [p for s, p in plans.items() if "manual_review_required" in s]
    assert len(review_plans) == 2
    # "SCAN t USING INDEX" walks an index (the partial one holds only flagged rows); a bare
    # "SCAN t" would read the whole table.
    assert not any(re.search(r"SCAN calculation_data(?! USING)", p) for p in review_plans), review_plans
    assert any("ix_calculation_data_needs_review" in p for p in review_plans)
    assert any("ix_calculation_data_period" in p for p in review_plans)
    coef_plan = next(p for s, p in plans.items() if "FROM coefficients JOIN" in s)
    assert "ix_coefficients_ml_model_registry_id" in coef_plan
    forecast_plan = next(p for s, p in plans.items() if "FROM forecasts" in s)
    assert "ix_forecasts_coefficient_id" in forecast_plan
