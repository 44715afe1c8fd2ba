"""The benchmark-sized statement: one file with at least the requested number of data rows."""

from __future__ import annotations

import pytest

from shrinkage.demo.writer import HEADER_ROWS, write_large_statement
from tests.demo_helpers import BATCH_TEXT, DOCUMENT_TEXT, kg, read_sheet


def _check(path, target: int) -> int:
    rows = read_sheet(path)
    data = rows[HEADER_ROWS:]
    assert data[-1][0] == "Итого" and data[-1][4:] == data[0][4:]
    documents = sum(bool(DOCUMENT_TEXT.match(r[0])) for r in data)
    batches = sum(bool(BATCH_TEXT.match(r[0])) for r in data)
    assert documents and batches > documents
    assert all(round(kg(r[4]) + kg(r[6]) - kg(r[7]), 3) == round(kg(r[8]), 3) for r in data)
    assert len(data) >= target
    return len(data)


def test_large_statement_reaches_the_target(tmp_path):
    path = tmp_path / "large.xlsx"
    written = write_large_statement(path, 3_000, seed=4)
    assert written == _check(path, 3_000)
    assert "Период: 03.03.2025 - 01.06.2025" in read_sheet(path)[2]  # one quarter in one statement


@pytest.mark.slow
def test_benchmark_sized_statement(tmp_path):
    path = tmp_path / "large.xlsx"
    written = write_large_statement(path, 200_000)
    assert written == _check(path, 200_000)
