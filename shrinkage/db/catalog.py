"""The tables this project owns, their row counts, and the error every database operation raises.

Rules kept by every operation (backup, copy, archive, stats, roles):

- values always travel as bound parameters (or COPY data); identifiers only come from the
  ORM metadata, the system catalogs or constants, and are quoted by the dialect;
- a password never appears in a command line, a message or a log line: the PostgreSQL
  tools get it through ``PGPASSWORD`` in their own environment, messages go through
  :func:`shrinkage.config.scrub_secrets`;
- anything that changes data runs in one transaction, so a failure leaves nothing half done.

Operations work on whole databases (a dump, a copy between two engines, autocommit DDL), so
unlike the subject modules they take an engine and open what they need themselves.
"""

from __future__ import annotations

from sqlalchemy import Table, func, select
from sqlalchemy.engine import URL, Connection

from shrinkage.config import scrub_secrets
from shrinkage.db.models import Base

TABLES: list[Table] = list(Base.metadata.sorted_tables)  # parents before children


class OpsError(RuntimeError):
    """An operation that cannot go ahead; the message says why and what to do."""


def secret_free(message: str, *urls: URL) -> str:
    return scrub_secrets(message, *[u.password for u in urls if isinstance(u.password, str)])


def quote(connection: Connection, identifier: str) -> str:
    return connection.dialect.identifier_preparer.quote(identifier)


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows per ORM table present in the database (absent tables are left out)."""
    present = set(connection.dialect.get_table_names(connection))
    return {t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in TABLES if t.name in present}


def has_data(connection: Connection) -> bool:
    return any(row_counts(connection).values())


def live_table(name: str) -> Table:
    return Base.metadata.tables[name]
