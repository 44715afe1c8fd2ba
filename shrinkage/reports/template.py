"""Report templates: the layout of a report is data (JSON or YAML), not code.

A template lists sections in order. Each section takes its rows from one *source* (see
``shrinkage.reports.data.SOURCES``), says which outputs carry it (xlsx / csv / pdf), its
title and sheet name, how to sort and cut its rows, and its columns: source field, title,
number format, width and conditional formatting. Built-in templates ship in
``shrinkage/reports/templates/*.json``; a user variant is a file of the same shape passed
by path. Every problem found is reported at once, naming the template, section and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from shrinkage.reports.data import SOURCES, SUMMARY_FIELDS, TABLE_FIELDS
from shrinkage.reports.formats import FORMATS

OUTPUTS = ("xlsx", "csv", "pdf")
# Outputs each source can appear in (curves are charts: no CSV).
SOURCE_OUTPUTS = {source: OUTPUTS for source in SOURCES} | {"curves": ("xlsx", "pdf")}
CELL_OPERATORS = ("between", "notBetween", "equal", "notEqual", "greaterThan", "lessThan",
                  "greaterThanOrEqual", "lessThanOrEqual")
CONDITIONAL_TYPES = ("color_scale", "cell")
SECTION_KEYS = {"id", "source", "title", "sheet", "outputs", "columns", "sort", "limit",
                "data_sheet", "hide_data_sheet", "max_age_days", "max_products_per_type", "note"}
COLUMN_KEYS = {"field", "title", "format", "width", "conditional"}
TEMPLATE_KEYS = {"name", "title", "description", "file_prefix", "product_type_labels", "sections"}
_SHEET_FORBIDDEN = set('[]:*?/\\')


class TemplateError(ValueError):
    """A template that cannot be used; the message lists every problem and where it is."""


@dataclass(frozen=True)
class Conditional:
    type: str
    good: str = "high"  # color_scale: which end is green
    operator: str = "notBetween"  # cell
    values: tuple[float, ...] = ()
    fill: str = "FFC7CE"
    font: str = "9C0006"


@dataclass(frozen=True)
class Column:
    field: str
    title: str
    format: str = "text"
    width: float | None = None
    conditional: Conditional | None = None


@dataclass(frozen=True)
class Section:
    id: str
    source: str
    title: str
    sheet: str
    outputs: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    sort: tuple[str, ...] = ()
    limit: int | None = None
    note: str | None = None
    # curves only
    data_sheet: str = "Данные графиков"
    hide_data_sheet: bool = False
    max_age_days: float | None = None
    max_products_per_type: int | None = None

    def has(self, output: str) -> bool:
        return output in self.outputs


@dataclass(frozen=True)
class ReportTemplate:
    name: str
    title: str
    sections: tuple[Section, ...]
    file_prefix: str = "shrinkage_report"
    description: str = ""
    product_type_labels: dict[str, str] = field(default_factory=dict)
    origin: str = "<built-in>"

    def sections_for(self, output: str) -> list[Section]:
        return [s for s in self.sections if s.has(output)]

    def type_label(self, product_type: str) -> str:
        return self.product_type_labels.get(product_type, product_type)

    def curves_section(self) -> Section | None:
        return next((s for s in self.sections if s.source == "curves"), None)


def builtin_names() -> list[str]:
    folder = resources.files("shrinkage.reports").joinpath("templates")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_template(spec: str | Path | ReportTemplate | None = None) -> ReportTemplate:
    """A template by built-in name ("default", "manager") or from a JSON/YAML file path."""
    if isinstance(spec, ReportTemplate):
        return spec
    spec = "default" if spec is None else spec
    path = Path(spec)
    if isinstance(spec, Path) or path.suffix.lower() in (".json", ".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise TemplateError(f"template file {path} does not exist: give an existing "
                                f".json/.yaml file or a built-in name ({', '.join(builtin_names())})")
        return parse_template(_read_document(path), origin=str(path))
    resource = resources.files("shrinkage.reports").joinpath("templates", f"{spec}.json")
    if not resource.is_file():
        raise TemplateError(f"no built-in report template '{spec}': use one of "
                            f"{', '.join(builtin_names())} or the path of a template file")
    return parse_template(json.loads(resource.read_text(encoding="utf-8")), origin=f"built-in '{spec}'")


def _read_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - pyyaml ships with the dev tools
            raise TemplateError(f"template {path}: reading YAML needs PyYAML (pip install pyyaml), "
                                "or write the template as JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TemplateError(f"template {path} is not valid YAML: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"template {path} is not valid JSON: line {exc.lineno}, "
                            f"column {exc.colno}: {exc.msg}") from None


def fields_of(source: str) -> tuple[str, ...]:
    return SUMMARY_FIELDS if source == "summary" else TABLE_FIELDS.get(source, ())


def parse_template(doc: Any, origin: str = "<template>") -> ReportTemplate:
    """Validate a template document and build it; TemplateError lists every problem."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise TemplateError(f"template {origin}: the document must be an object with 'sections'")
    for key in sorted(set(doc) - TEMPLATE_KEYS):
        problems.append(f"unknown key '{key}' (allowed: {', '.join(sorted(TEMPLATE_KEYS))})")
    raw_sections = doc.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        problems.append("'sections' must be a non-empty list")
        raw_sections = []
    sections = []
    for number, raw in enumerate(raw_sections, start=1):
        section = _parse_section(raw, number, problems)
        if section is not None:
            sections.append(section)
    _check_unique(sections, problems)
    labels = doc.get("product_type_labels", {})
    if not isinstance(labels, dict):
        problems.append("'product_type_labels' must map product types to titles")
        labels = {}
    prefix = str(doc.get("file_prefix", "shrinkage_report"))
    if not prefix or any(ch in prefix for ch in '/\\:*?"<>|'):
        problems.append(f"'file_prefix' {prefix!r} cannot be part of a file name")
    if problems:
        raise TemplateError(f"template {origin} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return ReportTemplate(
        name=str(doc.get("name", origin)), title=str(doc.get("title", "Отчёт по усушке")),
        sections=tuple(sections), file_prefix=prefix, description=str(doc.get("description", "")),
        product_type_labels={str(k): str(v) for k, v in labels.items()}, origin=origin,
    )


