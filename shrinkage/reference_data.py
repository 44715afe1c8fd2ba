"""Reference data files (surplus specifications, priority periods, product-type keywords).

People keep these in Excel or CSV, with Russian or English headers. This module reads such
a file and validates every row with pure functions; it never writes. A file is all or
nothing: :class:`ReferenceImportError` lists every problem with its file, row and column
and what to write instead, and nothing is stored (``shrinkage.app.reference`` writes).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from shrinkage.config import CONFIG
from shrinkage.db.services import normalize_name
from shrinkage.products import KeywordError, parse_keyword

KINDS = ("surplus-specifications", "priority-periods", "product-type-keywords")
MAX_PROBLEMS_SHOWN = 30
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYWORD_SPLIT = re.compile(r"[,;|]")
KEYWORD_SYNTAX = ("ВЯЛ finds words that start with it, !СЫР only that word, ~ФИЛЕ counts only when neither "
                  "the rest of the name nor the product group names a type")


@dataclass(frozen=True)
class Problem:
    row: int | None  # row number as the spreadsheet shows it (header = 1)
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(filter(None, [f"row {self.row}" if self.row else None,
                                        f"column '{self.column}'" if self.column else None]))
        return f"{where}: {self.message}" if where else self.message


class ReferenceImportError(ValueError):
    """A reference file that cannot be imported; nothing from it was stored."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = [f"{source}: {len(problems)} problem(s), nothing was imported:"]
        lines += [f"  {p}" for p in shown]
        if more:
            lines.append(f"  … and {more} more")
        lines.append("Fix these rows and import the file again.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Field:
    name: str
    aliases: tuple[str, ...]
    parse: Callable[[Any], Any]
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class ParsedFile:
    kind: str
    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # each has "row": its line number


# --- value parsers: raise ValueError with a message that says what to write ----------------

def parse_number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if pd.isna(value):
            raise ValueError("is empty: write a number")
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").rstrip("%").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a number: write it like 5 or 5,5") from None


def parse_int(value: Any) -> int:
    number = parse_number(value)
    if number != int(number):
        raise ValueError(f"'{value}' is not a whole number: write e.g. 1, 2 or 3")
    return int(number)


_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                 "%d.%m.%Y %H:%M")


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date: write it as DD.MM.YYYY (e.g. 01.03.2025) or YYYY-MM-DD")


