"""`make run`: the scheduled run picks up the next published month, and is quiet while none is published."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_SCALE
from tests.conftest import query as read
from tests.workflows.conftest import make, output

pytestmark = pytest.mark.slow

TAXI_BY_MONTH = "SELECT strftime(pickup_date, '%Y-%m'), count(*) FROM marts.fct_taxi_trips GROUP BY 1 ORDER BY 1"


@pytest.fixture(scope="module")
def november_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror that has published 2024-11, the month after the promoted sample."""
    out = tmp_path_factory.mktemp("mirror-2024-11")
    command = [sys.executable, "-m", "ingest.sample", "--months", "2024-11", "--scale", SAMPLE_SCALE, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return out


def test_run_picks_up_the_next_month_then_waits_for_upstream(repository: Path, data: Path, november_mirror: Path):
    before = dict(read(data, TAXI_BY_MONTH))
    assert set(before) == {"2024-09", "2024-10"}

    first = make(repository, data, "run", f"MIRROR={november_mirror}")

    assert first.returncode == 0, output(first)
    assert "--months 2024-11" in first.stdout
    after = dict(read(data, TAXI_BY_MONTH))
    assert after["2024-11"] > 0
    assert {month: after[month] for month in before} == before
    hours = "SELECT count(*) FROM marts.agg_trips_by_weather_hour WHERE weather_at >= '2024-11-01'"
    assert read(data, hours) == read(data, "SELECT count(*) FROM raw_weather.hourly WHERE source_month = '2024-11-01'")

    second = make(repository, data, "run", f"MIRROR={november_mirror}")

    assert second.returncode == 0, output(second)
    assert "yellow: 2024-12 is not published yet (newest landed: 2024-11)" in second.stdout
    assert dict(read(data, TAXI_BY_MONTH)) == after
