"""Cell-level helpers shared by every reader: numbers, names, column letters.

1C exports numbers as real numbers, but files that passed through a clipboard or a
regional-settings round trip hold them as text (``"1 234,567"`` with a comma decimal and
a space, no-break space or narrow no-break space as thousands separator). One parser for
all readers keeps the rules in one place.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time

# C0 control characters other than tab, newline and carriage return: XML 1.0 (so every xlsx
# writer) refuses them, PostgreSQL refuses NUL, a terminal acts on ESC. 1C names never hold them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_THOUSANDS_SEPARATORS = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NotFiniteError(ValueError):
    """A number too large for a float ("1e309") or infinity: a misread cell, never a quantity."""


def parse_quantity(value: object) -> float:
    """A quantity cell as float kg; an empty cell is 0.0.

    Accepts numbers and text with a comma or dot decimal, space / U+00A0 / U+202F
    thousands separators, a Unicode minus and accounting parentheses for negatives.
    Raises ValueError on anything else (NotFiniteError for infinities, "1e309" included, which
    cannot be stored), so the caller can name the row and column.
    """
    cls = value.__class__
    if cls is float:
        if math.isnan(value):
            return 0.0
        if math.isinf(value):
            raise NotFiniteError(f"not a finite number: {value!r}")
        return value
    if cls is int:
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, bool) or isinstance(value, (date, time)):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return parse_quantity(float(value))
    text = str(value).strip()
    if not text:
        return 0.0
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = _THOUSANDS_SEPARATORS.sub("", text).replace("\u2212", "-")
    if "," in text:
        if "." in text:
            raise ValueError(f"ambiguous decimal separators: {value!r}")
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueError(f"not a number: {value!r}")
    number = float(text)
    if math.isinf(number):  # "1e309": beyond any float, not a quantity
        raise NotFiniteError(f"not a finite number: {value!r}")
    return -number if negative else number


def normalize_text(value: object) -> str:
    """Cell text with outer whitespace stripped and inner runs (incl. no-break spaces) collapsed.

    Quotes, slashes and case are kept: they are part of 1C nomenclature names.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    # str.split() splits on every Unicode space, U+00A0 and U+202F included.
    return " ".join(text.split())


def remove_control_characters(text: str) -> str:
    """``text`` without C0 control characters (tab, newline and carriage return stay)."""
    return CONTROL_CHARACTERS.sub("", text)


def column_letter(index: int) -> str:
    """Excel column letter for a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def as_datetime(value: object) -> datetime | None:
    """A cell that a spreadsheet program already turned into a date(-time), else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None
