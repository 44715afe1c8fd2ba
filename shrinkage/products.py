"""Product types from nomenclature names and the statement's product groups.

A pure keyword classifier. The table, its keyword syntax and the order of evidence are
described next to ``DEFAULT_PRODUCT_TYPE_KEYWORDS`` in :mod:`shrinkage.config`, the one place
they live. :func:`classify` returns the type together with what decided it (the keyword,
and whether it came from the name, a group or a weak word), so an analyst can see why a
product got its type (:attr:`ProductType.reason`) and correct it where the rules miss.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, OTHER_PRODUCT_TYPE

KeywordRow = tuple[str, str, Sequence[str]]  # (product_type, product_type_code, keywords)
KeywordTable = Sequence[KeywordRow]
GroupPath = str | Sequence[str]  # the parser's " / "-joined group path, or the groups outermost first

WEAK_MARK = "~"
WHOLE_WORD_MARK = "!"
GROUP_SEPARATOR = " / "

# Where the deciding keyword was found (ProductType.source).
NAME, GROUP, NAME_WEAK, DEFAULT, USER = "name", "group", "name_weak", "default", "user"

_LETTER = r"0-9A-Za-zА-Яа-яЁё"
_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")  # Latin capitals typed for Cyrillic
_QUOTE_CHARS = str.maketrans({c: '"' for c in "«»“”„‟″"})


class KeywordError(ValueError):
    """A keyword of a product-type table that cannot be used; the message says what to write."""


class UnknownProductType(ValueError):
    """A type name that the keyword table does not know; the message lists the known ones."""


@dataclass(frozen=True)
class Keyword:
    text: str  # as written in the table, with its marks
    word: str  # canonical text without the marks (what is searched for)
    whole: bool  # must be a whole word (else: the start of a word)
    weak: bool  # counts only after the name's other words and the groups


@dataclass(frozen=True)
class ProductType:
    name: str
    code: str
    keyword: str | None = None  # the deciding keyword as written in the table
    source: str = DEFAULT  # NAME, GROUP, NAME_WEAK, DEFAULT or USER
    group: str | None = None  # the group that decided, when source is GROUP

    @property
    def reason(self) -> str:
        """Why the product has this type, in the analysts' words."""
        word = parse_keyword(self.keyword).word if self.keyword else ""
        if self.source == NAME:
            return f"в названии есть «{word}»"
        if self.source == GROUP:
            return f"группа «{self.group}» (слово «{word}»)"
        if self.source == NAME_WEAK:
            return f"в названии только «{word}», других признаков ни в названии, ни в группе нет"
        if self.source == USER:
            return "тип задан вручную"
        return "ни название, ни группа не указывают тип"


def canonical(text: str) -> str:
    """Upper case, Ё as Е, Latin look-alikes as Cyrillic, backslash as slash, one space, one kind of quote."""
    text = str(text).replace("\u00a0", " ").upper().replace("Ё", "Е")
    text = text.translate(_LOOKALIKES).translate(_QUOTE_CHARS).replace("\\", "/")
    text = re.sub(r'"+', '"', text)
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_keyword(text: str) -> Keyword:
    """One keyword of the table syntax (see shrinkage.config); KeywordError if unusable."""
    raw = str(text).strip()
    marks = raw[:len(raw) - len(raw.lstrip(WEAK_MARK + WHOLE_WORD_MARK))]
    word = canonical(raw[len(marks):])
    if len(set(marks)) != len(marks):
        raise KeywordError(f"'{raw}' repeats a mark: write {WEAK_MARK} and {WHOLE_WORD_MARK} at most once each")
    if not re.search(f"[{_LETTER}]", word):
        raise KeywordError(f"'{raw}' has no letters: write a word or an abbreviation such as С/М")
    if '"' in word:
        raise KeywordError(f"'{raw}' contains quotes: write the word without them")
    letters = len(re.findall(f"[{_LETTER}]", word))
    whole = WHOLE_WORD_MARK in marks or letters <= 2 or "/" in word
    return Keyword(raw, word, whole, WEAK_MARK in marks)


@dataclass(frozen=True)
class _Rule:
    product_type: str
    code: str
    keyword: Keyword
    pattern: re.Pattern


