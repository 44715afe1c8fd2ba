"""The service layer: one generic CRUD mechanism for every entity, in transactions.

``Crud`` works inside one session (one transaction); ``DatabaseService`` offers the same
operations each in a transaction of its own, and ``DatabaseService.transaction()`` groups
several calls so that a failure rolls back all of them. Entities that need more than CRUD
(nomenclature by normalised name) get small specialised functions at the bottom, not
copies of the mechanism; the registry's single active version lives in ``db.registry``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Table, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shrinkage.db.engine import session_scope
from shrinkage.db.models import Base, Nomenclature

M = TypeVar("M", bound=Base)

MAX_PAGE_SIZE = 1000
_OPERATORS = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "in": lambda c, v: c.in_(list(v)),
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: c.ilike(v),
    "isnull": lambda c, v: c.is_(None) if v else c.is_not(None),
}


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _column(model: type[Base] | Table, name: str) -> ColumnElement:
    table = getattr(model, "__table__", model)  # an ORM class or a plain Table
    if name not in table.c:
        raise ValueError(f"{table.name} has no column '{name}' "
                         f"(columns: {', '.join(table.c.keys())})")
    return table.c[name]


def filter_clauses(model: type[Base] | Table, filters: Mapping[str, Any] | None) -> list[ColumnElement]:
    """``{"name__ilike": "%сельдь%", "id__in": [1, 2]}`` -> SQL clauses (always bound parameters)."""
    clauses = []
    for key, value in (filters or {}).items():
        name, _, op = key.partition("__")
        if (op or "eq") not in _OPERATORS:
            raise ValueError(f"unknown filter operator '{op}' in '{key}' "
                             f"(use one of {', '.join(_OPERATORS)})")
        clauses.append(_OPERATORS[op or "eq"](_column(model, name), value))
    return clauses


def _ordering(model: type[Base], order_by: str | Sequence[str] | None) -> list[ColumnElement]:
    keys = [order_by] if isinstance(order_by, str) else list(order_by or ["id"])
    return [_column(model, k[1:]).desc() if k.startswith("-") else _column(model, k).asc() for k in keys]


class Crud:
    """Generic create / get / list / update / delete / bulk insert / upsert inside one session."""

    def __init__(self, session: Session):
        self.session = session

    def create(self, model: type[M], **values: Any) -> M:
        obj = model(**values)
        self.session.add(obj)
        self.session.flush()
        return obj

    def get(self, model: type[M], id_: int) -> M | None:
        return self.session.get(model, id_)

    def require(self, model: type[M], id_: int) -> M:
        obj = self.get(model, id_)
        if obj is None:
            raise NotFound(f"{model.__tablename__} has no row with id {id_}")
        return obj

    def list(self, model: type[M], *, filters: Mapping[str, Any] | None = None,
             order_by: str | Sequence[str] | None = None, page: int = 1,
             page_size: int = 50) -> Page[M]:
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
        clauses = filter_clauses(model, filters)
        query: Select = select(model).where(*clauses).order_by(*_ordering(model, order_by))
        total = self.session.execute(
            select(func.count()).select_from(model).where(*clauses)
        ).scalar_one()
        items = self.session.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
        return Page(list(items), total, page, page_size)

    def count(self, model: type[Base], filters: Mapping[str, Any] | None = None) -> int:
        return self.session.execute(
            select(func.count()).select_from(model).where(*filter_clauses(model, filters))
        ).scalar_one()

    def update(self, model: type[M], id_: int, **values: Any) -> M:
        obj = self.require(model, id_)
        for key, value in values.items():
            _column(model, key)
            setattr(obj, key, value)
        self.session.flush()
        return obj

    def update_or_create(self, model: type[M], key: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        """Update the row matching ``key`` with ``values``, or create it; True when created."""
        existing = self.session.scalars(select(model).where(*filter_clauses(model, key)).limit(1)).first()
        if existing is None:
            self.create(model, **key, **values)
            return True
        self.update(model, existing.id, **values)
        return False

    def update_where(self, model: type[Base], filters: Mapping[str, Any], **values: Any) -> int:
        for key in values:
            _column(model, key)
        result = self.session.execute(
            update(model).where(*filter_clauses(model, filters)).values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    def delete(self, model: type[Base], id_: int) -> bool:
        result = self.session.execute(delete(model).where(_column(model, "id") == id_))
        return bool(result.rowcount)

    def delete_where(self, model: type[Base], filters: Mapping[str, Any]) -> int:
        if not filters:
            raise ValueError("delete_where needs at least one filter (refusing to empty a table)")
        result = self.session.execute(
            delete(model).where(*filter_clauses(model, filters))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    def bulk_insert(self, model: type[Base], rows: Iterable[Mapping[str, Any]],
                    chunk_size: int = 5000) -> int:
        """executemany in chunks (the PostgreSQL COPY path lives in shrinkage.db.bulk)."""
        total = 0
        chunk: list[Mapping[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                total += self._insert_chunk(model, chunk)
                chunk = []
        if chunk:
            total += self._insert_chunk(model, chunk)
        return total

    def _insert_chunk(self, model: type[Base], chunk: list[Mapping[str, Any]]) -> int:
        self.session.execute(insert(model), chunk)
        return len(chunk)

    def upsert(self, model: type[Base], rows: Sequence[Mapping[str, Any]],
               conflict_columns: Sequence[str], update_columns: Sequence[str] | None = None) -> int:
        """Insert rows, updating ``update_columns`` (default: all given) where the key exists."""
        if not rows:
            return 0
        for name in conflict_columns:
            _column(model, name)
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(f"upsert is not implemented for {dialect}")
        stmt = dialect_insert(model)
        given = update_columns or [k for k in rows[0] if k not in conflict_columns and k != "id"]
        set_ = {name: stmt.excluded[name] for name in given}
        if "updated_at" in model.__table__.c:
            set_["updated_at"] = func.now()
        stmt = (stmt.on_conflict_do_update(index_elements=list(conflict_columns), set_=set_)
                if set_ else stmt.on_conflict_do_nothing(index_elements=list(conflict_columns)))
        self.session.execute(stmt, list(rows))
        return len(rows)


class DatabaseService:
    """Every Crud operation in its own transaction; ``transaction()`` to group several."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Crud]:
        with session_scope(self.engine) as session:
            yield Crud(session)

    def __getattr__(self, name: str) -> Any:
        """``service.create(...)`` etc.: the Crud operation of that name in a transaction of its own."""
        operation = getattr(Crud, name, None)
        if name.startswith("_") or not callable(operation):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

        def in_own_transaction(*args: Any, **kwargs: Any) -> Any:
            with self.transaction() as crud:
                return getattr(crud, name)(*args, **kwargs)

        in_own_transaction.__name__ = name
        in_own_transaction.__doc__ = f"``Crud.{name}`` in a transaction of its own."
        return in_own_transaction


# --- specialised where an entity needs it ------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """The identity of a product name: case-folded, whitespace collapsed, ё -> е."""
    return _WHITESPACE.sub(" ", name.replace("\u00a0", " ")).strip().casefold().replace("ё", "е")


def get_or_create_nomenclature(crud: Crud, name: str, **values: Any) -> Nomenclature:
    key = normalize_name(name)
    found = crud.session.scalars(select(Nomenclature).where(Nomenclature.normalized_name == key)).first()
    if found is not None:
        return found
    return crud.create(Nomenclature, name=_WHITESPACE.sub(" ", name).strip(), normalized_name=key, **values)
