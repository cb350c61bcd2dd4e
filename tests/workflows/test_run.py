"""`make run`: the scheduled run picks up the next published month through the checks, and is quiet while none is."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, SAMPLE_SCALE
from tests.conftest import query as read
from tests.workflows.conftest import make, output, python

pytestmark = pytest.mark.slow

TAXI_BY_MONTH = "SELECT strftime(pickup_date, '%Y-%m'), count(*) FROM marts.fct_taxi_trips GROUP BY 1 ORDER BY 1"


def november(out: Path, scale: str = SAMPLE_SCALE) -> Path:
    """Writes the sample 2024-11, the month after the promoted sample, into a mirror folder."""
    command = [sys.executable, "-m", "ingest.sample", "--months", "2024-11", "--scale", scale, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return out


def refused_run(repository: Path, data: Path, mirror: Path) -> str:
    """`make run` of a mirror whose 2024-11 must fail its checks: asserts prod did not change; returns stdout."""
    before = dict(read(data, TAXI_BY_MONTH))
    refused = make(repository, data, "run", f"MIRROR={mirror}")
    assert refused.returncode != 0, output(refused)
    assert "NOT RUN: the checks failed on 2024-11" in refused.stdout, output(refused)
    assert dict(read(data, TAXI_BY_MONTH)) == before
    assert not (data / "run-candidate").exists()
    return refused.stdout


@pytest.fixture(scope="module")
def november_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror that has published 2024-11, the month after the promoted sample."""
    return november(tmp_path_factory.mktemp("mirror-2024-11"))


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


@pytest.fixture(scope="module")
def shrunken_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror whose 2024-11 lost 85% of its trips and rides upstream (a partial publication)."""
    return november(tmp_path_factory.mktemp("mirror-2024-11-shrunken"), f"{float(SAMPLE_SCALE) * 0.15:g}")


def test_a_month_that_lost_most_rows_stays_out_of_prod(repository: Path, data: Path, shrunken_mirror: Path):
    before = dict(read(data, TAXI_BY_MONTH))

    refused = refused_run(repository, data, shrunken_mirror)

    assert re.search(r"FAILED\s+raw volume: a newly landed month", refused), refused
    assert "raw_tlc.yellow_trips | 2024-11-01" in refused  # the failing month, in the check's sample rows
    assert read(data, "SELECT count(*) FROM marts.agg_trips_by_weather_hour WHERE weather_at >= '2024-11-01'") == [(0,)]

    # The landed month cannot reach prod around the gate either: a bare `sqlmesh run` is refused, naming it.
    bare = python(repository, data, "-m", "gateway.lock", "--", str(repository / ".venv/bin/sqlmesh"), "run")
    assert bare.returncode != 0, output(bare)
    assert "have not passed the checks" in bare.stdout + bare.stderr
    assert "raw_tlc.yellow_trips 2024-11" in bare.stdout + bare.stderr
    assert dict(read(data, TAXI_BY_MONTH)) == before

    # A known event is let through explicitly, for that run only, and then stays accepted.
    overridden = make(repository, data, "run", f"MIRROR={shrunken_mirror}", "OVERRIDE=raw_volume_drop_fail_pct=100")
    assert overridden.returncode == 0, output(overridden)
    assert "OVERRIDE raw_volume_drop_fail_pct=100" in overridden.stdout
    assert dict(read(data, TAXI_BY_MONTH))["2024-11"] > 0
    accepted = "SELECT DISTINCT accepted_by FROM gate.accepted_months WHERE source_month = '2024-11-01'"
    assert read(data, accepted) == [("make run 2024-11 OVERRIDE raw_volume_drop_fail_pct=100",)]


@pytest.fixture(scope="module")
def cents_mirror(november_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2024-11 mirror with yellow fares published in cents instead of dollars (an upstream unit change)."""
    out = tmp_path_factory.mktemp("mirror-2024-11-cents")
    shutil.copytree(november_mirror, out, dirs_exist_ok=True)
    path = out / "trip-data" / "yellow_tripdata_2024-11.parquet"
    table = pq.read_table(path)
    fares = pc.multiply(table["fare_amount"], 100)
    pq.write_table(table.set_column(table.schema.get_field_index("fare_amount"), "fare_amount", fares), path)
    return out


def test_fares_switched_to_cents_upstream_stay_out_of_prod(repository: Path, data: Path, cents_mirror: Path):
    refused = refused_run(repository, data, cents_mirror)

    flagged = r"FAILED\s+.*fct_taxi_trips share of trips with a quality flag in a service and month is above 20%"
    assert re.search(flagged, refused), refused