def _pattern(keyword: Keyword) -> re.Pattern:
    body = r"[\s.]+".join(re.escape(part) for part in keyword.word.split(" "))
    tail = rf"(?![{_LETTER}])" if keyword.whole else ""
    return re.compile(rf"(?<![{_LETTER}]){body}{tail}")


@dataclass(frozen=True)
class _Compiled:
    strong: tuple[_Rule, ...]  # the name (outside quotes)
    weak: tuple[_Rule, ...]  # the name, after the groups
    every: tuple[_Rule, ...]  # groups: all keywords in table order


@lru_cache(maxsize=16)
def _compiled(table: tuple[tuple[str, str, tuple[str, ...]], ...]) -> _Compiled:
    rules = []
    for product_type, code, keywords in table:
        for text in keywords:
            keyword = parse_keyword(text)
            rules.append(_Rule(product_type, code, keyword, _pattern(keyword)))
    return _Compiled(tuple(r for r in rules if not r.keyword.weak), tuple(r for r in rules if r.keyword.weak),
                     tuple(rules))


def _freeze(table: KeywordTable) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((str(name), str(code), tuple(kws)) for name, code, kws in table)


def _unquoted(text: str) -> str:
    """The text outside quotes: quoted words are brands or flavours (a name quoted as a whole is kept)."""
    if text.count('"') == 2 and text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    return re.sub(r'"[^"]*"', " ; ", text)


def group_names(group_path: GroupPath | None) -> list[str]:
    """The product's groups, innermost first (a string is the parser's " / "-joined path)."""
    if group_path is None or (not isinstance(group_path, str) and not isinstance(group_path, Sequence)):
        return []
    parts = group_path.split(GROUP_SEPARATOR) if isinstance(group_path, str) else list(group_path)
    return [p.strip() for p in reversed(parts) if isinstance(p, str) and p.strip()]


def classify(name: str, group_path: GroupPath | None = (), *,
             table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> ProductType:
    """The product type of ``name`` under ``group_path``, with the evidence that decided it.

    Evidence in order, first match wins at each step (rows and keywords in table order): the
    name outside quotes, each group from the innermost out, the name's weak keywords; nothing
    found: other. Words in quotes never decide (flavours and brands: 'ГРЕНКИ "КРАСНАЯ ИКРА"').
    """
    rules = _compiled(_freeze(table))
    outside = _unquoted(canonical(name))
    steps: list[tuple[str, str, tuple[_Rule, ...], str | None]] = [(NAME, outside, rules.strong, None)]
    steps += [(GROUP, canonical(group), rules.every, group) for group in group_names(group_path)]
    steps.append((NAME_WEAK, outside, rules.weak, None))
    for source, text, candidates, group in steps:
        for rule in candidates:
            if rule.pattern.search(text):
                return ProductType(rule.product_type, rule.code, rule.keyword.text, source, group)
    return ProductType(*OTHER_PRODUCT_TYPE)


def reclassified(name: str, stored_type: str | None, table: KeywordTable,
                 previous_table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> ProductType | None:
    """The type a stored product takes under a new keyword table, or None to keep its type.

    The database keeps no group path, so only the name can be re-read. A stored type that the
    name alone does not explain under the previous table came from the product's group or
    from a user's correction, and stays; a type the name explains follows the new table.
    """
    if stored_type and stored_type != classify(name, table=previous_table).name:
        return None
    return classify(name, table=table)


def product_types(table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> dict[str, str]:
    """Every type the table can give, in table order, with its code (``other`` always included)."""
    types = {str(name): str(code) for name, code, _ in table}
    types.setdefault(*OTHER_PRODUCT_TYPE)
    return types


def resolve_type(text: str, table: KeywordTable = DEFAULT_PRODUCT_TYPE_KEYWORDS) -> ProductType:
    """A type a user names (its name or its code, any case) as a manual ProductType."""
    wanted = str(text).strip().casefold()
    for name, code in product_types(table).items():
        if wanted in (name.casefold(), code.casefold()):
            return ProductType(name, code, source=USER)
    known = ", ".join(f"{name} ({code})" for name, code in product_types(table).items())
    raise UnknownProductType(f"'{text}' is not a product type: use one of {known}")
