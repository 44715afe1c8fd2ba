"""CRUD for every entity through the one generic mechanism, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from shrinkage.db import models as m
from shrinkage.db.services import Crud, DatabaseService, NotFound

ENTITIES = [*m.CONTRACT_TABLES.values(), m.BatchMovement]
# Parents the generic rows may need beyond the entities under test.
PARENTS = [*ENTITIES, m.Warehouse]
# Values a generic row cannot guess (allowed sets).
OVERRIDES = {"severity_level": "low", "status": "success"}


def minimal_values(crud: Crud, model: type[m.Base]) -> dict:
    """Values for every required column, creating required parents on the way."""
    values = {}
    for key in model.__table__.foreign_key_constraints:  # a composite key: one parent supplies every column
        if len(key.elements) > 1:
            parent_model = next(cls for cls in PARENTS if cls.__tablename__ == key.referred_table.name)
            parent = crud.create(parent_model, **minimal_values(crud, parent_model))
            for element in key.elements:
                values[element.parent.name] = getattr(parent, element.column.name)
    for column in model.__table__.c:
        if column.name in values:
            continue
        if column.primary_key or column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.foreign_keys:
            parent_table = next(iter(column.foreign_keys)).column.table.name
            parent = next(cls for cls in PARENTS if cls.__tablename__ == parent_table)
            values[column.name] = crud.create(parent, **minimal_values(crud, parent)).id
        elif column.name in OVERRIDES:
            values[column.name] = OVERRIDES[column.name]
        elif isinstance(column.type, sa.String):
            values[column.name] = f"{column.name}-{uuid.uuid4().hex[:8]}"
        elif isinstance(column.type, sa.Float):
            values[column.name] = 1.5
        elif isinstance(column.type, sa.Integer):
            values[column.name] = 3
        elif isinstance(column.type, sa.DateTime):
            values[column.name] = datetime(2025, 3, 9, 22, 30)
        elif isinstance(column.type, sa.Boolean):
            values[column.name] = False
        else:  # pragma: no cover - a new column type needs a value here
            raise AssertionError(f"no test value for {model.__tablename__}.{column.name}")
    return values


def _editable_column(model):
    """A nullable column the test can change and filter on."""
    for column in model.__table__.c:
        if column.nullable and not column.foreign_keys and isinstance(column.type, (sa.String, sa.Text)):
            return column.name, "edited"
    for column in model.__table__.c:
        if column.nullable and not column.foreign_keys and isinstance(column.type, sa.Float):
            return column.name, 0.25
    raise AssertionError(model.__tablename__)


@pytest.mark.parametrize("model", ENTITIES, ids=[e.__tablename__ for e in ENTITIES])
def test_crud_every_entity(service: DatabaseService, model):
    with service.transaction() as crud:
        row = crud.create(model, **minimal_values(crud, model))
        row_id = row.id
    assert service.get(model, row_id) is not None
    assert row.created_at is not None and row.updated_at is not None

    column, value = _editable_column(model)
    updated = service.update(model, row_id, **{column: value})
    assert getattr(updated, column) == value
    page = service.list(model, filters={column: value})
    assert page.total == 1 and page.items[0].id == row_id

    assert service.delete(model, row_id) is True
    assert service.get(model, row_id) is None
    assert service.delete(model, row_id) is False
    with pytest.raises(NotFound):
        service.update(model, row_id, **{column: value})


def test_list_filters_order_and_pagination(service):
    service.bulk_insert(m.Model, [
        {"name": f"family-{i:02d}", "model_type": "curve" if i % 2 else "baseline", "version": str(i)}
        for i in range(25)
    ])
    page = service.list(m.Model, filters={"model_type": "curve"}, order_by="-name", page=2, page_size=5)
    assert page.total == 12 and page.pages == 3
    assert [r.name for r in page.items] == ["family-13", "family-11", "family-09", "family-07", "family-05"]
    assert service.count(m.Model, {"name__like": "family-1%"}) == 10
    assert service.count(m.Model, {"id__in": [1, 2, 3]}) == 3
    assert service.count(m.Model, {"description__isnull": True}) == 25
    with pytest.raises(ValueError, match="no column 'nope'"):
        service.list(m.Model, filters={"nope": 1})
    with pytest.raises(ValueError, match="unknown filter operator"):
        service.list(m.Model, filters={"name__regex": "x"})


def test_a_failing_call_rolls_back_everything(service):
    with pytest.raises(sa.exc.IntegrityError):
        with service.transaction() as crud:
            crud.create(m.SourceData, file_name="a.xls", file_hash="h")
            crud.create(m.SourceData, file_name="b.xls", file_hash="h")  # duplicate hash
    assert service.count(m.SourceData) == 0
    with pytest.raises(sa.exc.IntegrityError):
        service.bulk_insert(m.SourceData, [{"file_name": "a", "file_hash": "x"}, {"file_name": "b", "file_hash": "x"}])
    assert service.count(m.SourceData) == 0


def test_upsert_inserts_then_updates(service):
    rows = [{"file_name": f"f{i}.xls", "file_hash": f"hash{i}", "quality_score": 0.5} for i in range(3)]
    assert service.upsert(m.SourceData, rows, conflict_columns=["file_hash"]) == 3
    rows[1]["quality_score"] = 0.9
    service.upsert(m.SourceData, rows, conflict_columns=["file_hash"])
    assert service.count(m.SourceData) == 3
    scores = {r.file_hash: r.quality_score for r in service.list(m.SourceData).items}
    assert scores == {"hash0": 0.5, "hash1": 0.9, "hash2": 0.5}


def test_delete_where_refuses_an_empty_filter(service):
    with pytest.raises(ValueError, match="at least one filter"):
        service.delete_where(m.SourceData, {})


def test_hostile_names_are_plain_data(service):
    from shrinkage.db.services import get_or_create_nomenclature
    hostile = "'); DROP TABLE nomenclature; --"
    with service.transaction() as crud:
        get_or_create_nomenclature(crud, hostile)
    assert service.list(m.Nomenclature, filters={"name": hostile}).total == 1
    assert service.count(m.Nomenclature, {"name__ilike": "%drop table%"}) == 1


def test_update_or_create(service):
    key = {"name": "linear", "version": "1"}
    assert service.update_or_create(m.Model, key, {"model_type": "curve"}) is True
    assert service.update_or_create(m.Model, key, {"model_type": "curve", "description": "again"}) is False
    rows = service.list(m.Model).items
    assert len(rows) == 1 and rows[0].description == "again"
