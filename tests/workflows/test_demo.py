"""`make demo` twice in a row, the second time with one more sample month: both times it ends PROMOTED.

A landed month and a promotion do not depend on each other's order: the second demo lands 2024-10 while prod
serves 2024-09, and `make promote` runs the new month into prod through the checks before it builds dev.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_SCALE
from tests.conftest import query as read
from tests.workflows.conftest import make, output

pytestmark = pytest.mark.slow

TAXI_BY_MONTH = "SELECT strftime(pickup_date, '%Y-%m'), count(*) FROM marts.fct_taxi_trips GROUP BY 1 ORDER BY 1"


def demo(repository: Path, data: Path, months: str):
    """`make demo MONTHS=... SCALE=<the tests' sample scale>` against a data folder."""
    return make(repository, data, "demo", f"MONTHS={months}", f"SCALE={SAMPLE_SCALE}", timeout=1200)


def test_demo_twice_ends_promoted_both_times(repository: Path, tmp_path: Path):
    data = tmp_path / "data"

    first = demo(repository, data, "2024-09")
    assert first.returncode == 0 and "PROMOTED to prod" in first.stdout, output(first)
    assert [month for month, _ in read(data, TAXI_BY_MONTH)] == ["2024-09"]

    second = demo(repository, data, "2024-09:2024-10")
    assert second.returncode == 0 and "PROMOTED to prod" in second.stdout, output(second)
    assert re.search(r"\[gate\] RAN [0-9, -]*2024-10 into prod \(checks passed\)", second.stdout), output(second)
    assert [month for month, _ in read(data, TAXI_BY_MONTH)] == ["2024-09", "2024-10"]

    third = demo(repository, data, "2024-09:2024-10")
    assert third.returncode == 0 and "PROMOTED to prod" in third.stdout, output(third)
