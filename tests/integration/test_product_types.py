"""Product types in the database: typed by name and group at ingest, listed, corrected, and
the correction sticks through re-ingests and keyword imports (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from shrinkage.app.ingest import ingest_file
from shrinkage.app.reference import import_reference_file
from shrinkage.db.product_types import UnknownProduct, find_product, list_products, set_product_type
from shrinkage.products import UnknownProductType
from shrinkage.reference_data import ReferenceImportError
from tests.sources_helpers import add, batch_statement_grid, write_xlsx

# The last one: a miss to correct.
BREAM, POLLOCK, CROUTONS, BEEF = "ЛЕЩ", "МИНТАЙ", 'ГРЕНКИ "КРАСНАЯ ИКРА"', "МЯСО ВЯЛЕНОЕ"


def static(kg: float) -> tuple[float, float, float, float]:
    return (kg, 0.0, 0.0, kg)


def write_statement(path: Path, scale: float = 1.0) -> Path:
    """Two fish named only by their groups, a snack with a caviar flavour, jerky with a fish word."""
    bream, pollock, croutons, beef = (static(q * scale) for q in (2.0, 3.0, 1.0, 1.5))
    data = [
        ("РЫБА (весовой товар)", *add(bream, pollock)),
        ("ВЯЛЕНАЯ РЫБА (весовой товар)", *bream),
        (BREAM, *bream),
        ("Тушка", *pollock),
        (POLLOCK, *pollock),
        (CROUTONS, *croutons),
        (BEEF, *beef),
    ]
    return write_xlsx(path, batch_statement_grid(data, warehouse_totals=add(bream, pollock, croutons, beef)))


def types(service) -> dict[str, str | None]:
    with service.transaction() as crud:
        return {p.name: p.product_type for p in list_products(crud.session)}


@pytest.fixture
def loaded(engine, service, tmp_path) -> Path:
    path = write_statement(tmp_path / "week.xlsx")
    assert ingest_file(engine, path).status == "loaded"
    return path


def test_ingest_types_by_name_and_by_the_statements_group(service, loaded):
    assert types(service) == {BREAM: "dried", POLLOCK: "frozen", CROUTONS: "other", BEEF: "dried"}


def test_list_by_type_shows_what_fell_through(service, loaded):
    with service.transaction() as crud:
        find_product(crud.session, CROUTONS).product_type = None  # an untyped product counts as other
    with service.transaction() as crud:
        assert [p.name for p in list_products(crud.session, "other")] == [CROUTONS]
        assert [p.name for p in list_products(crud.session, "dried")] == [BREAM, BEEF]
        assert list_products(crud.session, "caviar") == []


def test_a_correction_sticks_across_reingests_and_keyword_imports(engine, service, loaded, tmp_path):
    with service.transaction() as crud:
        change = set_product_type(crud.session, "  мясо   вяленое ", "OTH")
    assert change.changed and (change.name, change.old_type, change.new_type.name) == (BEEF, "dried", "other")
    with service.transaction() as crud:
        assert find_product(crud.session, BEEF).product_type_code == "OTH"

    write_statement(loaded, scale=2.0)  # the same file name, changed content: replaces the load
    assert ingest_file(engine, loaded).status == "replaced"
    assert ingest_file(engine, write_statement(tmp_path / "next week.xlsx", scale=3.0)).status == "loaded"
    assert types(service)[BEEF] == "other"

    keywords = tmp_path / "keywords.csv"
    with keywords.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Тип", "Код", "Ключевые слова"])
        writer.writerow(["other", "OTH", "ГРЕНК, !СЫР"])
        writer.writerow(["dried", "DRY", "ВЯЛ, СУШ"])
        writer.writerow(["frozen", "FRZ", "С/М, ~ФИЛЕ"])
    outcome = import_reference_file(engine, "product-type-keywords", keywords, keywords_file=tmp_path / "kw.json")
    assert outcome.inserted == 3
    # the user's correction and the types the groups gave stay; the name-typed snack follows the table
    assert types(service) == {BREAM: "dried", POLLOCK: "frozen", CROUTONS: "other", BEEF: "other"}


def test_set_type_says_what_is_wrong(service, loaded):
    with service.transaction() as crud:
        with pytest.raises(UnknownProduct, match="'ЛЕЩЬ' is not in the nomenclature: did you mean 'ЛЕЩ'"):
            set_product_type(crud.session, "ЛЕЩЬ", "dried")
        with pytest.raises(UnknownProductType, match="'вяленая' is not a product type: use one of"):
            set_product_type(crud.session, BREAM, "вяленая")
        custom = [("vobla", "VOB", ("ВОБЛ",))]
        assert set_product_type(crud.session, BREAM, "VOB", custom).new_type.name == "vobla"
    assert types(service)[BREAM] == "vobla"


def test_keyword_import_checks_the_extended_syntax(engine, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Тип;Код;Ключевые слова\nfrozen;FRZ;С/М, ~филе\nother;OTH;!!СЫР, ~\ndried;DRY;ВЯЛ, ~ФИЛЕ\n",
                   encoding="utf-8")
    with pytest.raises(ReferenceImportError) as error:
        import_reference_file(engine, "product-type-keywords", bad, keywords_file=tmp_path / "kw.json")
    text = str(error.value)
    assert "row 3" in text and "'!!СЫР' repeats a mark" in text and "'~' has no letters" in text
    assert "row 4" in text and "keyword '~ФИЛЕ' is already used for 'frozen' in row 2" in text
    assert not (tmp_path / "kw.json").exists(), "nothing was stored"
