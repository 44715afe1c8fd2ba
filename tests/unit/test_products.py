"""The product-type classifier: each rule on its own, and accuracy on real-style assortments."""

from __future__ import annotations

from pathlib import Path

import pytest

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS
from shrinkage.products import (
    DEFAULT,
    GROUP,
    NAME,
    NAME_WEAK,
    USER,
    KeywordError,
    UnknownProductType,
    canonical,
    classify,
    group_names,
    parse_keyword,
    product_types,
    reclassified,
    resolve_type,
)

LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "product_types"
MIN_ACCURACY = 0.95


def load_list(name: str) -> list[tuple[str, str, str]]:
    """(name, group path, expected type) rows of a committed list (format: its README.md)."""
    rows = []
    for line in (LISTS / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        product, rest = line.split(" | ", 1)
        group, expected = rest.rsplit(" | ", 1)
        rows.append((product, group.strip(), expected.strip()))
    return rows


@pytest.mark.parametrize("list_name", ["dev.txt", "holdout.txt", "holdout2.txt"])
def test_accuracy_on_real_style_assortments(list_name):
    rows = load_list(list_name)
    assert len(rows) >= 100 and {t for *_, t in rows} >= set(product_types()), "every type is represented"
    wrong = []
    for name, group, expected in rows:
        got = classify(name, group)
        if got.name != expected:
            wrong.append(f"  {name!r} [{group}]: expected {expected}, got {got.name} ({got.reason})")
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= MIN_ACCURACY, f"{list_name}: {accuracy:.1%} right, misclassified:\n" + "\n".join(wrong)


def test_the_dev_list_is_big_and_half_not_fish():
    rows = load_list("dev.txt")
    assert len(rows) >= 250
    assert sum(t == "other" for *_, t in rows) >= 0.4 * len(rows)
    assert sum(bool(g) for _, g, _ in rows) >= 0.3 * len(rows), "many names come with their group"


@pytest.mark.parametrize("name,expected", [
    ("ВОБЛА ВЯЛЕНАЯ", "dried"),
    ("ЛЕЩ СУШЕНО-ВЯЛЕНЫЙ", "dried"),
    ("СЕЛЬДЬ Х/К", "cold_smoked"),
    ("СКУМБРИЯ ХК  ", "cold_smoked"),
    ("скумбрия холодного копчения", "cold_smoked"),
    ("СКУМБРИЯ Г/К", "hot_smoked"),
    ("ГОРБУША ГОРЯЧЕГО КОПЧЕНИЯ", "hot_smoked"),
    ("ЛЕЩ КОПЧЕНЫЙ", "smoked"),
    ("СЕЛЬДЬ С/С", "salted"),
    ("СЕЛЬДЬ СЛАБОСОЛЕНАЯ", "salted"),
    ("ИКРА ГОРБУШИ СОЛЕНАЯ", "caviar"),
    ("КРЕВЕТКИ С/М 70/90", "seafood"),
    ("МИДИИ В РАКОВИНЕ", "seafood"),
    ("МИНТАЙ С/М Б/Г", "frozen"),
    ("ХЕК ЗАМОРОЖЕННЫЙ", "frozen"),
    ("ФОРЕЛЬ ОХЛ.", "chilled"),
    ("СЕЛЬДЬ ПРЕСЕРВ В МАСЛЕ", "preserves"),
    ('САЛАТ "ОЛИВЬЕ"', "other"),
])
def test_the_plain_keywords(name, expected):
    assert classify(name).name == expected


@pytest.mark.parametrize("name,expected", [
    ("СКУМБРИЯ Г\\К", "hot_smoked"),
    ("СКУМБРИЯ Х\\К", "cold_smoked"),
    ("МИНТАЙ С\\М", "frozen"),
    ("СЕЛЬДЬ С\\С", "salted"),
    ("СЕЛЬДЬ П\\П", "salted"),
    ("САЙДА Б\\Г", "frozen"),
    ("СКУМБРИЯ Х / К", "cold_smoked"),  # spaces around the slash
])
def test_backslash_forms_read_as_slashes(name, expected):
    assert classify(name).name == expected


@pytest.mark.parametrize("name", ["СКУМБРИЯ ХОЛ КОП", "СКУМБРИЯ ХОЛ.КОПЧ.", "СКУМБРИЯ ХОЛ. КОП.", "СКУМБРИЯ Х/К",
                                  "СКУМБРИЯ ХК", "СКУМБРИЯ  ХОЛОДНОГО  КОПЧЕНИЯ"])
def test_cold_smoked_spellings(name):
    assert classify(name).name == "cold_smoked"


@pytest.mark.parametrize("name", ["СЕЛЬДЬ П/П", "КИЛЬКА ПРЯНОГО ПОСОЛА", "ХАМСА ПРЯНАЯ", "СЕЛЬДЬ МАЛОСОЛЬНАЯ"])
def test_spicy_salting_is_salted(name):
    assert classify(name).name == "salted"


@pytest.mark.parametrize("name", ["ГОРБУША Б/Г", "ГОРБУША С/Г", "КЕТА ЗАМ", "НЕРКА Б/Г ЗАМ.", "КИЖУЧ ПБГ",
                                  "СКУМБРИЯ СВЕЖЕМОРОЖЕНАЯ"])
def test_headless_with_head_and_zam_are_frozen(name):
    assert classify(name).name == "frozen"


@pytest.mark.parametrize("name,expected", [
    ("ФИЛЕ МИНТАЯ", "frozen"),
    ("СТЕЙК ЛОСОСЯ", "frozen"),
    ("СТЕЙКИ ТРЕСКИ", "frozen"),
    ("КУБИКИ ЛОСОСЯ", "frozen"),
    ("ТУШКА ЛЕДЯНОЙ РЫБЫ", "frozen"),
    ("ФИЛЕ СЕЛЬДИ Х/К", "cold_smoked"),  # marked otherwise: the mark wins
    ("ФИЛЕ ФОРЕЛИ ОХЛ", "chilled"),
    ("ФОРЕЛЬ С/С ФИЛЕ", "salted"),
    ("ПАЛТУС Х\\К СТЕЙК", "cold_smoked"),
    ("КАЛЬМАР ФИЛЕ", "seafood"),
    ("ФИЛЕ ТРЕСКИ В КЛЯРЕ", "other"),  # semi-finished
])
def test_unmarked_fillets_steaks_cubes_are_frozen(name, expected):
    assert classify(name).name == expected


def test_a_weak_word_names_itself_as_the_reason():
    kind = classify("ФИЛЕ МИНТАЯ")
    assert (kind.source, kind.keyword) == (NAME_WEAK, "~ФИЛЕ") and "ФИЛЕ" in kind.reason


@pytest.mark.parametrize("name,group,expected", [
    ("ВОБЛА", "ВЯЛЕНАЯ РЫБА (весовой товар)", "dried"),
    ("ПЛОТВА", "СУШКА", "dried"),
    ("СКУМБРИЯ 300-500", "Тушка", "frozen"),
    ("ТИЛАПИЯ", "ФИЛЕ", "frozen"),
    ("ХЕК 200-300", "РЫБА (весовой товар) / Тушка", "frozen"),  # the innermost group speaks
    ("ЛЕЩ", "РЫБА ГОРЯЧЕГО КОПЧЕНИЯ", "hot_smoked"),
    ("СЕЛЬДЬ ФИЛЕ В МАСЛЕ", "ПРЕСЕРВЫ (весовой товар)", "preserves"),
    ("ФИЛЕ СЕЛЬДИ", "СОЛЕНАЯ РЫБА (весовой товар)", "salted"),  # the group beats a weak word
    ("ФИЛЕ ЛОСОСЯ", "ОХЛАЖДЕННАЯ РЫБА", "chilled"),
    ("СЕЛЬДЬ Х/К", "СОЛЕНАЯ РЫБА (весовой товар)", "cold_smoked"),  # the name beats the group
    ("ЛЕЩ", "РЫБА (весовой товар)", "other"),  # a group that names no type
])
def test_the_group_is_evidence_when_the_name_has_none(name, group, expected):
    assert classify(name, group).name == expected


def test_group_path_as_string_or_sequence_and_the_reason():
    by_text = classify("ХЕК 200-300", "РЫБА (весовой товар) / Тушка")
    by_tuple = classify("ХЕК 200-300", ("РЫБА (весовой товар)", "Тушка"))
    assert by_text == by_tuple and by_text.source == GROUP and by_text.group == "Тушка"
    assert "Тушка" in by_text.reason
    assert group_names("А / Б / В") == ["В", "Б", "А"] and group_names(None) == [] and group_names(float("nan")) == []
    assert classify("ЛЕЩ", None).name == classify("ЛЕЩ", "").name == "other"


@pytest.mark.parametrize("name", [
    'ГРЕНКИ "КРАСНАЯ ИКРА"',
    "АРАХИС (ХОЛОДЕЦ/ХРЕН)",
    "Гренки ржаные со вкусом камчатский краб",
    "ЧИПСЫ КАЛЬМАРОВЫЕ",
    "ФИСТАШКИ КОПЧЕНЫЕ",
    "ОЛИВКИ С АНЧОУСОМ",
    "МАСЛИНЫ ВЯЛЕНЫЕ",
    "ТОМАТЫ ВЯЛЕНЫЕ",
    "ВЯЛЕНЫЕ ПОМИДОРЫ",
    "СОУС ТАРТАР",
    "САЛАТ ИЗ КАЛЬМАРА",
    "СЫР КОСИЧКА Х/К",
    "СЕМЕЧКИ ЖАРЕНЫЕ СОЛЕНЫЕ",
    "СУШКИ С МАКОМ",  # bread rings, not the dried-fish group СУШКА
    "ИКРА КАБАЧКОВАЯ",
])
def test_flavour_words_do_not_make_a_snack_fish(name):
    for group in ("", "РЫБА (весовой товар) / КОПЧЕНАЯ РЫБА"):  # not even in a fish group
        kind = classify(name, group)
        assert kind.name == "other" and kind.source == NAME, kind.reason


def test_quoted_words_are_flavours_never_evidence():
    kind = classify('ХРУСТЯШКИ "КРАСНАЯ ИКРА"')  # a snack the table does not know
    assert kind.name == "other" and kind.source == DEFAULT


def test_dried_squid_is_dried_and_a_fish_in_quotes_is_a_flavour():
    assert classify("КАЛЬМАР СУШЕНЫЙ").name == "dried"
    assert classify("КАЛЬМАР СТРУЖКА").name == "dried"
    assert classify("КАЛЬМАР ТУШКА С/М").name == "seafood"
    assert classify('СКУМБРИЯ Х/К "ЗОЛОТАЯ"').name == "cold_smoked"
    assert classify('"СКУМБРИЯ Х/К"').name == "cold_smoked", "a name quoted as a whole still counts"
    assert classify('ЛЕЩ "ВЯЛЕНЫЙ"').source == DEFAULT


def test_the_dried_fish_group_sushka_is_not_bread_rings():
    assert classify("ЧЕХОНЬ", "СУШКА").name == "dried"
    assert classify("СУШКИ ВАНИЛЬНЫЕ", "СУШКА").name == "other"


@pytest.mark.parametrize("name,expected", [
    ("ТРЕХКИЛОГРАММОВЫЙ ЯЩИК", "other"),  # "ХК" inside a word
    ("ЛЕЩ ГКЛ", "other"),  # "ГК" at the start of another word
    ("СЕЛЬДЬ ЗАМАРИНОВАННАЯ", "other"),  # "ЗАМ" only as a whole word
    ("АРАХИС (ХОЛОДЕЦ/ХРЕН)", "other"),  # ХОЛОДЕЦ is not ХОЛОДНОГО
    ("ЛЕЩ СЫРОКОПЧЕНЫЙ", "cold_smoked"),  # "СЫР" (cheese) only as a whole word
    ("СЕЛЬДЬ С/С В СОУСЕ", "salted"),  # СОУС as the product, not an ingredient
    ("ЩУКА ВЯЛЕНАЯ С ИКРОЙ", "dried"),  # ИКРА as the product, not "with roe"
    ("ПЛОТВА ВЯЛЕНАЯ ИКРЯНАЯ", "dried"),
])
def test_substring_traps(name, expected):
    assert classify(name).name == expected


@pytest.mark.parametrize("name", ["СКУМБРИЯ  Х/К", " скумбрия х/к ", "СКУМБРИЯ\u00a0Х/К", "СКУМБРИЯ X/K",
                                  "СКУМБРИЯ «ЗОЛОТАЯ» Х/К", "СКУМБРИЯ ""ЗОЛОТАЯ"" Х/К"])
def test_spaces_case_latin_lookalikes_and_quotes(name):
    assert classify(name).name == "cold_smoked"


def test_yo_reads_as_ye():
    assert classify("УГОРЬ КОПЧЁНЫЙ").name == "smoked"
    assert canonical("  Копчёный \\ «лещ»  ") == 'КОПЧЕНЫЙ/"ЛЕЩ"'


def test_table_is_configurable_and_first_match_wins():
    table = [("smoked_special", "SPX", ["ДЫМ"]), ("frozen", "FRZ", ["~ФИЛЕ", "!ЗАМ"])]
    assert classify("ЛЕЩ ДЫМНЫЙ", table=table).name == "smoked_special"
    assert classify("ЛЕЩ", table=table).name == "other"
    assert classify("ФИЛЕ ЛЕЩА ДЫМНОЕ", table=table).name == "smoked_special"
    assert classify("ФИЛЕ ЛЕЩА", table=table).name == "frozen"
    assert classify("ЛЕЩ ЗАМЕС", table=table).name == "other"
    first = [("a", "A", ["ЛЕЩ"]), ("b", "B", ["ЛЕЩ ВЯЛ"])]
    assert classify("ЛЕЩ ВЯЛЕНЫЙ", table=first).name == "a"
    with pytest.raises(TypeError):
        classify("ЛЕЩ", "", table)  # the table is keyword-only: a positional one is a mistake


def test_keyword_syntax():
    assert parse_keyword("ВЯЛ") == parse_keyword("ВЯЛ").__class__("ВЯЛ", "ВЯЛ", False, False)
    assert parse_keyword("!сыр").whole and not parse_keyword("!сыр").weak and parse_keyword("!сыр").word == "СЫР"
    assert parse_keyword("~ФИЛЕ").weak and parse_keyword("~!ФИЛЕ").whole
    assert parse_keyword("Х\\К").word == "Х/К" and parse_keyword("Х\\К").whole
    assert parse_keyword("ГК").whole and not parse_keyword("ГОР КОП").whole
    for bad in ("~", "!!СЫР", "///", '"ИКРА"'):
        with pytest.raises(KeywordError):
            parse_keyword(bad)


def test_the_default_table_parses_and_the_reasons_read():
    for _, _, keywords in DEFAULT_PRODUCT_TYPE_KEYWORDS:
        for keyword in keywords:
            parse_keyword(keyword)
    assert classify("СЕЛЬДЬ Х/К").reason == "в названии есть «Х/К»" and classify("СЕЛЬДЬ Х/К").source == NAME
    assert classify("ЛЕЩ").reason == "ни название, ни группа не указывают тип"


def test_each_product_is_typed_under_its_own_group():
    kinds = {n: classify(n, g).name for n, g in [("ЛЕЩ", "КОПЧЕНАЯ РЫБА (весовой товар)"), ("ВОБЛА ВЯЛЕНАЯ", ())]}
    assert kinds == {"ЛЕЩ": "smoked", "ВОБЛА ВЯЛЕНАЯ": "dried"}


def test_resolve_type_accepts_name_or_code_and_names_the_known_types():
    assert resolve_type("Frozen") == resolve_type("frz") == resolve_type(" FRZ ")
    assert resolve_type("frozen").source == USER and resolve_type("frozen").reason == "тип задан вручную"
    assert resolve_type("other").code == "OTH"
    with pytest.raises(UnknownProductType, match="'вяленая' is not a product type: use one of other .*dried"):
        resolve_type("вяленая")
    assert resolve_type("vobla", [("vobla", "VOB", ["ВОБЛ"])]).code == "VOB"


def test_reclassified_keeps_types_the_name_alone_does_not_explain():
    new_table = [("vobla", "VOB", ["ВОБЛ"]), ("dried", "DRY", ["ВЯЛ"])]
    assert reclassified("ВОБЛА ВЯЛЕНАЯ", "dried", new_table).name == "vobla"  # the name explained it
    assert reclassified("СКУМБРИЯ Х/К", "cold_smoked", new_table).name == "other"  # a type dropped from the table
    assert reclassified("ЛЕЩ", "dried", new_table) is None  # typed by its group: stays
    assert reclassified("ФИЛЕ СЕЛЬДИ", "salted", new_table) is None  # group beat the weak word: stays
    assert reclassified("ГОВЯДИНА ВЯЛЕНАЯ", "frozen", new_table) is None  # a user's correction stays
    assert reclassified("ВОБЛА", None, new_table).name == "vobla"  # no stored type yet
