import pytest

from shrinkage.products import classify


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
    ("ТРЕХКИЛОГРАММОВЫЙ ЯЩИК", "other"),   # "ХК" inside a word does not count
    ("САЛАТ \"ОЛИВЬЕ\"", "other"),
])
def test_classify(name, expected):
    assert classify(name).name == expected


def test_table_is_configurable():
    table = [("smoked_special", "SPX", ["ДЫМ"])]
    assert classify("ЛЕЩ ДЫМНЫЙ", table).name == "smoked_special"
    assert classify("ЛЕЩ", table).name == "other"
