"""A TimescaleDB test double on loopback: ``node tests/tsdb/server.mjs`` (PGlite + TimescaleDB).

It speaks the PostgreSQL wire protocol, so tests reach it through psycopg2 / SQLAlchemy like
a real server. What differs from a real TimescaleDB server (keep tests inside these lines):

- one client connection at a time (others wait, then fail after 60 s): use ``NullPool`` and
  close connections;
- any user name, database name and password are accepted; every session is user
  ``postgres`` on PGlite's single database, which ``current_database()`` reports as
  ``template1`` (CREATE DATABASE gives no separate connection target);
- no background job scheduler: run policies with ``CALL run_job(job_id)``;
- continuous aggregates need an autocommit connection (as on a real server).

Set ``SHRINKAGE_TEST_TSDB_URL`` to use an existing TimescaleDB server instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

TSDB_PACKAGE_DIR = Path(__file__).resolve().parent / "tsdb"
SERVER_SCRIPT = TSDB_PACKAGE_DIR / "server.mjs"
REQUIRED_MODULE = TSDB_PACKAGE_DIR / "node_modules" / "@unni-craftsman" / "pglite"
READY_PREFIX = "READY "
DEFAULT_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class TsdbServerError(RuntimeError):
    """The TimescaleDB test double could not be started."""


@dataclass
class TsdbServer:
    """A running test double; ``url`` is a SQLAlchemy URL string. Usable as a context manager."""

    url: str
    port: int
    process: subprocess.Popen | None
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the server does not exit within a few seconds."""
        if self._stopped or self.process is None:
            return
        self._stopped = True
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> TsdbServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise TsdbServerError("Node.js (20 or newer) is not on PATH: the TimescaleDB test double "
                              "runs as `node tests/tsdb/server.mjs`. Install Node.js, or set "
                              "SHRINKAGE_TEST_TSDB_URL to a real TimescaleDB server.")
    if not REQUIRED_MODULE.is_dir():
        raise TsdbServerError(f"{REQUIRED_MODULE.parent.parent} is missing: run "
                              "`npm ci --prefix tests/tsdb` from the repository root first.")
    return node


def _ready_port(log_text: str) -> int | None:
    for line in log_text.splitlines():
        if line.startswith(READY_PREFIX):
            fields = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
            return int(fields["port"])
    return None


def start_tsdb_server(workdir: Path, *, data_dir: Path | None = None,
                      timeout: float = DEFAULT_START_TIMEOUT_S) -> TsdbServer:
    """Start the test double and wait until it accepts connections.

    ``workdir`` receives the server's stdout / stderr logs; ``data_dir`` keeps the database
    on disk (reopened if it exists), in memory when None. Raises TsdbServerError with the
    server's stderr if it exits or is not ready within ``timeout`` seconds.
    """
    existing = os.environ.get("SHRINKAGE_TEST_TSDB_URL")
    if existing:
        from sqlalchemy.engine import make_url  # only when asked: keeps this module light

        return TsdbServer(url=existing, port=make_url(existing).port or 5432, process=None)

    node = _node_binary()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    stdout_path = workdir / "tsdb-server.out"
    stderr_path = workdir / "tsdb-server.log"
    command = [node, str(SERVER_SCRIPT), "--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    # Files rather than pipes: nobody has to drain them while the tests run. stdin stays a
    # pipe so the server exits by itself if this process dies without stopping it.
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                                   cwd=TSDB_PACKAGE_DIR)
    server = TsdbServer(url="", port=0, process=process, log_path=stderr_path)

    deadline = time.monotonic() + timeout
    while True:
        port = _ready_port(stdout_path.read_text(errors="replace"))
        if port is not None:
            server.port = port
            server.url = f"postgresql+psycopg2://postgres:postgres@127.0.0.1:{port}/postgres"
            return server
        if process.poll() is not None:
            raise TsdbServerError(f"the TimescaleDB test double exited with code {process.returncode} "
                                  f"before it was ready; its stderr:\n{stderr_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            server.stop()
            raise TsdbServerError(f"the TimescaleDB test double was not ready within {timeout:.0f} s; "
                                  f"its stderr:\n{stderr_path.read_text(errors='replace')}")
        time.sleep(0.05)
