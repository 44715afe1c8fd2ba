"""The inbox sensor against a real folder and a real (ephemeral) Dagster instance."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import openpyxl
import pytest

from pipelines.definitions import build_definitions
from pipelines.inbox import read_cursor
from pipelines.sensors import inbox_sensor
from resources import DatabaseResource, InboxResource
from resources.inbox import find_source_file, hash_prefix_of, partition_key_for, source_files
from shrinkage.app.ingest import content_hash
from tests.dagster_helpers import demo_statements, set_age

LONG_AGO = 3600.0


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> list[Path]:
    return demo_statements(tmp_path_factory.mktemp("statements") / "reports", weeks=3, products=2)


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(instance, inbox: Path, cursor: str | None = None, **settings):
    """One sensor evaluation, as the daemon would run it (partition requests applied afterwards)."""
    settings.setdefault("min_age_seconds", LONG_AGO)
    resources = {"inbox": InboxResource(path=str(inbox), **settings), "database": DatabaseResource()}
    with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), cursor=cursor,
                                 resources=resources, definitions=build_definitions(resources)) as context:
        result = inbox_sensor.evaluate_tick(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_a_new_complete_file_triggers_exactly_one_run_on_the_second_tick(instance, inbox, statements):
    path = Path(shutil.copy(statements[0], inbox))
    first = tick(instance, inbox)
    assert first.run_requests == []
    assert "still being written" in first.skip_message

    second = tick(instance, inbox, first.cursor)
    digest = content_hash(path)
    assert len(second.run_requests) == 1
    request = second.run_requests[0]
    assert request.run_key == digest
    assert request.partition_key == partition_key_for(path, digest)
    assert "," not in request.partition_key and request.partition_key.endswith(digest[:12])
    assert [list(r.partition_keys) for r in second.dynamic_partitions_requests] == [[request.partition_key]]
    assert instance.get_dynamic_partitions(source_files.name) == [request.partition_key]

    third = tick(instance, inbox, second.cursor)
    assert third.run_requests == []
    # The partition key leads back to the file, by content.
    assert find_source_file(inbox, request.partition_key).file_hash == digest


def test_a_file_still_growing_waits_until_its_size_holds(instance, inbox, statements):
    data = statements[0].read_bytes()
    path = inbox / "arriving.xlsx"
    path.write_bytes(data[: len(data) // 2])
    first = tick(instance, inbox)
    path.write_bytes(data)  # the copy goes on between two polls
    second = tick(instance, inbox, first.cursor)
    assert second.run_requests == []
    assert read_cursor(second.cursor)["arriving.xlsx"].state == "pending"
    third = tick(instance, inbox, second.cursor)
    assert [r.run_key for r in third.run_requests] == [content_hash(path)]


def test_an_old_file_is_taken_on_the_first_tick(instance, inbox, statements):
    path = Path(shutil.copy(statements[0], inbox))
    set_age(path, 600)
    result = tick(instance, inbox, min_age_seconds=120)
    assert [r.run_key for r in result.run_requests] == [content_hash(path)]


def test_the_same_content_renamed_triggers_nothing(instance, inbox, statements):
    original = Path(shutil.copy(statements[0], inbox))
    set_age(original, LONG_AGO * 2)
    first = tick(instance, inbox)
    assert len(first.run_requests) == 1

    renamed = inbox / "копия отчёта.xlsx"
    original.rename(renamed)
    set_age(renamed, LONG_AGO * 2)
    second = tick(instance, inbox, first.cursor)
    assert second.run_requests == [] and not second.dynamic_partitions_requests
    assert "already known" in second.skip_message
    assert read_cursor(second.cursor)["копия отчёта.xlsx"].state == "known"
    assert len(instance.get_dynamic_partitions(source_files.name)) == 1


def test_two_copies_arriving_together_make_one_run(instance, inbox, statements):
    for name in ("a.xlsx", "b.xlsx"):
        set_age(Path(shutil.copy(statements[1], inbox / name)), LONG_AGO * 2)
    result = tick(instance, inbox)
    assert len(result.run_requests) == 1


def test_files_that_are_not_reports_are_skipped_with_a_reason(instance, inbox, statements):
    (inbox / "notes.txt").write_text("call the supplier", encoding="utf-8")
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Прайс-лист"
    workbook.active["B2"] = 12.5
    workbook.save(inbox / "price list.xlsx")
    for path in inbox.iterdir():
        set_age(path, LONG_AGO * 2)

    first = tick(instance, inbox)
    assert first.run_requests == []
    assert "notes.txt: not a report file type ('.txt')" in first.skip_message
    assert "price list.xlsx: not a 1C batch or turnover statement" in first.skip_message
    assert {name: s.state for name, s in read_cursor(first.cursor).items()} == {
        "notes.txt": "skipped", "price list.xlsx": "skipped"}

    # Decided once: the next tick neither re-reads nor re-reports them, and a real report still goes through.
    set_age(Path(shutil.copy(statements[2], inbox)), LONG_AGO * 2)
    second = tick(instance, inbox, first.cursor)
    assert len(second.run_requests) == 1
    assert instance.get_dynamic_partitions(source_files.name) == [second.run_requests[0].partition_key]


def test_work_per_tick_is_bounded(instance, inbox, statements):
    for path in statements:
        set_age(Path(shutil.copy(path, inbox)), LONG_AGO * 2)
    first = tick(instance, inbox, max_files_per_poll=2)
    assert len(first.run_requests) == 2
    assert sum(state.state == "pending" for state in read_cursor(first.cursor).values()) == 1
    second = tick(instance, inbox, first.cursor, max_files_per_poll=2)
    assert len(second.run_requests) == 1
    keys = {r.partition_key for r in [*first.run_requests, *second.run_requests]}
    assert {hash_prefix_of(k) for k in keys} == {content_hash(p)[:12] for p in statements}


def test_a_missing_inbox_folder_is_a_skip_with_a_reason(instance, tmp_path):
    result = tick(instance, tmp_path / "nowhere")
    assert result.run_requests == []
    assert "does not exist" in result.skip_message


def test_partition_keys_are_readable_and_safe():
    key = partition_key_for(Path("Ведомость, склад 1... (копия).xlsx"), "ab" * 32)
    assert key == "Ведомость_склад_1._копия-abababababab"
    assert hash_prefix_of(key) == "abababababab"
    with pytest.raises(ValueError, match="not a source file partition key"):
        hash_prefix_of("random")
