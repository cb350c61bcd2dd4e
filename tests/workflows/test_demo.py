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

BUSIEST_ZONE_FROM_FACT = """
SELECT zones.zone_name, zones.borough, count(*) AS trips
FROM marts.fct_taxi_trips AS trips JOIN marts.dim_zones AS zones ON zones.zone_id = trips.pickup_zone_id
WHERE zones.is_known_zone GROUP BY ALL ORDER BY trips DESC, zones.zone_name LIMIT 1
"""
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

    # The demo ends with answers from prod; the busiest zone's count agrees with the fact it is aggregated from.
    assert "What prod answers (taxi months 2024-09..2024-10, from the marts):" in third.stdout, output(third)
    zone, borough, trips = read(data, BUSIEST_ZONE_FROM_FACT)[0]
    assert f"Busiest pickup zone       {zone} ({borough}): {trips:,} taxi trips" in third.stdout, output(third)
    assert re.search(r"Bike share of all trips +\d+\.\d%", third.stdout) and "Wettest hour" in third.stdout
