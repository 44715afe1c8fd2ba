"""Helpers of the browser acceptance test: a live `dagster dev` and Debian's headless Chromium.

Playwright drives the machine's own Chromium (``/usr/bin/chromium``): Playwright's browser
download cannot work here, so ``playwright install`` is never needed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.pg_server import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# A test instance: no telemetry, no newsletter prompt over the page.
TEST_INSTANCE_YAML = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"
RUN_STATUSES = ("Queued", "Not started", "Starting", "Started", "Success", "Failure", "Canceling", "Canceled")
TERMINAL_STATUSES = ("Success", "Failure", "Canceled")
_RUN_LINK = re.compile(r"^/runs/([0-9a-f-]{36})$")


@dataclass
class DagsterDev:
    """A `dagster dev` process group (webserver, daemon, code server) on a loopback port."""

    process: subprocess.Popen
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def wait_until_serving(self, timeout: float) -> float:
        """Seconds until /server_info answered; fails with the log tail if it never does."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"dagster dev did not serve {self.base_url}/server_info in {timeout:.0f} s:\n"
                             f"{self.log_tail()}")

    def stop(self) -> None:
        """End the whole process group: dagster dev and every child it started.

        Ctrl-C (SIGINT) is dagster dev's own way to stop; whatever still runs after a grace
        period (the webserver, the daemon, code servers, run workers) is killed with the group.
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@contextmanager
def dagster_dev(dagster_home: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    """`dagster dev -w workspace.yaml` from the project root, in a process group of its own."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(TEST_INSTANCE_YAML, encoding="utf-8")
    port = free_port()
    log_path = dagster_home / "dagster-dev.log"
    dagster = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "dagster"
    command = [str(dagster) if dagster.exists() else "dagster", "dev", "-w", "workspace.yaml",
               "-h", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home)}, start_new_session=True)
    server = DagsterDev(process, f"http://127.0.0.1:{port}", log_path)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium_page(playwright, viewport=(1600, 1000)) -> Iterator:
    """A page of Debian's headless Chromium with a fresh profile, removed afterwards."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
                             ".ci/run does this)")
    profile = tempfile.mkdtemp(prefix="shrinkage-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
        viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_new_run(page, base_url: str, known: set[str], timeout: float) -> str:
    """The id of the newest run on the Runs page that is not in ``known`` (polls the page)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(f"{base_url}/runs")
        page.wait_for_timeout(1_500)
        for link in page.locator("a[href^='/runs/']").all():
            match = _RUN_LINK.match(link.get_attribute("href") or "")
            if match and match.group(1) not in known:
                return match.group(1)
        page.wait_for_timeout(1_500)
    raise AssertionError(f"no new run appeared on the Runs page within {timeout:.0f} s (known: {sorted(known)})")


def run_status(page) -> str | None:
    """The status tag of the open run page ('Started', 'Success', …), or None while it loads."""
    tag = page.get_by_text(re.compile(rf"^({'|'.join(RUN_STATUSES)})$")).first
    try:
        return tag.inner_text(timeout=2_000).strip()
    except PlaywrightTimeout:
        return None


def wait_for_run(page, base_url: str, run_id: str, timeout: float, reload_every: float = 15.0) -> str:
    """Open the run page and poll its status tag until the run ends; returns the final status."""
    page.goto(f"{base_url}/runs/{run_id}")
    deadline = time.monotonic() + timeout
    last_load = time.monotonic()
    status = None
    while time.monotonic() < deadline:
        status = run_status(page)
        if status in TERMINAL_STATUSES:
            return status
        page.wait_for_timeout(1_000)
        if time.monotonic() - last_load > reload_every:  # the page subscribes to updates; reload anyway
            page.reload()
            last_load = time.monotonic()
    raise AssertionError(f"run {run_id} did not finish within {timeout:.0f} s (last status: {status})")
