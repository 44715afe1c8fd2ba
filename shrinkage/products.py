"""Product types from nomenclature names: a configurable keyword classifier.

Keywords match case-insensitively at the START of a word (so the stem "ВЯЛ" finds
"ВЯЛЕНАЯ"); short abbreviations ("ХК", "ГК") and ones with a slash ("С/С") must also END
a word, so "ХК" inside another word does not count. First match wins; the default table
checks the most specific types first (caviar, preserves, seafood) so that "ИКРА ... СОЛЕНАЯ"
is caviar and "КРЕВЕТКИ С/М" is seafood.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, OTHER_PRODUCT_TYPE

KeywordTable = Sequence[tuple[str, str, Sequence[str]]]
_LETTER = r"0-9A-Za-zА-Яа-яЁё"


@dataclass(frozen=True)
class ProductType:
    name: str
    code: str
    keyword: str | None = None


def _pattern(keyword: str) -> str:
    escaped = re.escape(keyword)
    whole_word = "/" in keyword or len(keyword) <= 2
    return rf"(?<![{_LETTER}]){escaped}" + (rf"(?![{_LETTER}])" if whole_word else "")


@lru_cache(maxsize=16)
def _compiled(table: tuple[tuple[str, str, tuple[str, ...]], ...]):
    return [(name, code, kw, re.compile(_pattern(kw.upper()))) for name, code, kws in table for kw in kws]


def _freeze(table: KeywordTable) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((name, code, tuple(kws)) for name, code, kws in table)


def classify(name: str, table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> ProductType:
    text = name.upper().replace("Ё", "Е")
    for type_name, code, keyword, pattern in _compiled(_freeze(table)):
        if pattern.search(text):
            return ProductType(type_name, code, keyword)
    return ProductType(*OTHER_PRODUCT_TYPE)