def _parse_section(raw: Any, number: int, problems: list[str]) -> Section | None:
    where = f"section #{number}"
    if not isinstance(raw, dict):
        problems.append(f"{where} must be an object")
        return None
    source = raw.get("source", raw.get("id"))
    where = f"section #{number} ('{raw.get('id', source)}')"
    if source not in SOURCES:
        problems.append(f"{where}: unknown section source '{source}' (known: {', '.join(SOURCES)})")
        return None
    for key in sorted(set(raw) - SECTION_KEYS):
        problems.append(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(SECTION_KEYS))})")
    outputs = tuple(raw.get("outputs", SOURCE_OUTPUTS[source]))
    for output in outputs:
        if output not in SOURCE_OUTPUTS[source]:
            problems.append(f"{where}: output '{output}' is not possible for {source} "
                            f"(use {', '.join(SOURCE_OUTPUTS[source])})")
    title = str(raw.get("title", source))
    sheet = str(raw.get("sheet", title))[:31]
    if _SHEET_FORBIDDEN & set(sheet):
        problems.append(f"{where}: sheet name '{sheet}' contains one of [ ] : * ? / \\")
    available = fields_of(source)
    columns = []
    raw_columns = raw.get("columns", [])
    if source != "curves" and not raw_columns:
        problems.append(f"{where}: list at least one column (fields: {', '.join(available)})")
    for index, raw_column in enumerate(raw_columns, start=1):
        column = _parse_column(raw_column, f"{where}, column #{index}", available, source, problems)
        if column is not None:
            columns.append(column)
    sort = tuple(raw.get("sort", ()))
    for key in sort:
        if key.lstrip("-") not in available:
            problems.append(f"{where}: cannot sort by unknown field '{key.lstrip('-')}' "
                            f"(fields of {source}: {', '.join(available)})")
    limit = raw.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        problems.append(f"{where}: 'limit' must be a positive whole number, not {limit!r}")
    return Section(
        id=str(raw.get("id", source)), source=source, title=title, sheet=sheet, outputs=outputs,
        columns=tuple(columns), sort=sort, limit=limit, note=raw.get("note"),
        data_sheet=str(raw.get("data_sheet", "Данные графиков"))[:31],
        hide_data_sheet=bool(raw.get("hide_data_sheet", False)),
        max_age_days=raw.get("max_age_days"), max_products_per_type=raw.get("max_products_per_type"),
    )


