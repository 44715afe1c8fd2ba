"""The one number parser every reader uses."""

from __future__ import annotations

from datetime import datetime

import pytest

from shrinkage.sources import parse_quantity
from shrinkage.sources.cells import column_letter, normalize_text


@pytest.mark.parametrize("value, expected", [
    (1.5, 1.5),
    (3, 3.0),
    ("", 0.0),
    (None, 0.0),
    ("   ", 0.0),
    ("4,114", 4.114),
    ("4.114", 4.114),
    ("1 234,567", 1234.567),
    ("1\u00a0234,567", 1234.567),
    ("1\u202f234\u202f567,5", 1234567.5),
    ("12 000", 12000.0),
    ("-0,036", -0.036),
    ("\u22120,036", -0.036),
    ("(0,036)", -0.036),
    (" 2000 ", 2000.0),
])
def test_parses_numbers_and_text_numbers(value, expected):
    assert parse_quantity(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", "1,2,3", "1.234,5", "4,1 кг", True, datetime(2025, 3, 1)])
def test_rejects_what_is_not_a_quantity(value):
    with pytest.raises(ValueError):
        parse_quantity(value)


def test_names_keep_quotes_and_slashes_but_not_stray_whitespace():
    assert normalize_text('  СЕЛЬДЬ  "ЗАЛОМ"\u00a0\u00a0Х/К / 1 кг   ') == 'СЕЛЬДЬ "ЗАЛОМ" Х/К / 1 кг'


@pytest.mark.parametrize("index, letter", [(0, "A"), (4, "E"), (25, "Z"), (26, "AA"), (27, "AB")])
def test_column_letters(index, letter):
    assert column_letter(index) == letter
