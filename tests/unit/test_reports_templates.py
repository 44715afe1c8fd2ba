"""Report templates as data: built-ins load from the package, variants validate with clear errors."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest

from shrinkage.reports.csv_export import CsvOptions
from shrinkage.reports.period import ReportPeriod
from shrinkage.reports.tables import markdown_table, text_table
from shrinkage.reports.template import TemplateError, builtin_names, load_template, parse_template

MINIMAL = {"sections": [{"source": "coefficients", "columns": ["product", {"field": "s7", "format": "percent"}]}]}


def test_builtins_ship_as_package_data_and_load():
    folder = resources.files("shrinkage.reports").joinpath("templates")
    assert folder.joinpath("default.json").is_file()
    assert {"default", "manager"} <= set(builtin_names())
    default = load_template()
    assert default.file_prefix == "shrinkage_report"
    assert [s.source for s in default.sections_for("pdf")] == ["summary", "curves", "review_rows",
                                                                "surplus_recommendations"]
    assert load_template("manager").file_prefix == "shrinkage_manager_report"


def test_unknown_column_and_section_are_named_with_choices():
    doc = {"sections": [
        {"id": "c", "source": "coefficients", "columns": ["product", {"field": "colour", "format": "percent"}]},
        {"id": "x", "source": "weather", "columns": ["a"]},
        {"id": "f", "source": "forecasts", "columns": [{"field": "accuracy", "format": "percnt"}],
         "sort": ["-nope"]},
    ]}
    with pytest.raises(TemplateError) as err:
        parse_template(doc, origin="my.json")
    text = str(err.value)
    assert text.startswith("template my.json has 4 problem(s)")
    assert ("section #1 ('c'), column #2 ('colour'): unknown column 'colour' in coefficients "
            "(fields: coefficient_id, product") in text
    assert "section #2 ('x'): unknown section source 'weather' (known: summary, curves, coefficients" in text
    assert "unknown format 'percnt'" in text
    assert "cannot sort by unknown field 'nope'" in text


def test_duplicate_sheets_bad_outputs_and_bad_rules_are_refused():
    doc = {"sections": [
        {"id": "a", "source": "coefficients", "sheet": "Лист", "columns": ["product"]},
        {"id": "b", "source": "forecasts", "sheet": "Лист", "columns": [
            {"field": "deviation", "conditional": {"type": "cell", "operator": "between", "values": [1]}}]},
        {"id": "c", "source": "curves", "outputs": ["csv"]},
    ]}
    with pytest.raises(TemplateError) as err:
        parse_template(doc)
    text = str(err.value)
    assert "sheet name 'Лист' is used twice" in text
    assert "cell rule 'between' needs 2 number(s)" in text
    assert "output 'csv' is not possible for curves" in text


def test_user_template_from_json_and_yaml_files(tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert load_template(str(path)).sections[0].columns[1].format == "percent"
    yaml_path = tmp_path / "v.yaml"
    yaml_path.write_text("sections:\n  - source: forecasts\n    columns: [product, accuracy]\n", encoding="utf-8")
    assert [c.field for c in load_template(yaml_path).sections[0].columns] == ["product", "accuracy"]
    with pytest.raises(TemplateError, match="no built-in report template 'nonesuch'"):
        load_template("nonesuch")
    with pytest.raises(TemplateError, match="does not exist"):
        load_template(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(TemplateError, match="not valid JSON: line 1"):
        load_template(broken)


def test_period_parsing_and_labels():
    assert ReportPeriod.parse("2025-03-03:2025-05-25").label == "2025-03-03_2025-05-25"
    assert ReportPeriod.parse("03.03.2025..25.05.2025").label == "2025-03-03_2025-05-25"
    with pytest.raises(ValueError, match="before it starts"):
        ReportPeriod.parse("2025-05-25:2025-03-03")
    with pytest.raises(ValueError, match="START:END"):
        ReportPeriod.parse("March")


def test_csv_options_refuse_ambiguous_separators():
    with pytest.raises(ValueError, match="decimal comma needs another separator"):
        CsvOptions(separator=",", decimal=",")
    assert CsvOptions().separator == ";"


def test_markdown_and_text_tables():
    frame = pd.DataFrame({"товар": ["A|B", "C"], "доля": [0.012345678, None]})
    md = markdown_table(frame, max_rows=1)
    assert md.splitlines()[:3] == ["| товар | доля |", "| --- | --- |", "| A\\|B | 0.01235 |"]
    assert "1 more rows" in md
    assert markdown_table(frame.iloc[0:0]) == "_(no rows)_"
    text = text_table(frame)
    assert text.splitlines()[0].startswith("товар") and "0.01235" in text