def _parse_column(raw: Any, where: str, available: tuple[str, ...], source: str,
                  problems: list[str]) -> Column | None:
    if isinstance(raw, str):
        raw = {"field": raw}
    if not isinstance(raw, dict) or "field" not in raw:
        problems.append(f"{where}: a column needs at least a 'field'")
        return None
    name = raw["field"]
    where = f"{where} ('{name}')"
    for key in sorted(set(raw) - COLUMN_KEYS):
        problems.append(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(COLUMN_KEYS))})")
    if name not in available:
        problems.append(f"{where}: unknown column '{name}' in {source} (fields: {', '.join(available)})")
    fmt = raw.get("format", "text")
    if fmt not in FORMATS:
        problems.append(f"{where}: unknown format '{fmt}' (use one of {', '.join(FORMATS)})")
    width = raw.get("width")
    if width is not None and (not isinstance(width, (int, float)) or not 2 <= width <= 120):
        problems.append(f"{where}: width must be a number of characters between 2 and 120")
    conditional = _parse_conditional(raw.get("conditional"), where, problems)
    return Column(field=name, title=str(raw.get("title", name)), format=fmt, width=width,
                  conditional=conditional)


def _parse_conditional(raw: Any, where: str, problems: list[str]) -> Conditional | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("type") not in CONDITIONAL_TYPES:
        problems.append(f"{where}: conditional needs a type: {', '.join(CONDITIONAL_TYPES)}")
        return None
    if raw["type"] == "color_scale":
        good = raw.get("good", "high")
        if good not in ("high", "low"):
            problems.append(f"{where}: color_scale 'good' must be 'high' or 'low'")
        return Conditional("color_scale", good=good)
    operator = raw.get("operator", "notBetween")
    values = raw.get("values", [])
    if operator not in CELL_OPERATORS:
        problems.append(f"{where}: cell rule operator '{operator}' unknown (use {', '.join(CELL_OPERATORS)})")
    needed = 2 if operator in ("between", "notBetween") else 1
    if not isinstance(values, list) or len(values) != needed or not all(
            isinstance(v, (int, float)) for v in values):
        problems.append(f"{where}: cell rule '{operator}' needs {needed} number(s) in 'values'")
        values = []
    return Conditional("cell", operator=operator, values=tuple(float(v) for v in values),
                       fill=str(raw.get("fill", "FFC7CE")), font=str(raw.get("font", "9C0006")))


def _check_unique(sections: list[Section], problems: list[str]) -> None:
    seen_ids: set[str] = set()
    seen_sheets: set[str] = set()
    for s in sections:
        if s.id in seen_ids:
            problems.append(f"section id '{s.id}' is used twice: give each section its own id")
        seen_ids.add(s.id)
        sheets = [s.sheet] + ([s.data_sheet] if s.source == "curves" else [])
        if s.has("xlsx"):
            for sheet in sheets:
                if sheet.lower() in seen_sheets:
                    problems.append(f"sheet name '{sheet}' is used twice: Excel needs unique sheet names")
                seen_sheets.add(sheet.lower())


def select_rows(frame: pd.DataFrame, section: Section) -> pd.DataFrame:
    """The section's rows: sorted and cut as the template says, only its columns."""
    rows = frame
    if section.sort:
        keys = [k.lstrip("-") for k in section.sort]
        rows = rows.sort_values(keys, ascending=[not k.startswith("-") for k in section.sort],
                                na_position="last", kind="stable")
    if section.limit:
        rows = rows.head(section.limit)
    fields = [c.field for c in section.columns]
    return pd.DataFrame({f: rows[f].to_numpy() if f in rows else [None] * len(rows) for f in fields},
                        columns=fields)