_TRUE = {"да", "yes", "true", "1", "+", "y", "д", "истина"}
_FALSE = {"нет", "no", "false", "0", "-", "n", "н", "ложь"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{value}' is not yes/no: write да or нет")


def parse_text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def parse_keywords(value: Any) -> tuple[str, ...]:
    words = tuple(w.strip().upper() for w in _KEYWORD_SPLIT.split(str(value)) if w.strip())
    if not words:
        raise ValueError("lists no keywords: write them separated by commas, e.g. ВЯЛ, СУШ")
    return words


FIELDS: dict[str, tuple[Field, ...]] = {
    "surplus-specifications": (
        Field("product", ("product", "nomenclature", "номенклатура", "товар", "наименование"), parse_text),
        Field("surplus_percentage", ("surplus_percentage", "surplus_percent", "percent", "процент излишка",
                                     "излишек", "излишек %", "процент"), parse_number),
        Field("specification_start_date", ("specification_start_date", "start", "start_date", "дата начала",
                                           "начало", "с"), parse_datetime),
        Field("specification_end_date", ("specification_end_date", "end", "end_date", "дата окончания",
                                         "окончание", "по"), parse_datetime, required=False),
        Field("is_active", ("is_active", "active", "активна", "активно", "действует"), parse_bool,
              required=False, default=True),
        Field("notes", ("notes", "note", "примечание", "комментарий"), parse_text, required=False),
        Field("created_by", ("created_by", "author", "автор"), parse_text, required=False),
    ),
    "priority-periods": (
        Field("period_start", ("period_start", "start", "начало", "дата начала", "с"), parse_datetime),
        Field("period_end", ("period_end", "end", "конец", "окончание", "дата окончания", "по"), parse_datetime),
        Field("priority_level", ("priority_level", "priority", "приоритет", "уровень"), parse_int),
        Field("description", ("description", "описание", "комментарий"), parse_text, required=False),
        Field("active", ("active", "is_active", "активен", "действует"), parse_bool, required=False, default=True),
        Field("created_by", ("created_by", "author", "автор"), parse_text, required=False),
    ),
    "product-type-keywords": (
        Field("product_type", ("product_type", "type", "тип", "тип продукции"), parse_text),
        Field("product_type_code", ("product_type_code", "code", "код"), parse_text),
        Field("keywords", ("keywords", "ключевые слова", "слова"), parse_keywords),
    ),
}


def _header_key(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower().replace("ё", "е").rstrip(":")


def read_table(path: Path) -> pd.DataFrame:
    """The file's first sheet / the CSV as a frame of raw values (header row = row 1)."""
    if not path.is_file():
        raise ReferenceImportError(str(path), [Problem(None, None, "file not found: check the path")])
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
        if suffix == ".xls":
            return pd.read_excel(path, sheet_name=0, dtype=object, engine="calamine")
        if suffix in (".csv", ".txt"):
            return _read_csv(path)
    except ReferenceImportError:
        raise
    except (ValueError, OSError, KeyError) as exc:
        raise ReferenceImportError(str(path), [Problem(None, None, f"cannot be read ({exc}); save it "
                                                                   "again as .xlsx or UTF-8 .csv")]) from None
    raise ReferenceImportError(str(path), [Problem(None, None, f"'{suffix}' files are not supported: "
                                                               "use .csv, .xlsx or .xls")])


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.splitlines()[0] if text else ""
    separator = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(text.splitlines(), delimiter=separator)
    lines = list(reader)
    if not lines:
        return pd.DataFrame()
    header, body = lines[0], lines[1:]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in body]
    return pd.DataFrame(body, columns=header, dtype=object)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (
        isinstance(value, str) and not value.strip()) or value is pd.NaT


def parse_file(kind: str, path: Path) -> ParsedFile:
    """Read and validate a reference file; ReferenceImportError if any row is wrong."""
    if kind not in FIELDS:
        raise ValueError(f"unknown reference data kind '{kind}': use one of {', '.join(KINDS)}")
    frame = read_table(path)
    return parse_frame(kind, frame, str(path))


def parse_frame(kind: str, frame: pd.DataFrame, source: str) -> ParsedFile:
    fields = FIELDS[kind]
    problems: list[Problem] = []
    columns = {_header_key(c): c for c in frame.columns}
    mapping: dict[str, Any] = {}
    for spec in fields:
        found = next((columns[a] for a in spec.aliases if a in columns), None)
        if found is not None:
            mapping[spec.name] = found
        elif spec.required:
            problems.append(Problem(1, None, f"no column for '{spec.name}': add a header named one of "
                                             f"{', '.join(repr(a) for a in spec.aliases[:4])}"))
    if problems:
        raise ReferenceImportError(source, problems)
    rows = []
    for index, values in enumerate(frame.to_dict("records")):
        line = index + 2
        if all(_blank(v) for v in values.values()):
            continue
        row: dict[str, Any] = {"row": line}
        for spec in fields:
            column = mapping.get(spec.name)
            value = values.get(column) if column is not None else None
            if _blank(value):
                if spec.required:
                    problems.append(Problem(line, str(column), f"is empty: fill in {spec.name}"))
                row[spec.name] = spec.default
                continue
            try:
                row[spec.name] = spec.parse(value)
            except ValueError as exc:
                problems.append(Problem(line, str(column), str(exc)))
        rows.append(row)
    if not rows and not problems:
        problems.append(Problem(None, None, "has a header but no data rows"))
    problems += ROW_CHECKS[kind](rows, mapping)
    if problems:
        raise ReferenceImportError(source, problems)
    return ParsedFile(kind, source, rows)


def _duplicates(rows: list[dict], key: Callable[[dict], Any], what: str) -> list[Problem]:
    seen: dict[Any, int] = {}
    problems = []
    for row in rows:
        try:
            k = key(row)
        except (KeyError, TypeError, AttributeError):
            continue
        if k in seen:
            problems.append(Problem(row["row"], None, f"repeats {what} of row {seen[k]}: keep one of them"))
        else:
            seen[k] = row["row"]
    return problems


def _check_specifications(rows: list[dict], mapping: dict) -> list[Problem]:
    limit = CONFIG.reports.max_surplus_percentage
    problems = []
    for row in rows:
        pct = row.get("surplus_percentage")
        if isinstance(pct, float) and not 0 <= pct <= limit:
            problems.append(Problem(row["row"], mapping.get("surplus_percentage"),
                                    f"{pct:g} % is outside 0..{limit:g} %: write the percentage "
                                    "(5 means 5 %), not a fraction or a typo"))
        start, end = row.get("specification_start_date"), row.get("specification_end_date")
        if isinstance(start, datetime) and isinstance(end, datetime) and end < start:
            problems.append(Problem(row["row"], mapping.get("specification_end_date"),
                                    f"ends {end:%d.%m.%Y} before it starts {start:%d.%m.%Y}: swap the dates"))
    return problems + _duplicates(
        rows, lambda r: (normalize_name(r["product"]), r["specification_start_date"]),
        "the product and start date")


def _check_periods(rows: list[dict], mapping: dict) -> list[Problem]:
    problems = []
    for row in rows:
        start, end = row.get("period_start"), row.get("period_end")
        if isinstance(start, datetime) and isinstance(end, datetime) and end < start:
            problems.append(Problem(row["row"], mapping.get("period_end"),
                                    f"ends {end:%d.%m.%Y} before it starts {start:%d.%m.%Y}: swap the dates"))
        level = row.get("priority_level")
        if isinstance(level, int) and level < 0:
            problems.append(Problem(row["row"], mapping.get("priority_level"),
                                    f"priority {level} is negative: use 0 or more"))
    return problems + _duplicates(rows, lambda r: (r["period_start"], r["period_end"]), "the period")


def _check_keywords(rows: list[dict], mapping: dict) -> list[Problem]:
    problems = []
    owner: dict[str, tuple[str, int]] = {}
    for row in rows:
        ptype = row.get("product_type")
        if isinstance(ptype, str) and not _TYPE_NAME.match(ptype):
            problems.append(Problem(row["row"], mapping.get("product_type"),
                                    f"'{ptype}' is not a type name: use lower-case latin letters, digits "
                                    "and _ (e.g. hot_smoked)"))
        code = row.get("product_type_code")
        if isinstance(code, str) and len(code) > 16:
            problems.append(Problem(row["row"], mapping.get("product_type_code"),
                                    f"code '{code}' is longer than 16 characters: shorten it"))
        for text in row.get("keywords") or ():
            try:
                word = parse_keyword(text).word
            except KeywordError as exc:
                problems.append(Problem(row["row"], mapping.get("keywords"), f"{exc} ({KEYWORD_SYNTAX})"))
                continue
            if word in owner and owner[word][0] != ptype:
                problems.append(Problem(row["row"], mapping.get("keywords"),
                                        f"keyword '{text}' is already used for '{owner[word][0]}' in row "
                                        f"{owner[word][1]}: a keyword can name one type only"))
            owner.setdefault(word, (ptype, row["row"]))
    return problems + _duplicates(rows, lambda r: r["product_type"], "the product type")


ROW_CHECKS = {
    "surplus-specifications": _check_specifications,
    "priority-periods": _check_periods,
    "product-type-keywords": _check_keywords,
}


def keyword_table(parsed: ParsedFile) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The classifier's keyword table from a parsed keywords file (file order = match order)."""
    return tuple((r["product_type"], r["product_type_code"], r["keywords"]) for r in parsed.rows)
