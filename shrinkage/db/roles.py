"""The owner / application / reporting roles of sql/roles.sql, granted to login users."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import text
from sqlalchemy.engine import Engine

from shrinkage.db.catalog import OpsError, quote
from shrinkage.db.sqlfiles import read_sql

log = logging.getLogger(__name__)

ROLES = {"owner": "shrinkage_owner", "app": "shrinkage_app", "reporting": "shrinkage_reporting"}
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def apply_roles(engine: Engine, members: Mapping[str, Iterable[str]] | None = None) -> None:
    """Create / refresh the three roles of sql/roles.sql and grant them to login users.

    ``members`` maps a role key (owner / app / reporting) to existing login role names.
    Run as a superuser or the database owner; the application itself never needs this.
    """
    if engine.url.get_backend_name() != "postgresql":
        raise OpsError("roles exist on PostgreSQL only; SQLite has no users")
    with engine.begin() as conn:
        conn.exec_driver_sql(read_sql("roles.sql"), execution_options={"no_parameters": True})
        for key, users in (members or {}).items():
            if key not in ROLES:
                raise OpsError(f"unknown role '{key}': use one of {', '.join(ROLES)}")
            for user in users:
                if not _ROLE_NAME.match(user):
                    raise OpsError(f"'{user}' is not a plain role name (letters, digits, _; up to 63)")
                exists_ = conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :u)"),
                                       {"u": user}).scalar_one()
                if not exists_:
                    raise OpsError(f"login role '{user}' does not exist: CREATE ROLE {user} LOGIN first "
                                   "(set its password outside this tool)")
                conn.exec_driver_sql(f"GRANT {ROLES[key]} TO {quote(conn, user)}")
                if key == "owner":  # what the migrator creates must belong to the owner role
                    conn.exec_driver_sql(f"ALTER ROLE {quote(conn, user)} SET role = '{ROLES[key]}'")
    log.info("roles applied: %s", ", ".join(ROLES.values()))
