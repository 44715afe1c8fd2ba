"""A throwaway PostgreSQL cluster on loopback for the tests (real server, never a mock).

initdb + pg_ctl from the machine's PostgreSQL 15 binaries; as root the server runs as the
``postgres`` user (PostgreSQL refuses root). Set ``SHRINKAGE_TEST_PG_URL`` to use an
existing server instead (its user must be allowed to CREATE DATABASE).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SUPERUSER_PASSWORD = "pg-" + uuid.uuid4().hex[:12]


def _find_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise RuntimeError(f"PostgreSQL binary '{name}' not found: install postgresql-15 "
                       "(apt-get install postgresql-15) or set SHRINKAGE_TEST_PG_URL")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for the servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    root: Path | None
    port: int
    admin_url: sa.URL
    _run_as: list[str]

    def url_for(self, database: str) -> sa.URL:
        return self.admin_url.set(database=database)

    def create_database(self, name: str | None = None, template: str | None = None) -> sa.URL:
        name = name or "t_" + uuid.uuid4().hex[:10]
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            tmpl = f' TEMPLATE "{template}"' if template else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{tmpl}'))
        engine.dispose()
        return self.url_for(name)

    def stop(self) -> None:
        if self.root is None:
            return
        subprocess.run([*self._run_as, _find_binary("pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_pg_server() -> PgServer:
    existing = os.environ.get("SHRINKAGE_TEST_PG_URL")
    if existing:
        url = sa.make_url(existing)
        return PgServer(None, url.port or 5432, url, [])
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="shrinkage-pg-"))
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    os.chmod(root, 0o700)
    pwfile = root / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD)
    if run_as:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    port = free_port()
    data = root / "data"
    subprocess.run([*run_as, _find_binary("initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale"],
                   check=True, capture_output=True)
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
               "-c shared_preload_libraries=pg_stat_statements")
    result = subprocess.run([*run_as, _find_binary("pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                             "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True)
    if result.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log}")
    url = sa.URL.create("postgresql+psycopg2", username="postgres", password=SUPERUSER_PASSWORD,
                        host="127.0.0.1", port=port, database="postgres")
    return PgServer(root, port, url, run_as)
