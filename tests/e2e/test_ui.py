"""Acceptance: a person's path through the Dagster UI, in headless Chromium.

`dagster dev` serves the real code location over a temporary instance, an SQLite application
database and an inbox holding one demo statement whose source_files partition is already
registered (as an earlier inbox-sensor tick leaves it: the sensor then knows the content and
starts nothing, so the run the test launches is the only one). The test sees the asset graph
and the sensors, launches a materialisation of that partition from the UI and waits for the
run to succeed. Screenshots go to test-artifacts/. A run takes ~15-60 s on 2 busy cores
(a worker process per step), hence one run only.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from resources.inbox import partition_key_for, source_files
from shrinkage.app.ingest import content_hash
from tests.dagster_helpers import demo_statements, set_age
from tests.ui_helpers import ARTIFACTS, chromium_page, dagster_dev, wait_for_new_run, wait_for_run

INGESTION_ASSETS = ("parsed_reports", "validated_reports", "source_data", "nomenclature", "calculation_data",
                    "batch_movements", "validation_errors")
STORE_ASSETS = ("coefficients", "forecasts")
AUTOMATIONS = ("inbox_sensor", "lineage_on_success", "lineage_on_failure", "lineage_on_canceled", "nightly_refresh")
CODE_LOCATION = "pipelines.definitions"
INGEST_JOB = "ingest_file_job"


@pytest.mark.slow
def test_ui_shows_the_pipeline_and_materialises_a_source_file(tmp_path):
    started = time.monotonic()
    inbox = tmp_path / "inbox"
    (statement,) = demo_statements(inbox, weeks=1, products=4)
    set_age(statement, 600)  # complete: the sensor identifies it on its first tick (and finds it known)
    env = {"SHRINKAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SHRINKAGE_INBOX": str(inbox),
           "SHRINKAGE_REPORTS": str(tmp_path / "reports")}
    partition = partition_key_for(statement, content_hash(statement))
    register_partition(tmp_path / "dagster_home", partition)
    ARTIFACTS.mkdir(exist_ok=True)
    timings = {}

    with dagster_dev(tmp_path / "dagster_home", env) as dev, sync_playwright() as playwright, \
            chromium_page(playwright) as page:
        base = dev.base_url
        step = "start dagster dev"
        try:
            timings["serving"] = dev.wait_until_serving(timeout=90)

            step = "the catalog lists the assets"
            page.goto(f"{base}/assets")
            for name in (*INGESTION_ASSETS, *STORE_ASSETS):
                expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=45_000)

            step = "Automation lists the sensors and the schedule"
            page.goto(f"{base}/automation")
            for name in AUTOMATIONS:
                expect(page.get_by_text(name, exact=True).first).to_be_visible()

            step = "launch a materialisation of the file's partition from the job page"
            page.goto(f"{base}/locations/{CODE_LOCATION}/jobs/{INGEST_JOB}")
            page.get_by_role("button", name="Materialize all").click()
            dialog = page.get_by_role("dialog").last
            dialog.get_by_role("button", name="All", exact=True).click()
            expect(dialog).to_contain_text(partition)
            dialog.get_by_role("button", name="Launch 1 run", exact=True).click()
            expect(dialog).to_be_hidden()
            timings["launched"] = time.monotonic() - started

            step = "the UI-launched run succeeds"
            ui_run = wait_for_new_run(page, base, known=set(), timeout=30)
            status = wait_for_run(page, base, ui_run, timeout=150)
            page.screenshot(path=ARTIFACTS / "ui_run_success.png")
            assert status == "Success", f"run {ui_run} ended {status}: see test-artifacts/ui_run_success.png"
            timings["ui run done"] = time.monotonic() - started

            step = "the ingestion asset graph shows the materialised partition"
            page.goto(f"{base}/locations/{CODE_LOCATION}/asset-groups/ingestion")
            for name in INGESTION_ASSETS:
                expect(page.get_by_text(name, exact=True).first).to_be_visible()
            expect(page.get_by_text("100% filled").first).to_be_visible(timeout=30_000)
            page.screenshot(path=ARTIFACTS / "ui_asset_graph.png")
        except (AssertionError, PlaywrightError) as exc:
            page.screenshot(path=ARTIFACTS / "ui_failure.png")
            raise AssertionError(
                f"UI acceptance failed at: {step}\n{exc}\nscreenshot: test-artifacts/ui_failure.png\n"
                f"--- dagster dev log (tail) ---\n{dev.log_tail()}") from exc
    print(f"ui acceptance timings (s): {', '.join(f'{k} {v:.1f}' for k, v in timings.items())}, "
          f"total {time.monotonic() - started:.1f}")


def register_partition(dagster_home, partition: str) -> None:
    """The source_files partition of the inbox file, in a fresh instance at ``dagster_home``."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        instance.add_dynamic_partitions(source_files.name, [partition])
    finally:
        instance.dispose()
