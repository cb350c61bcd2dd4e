"""Answers do not depend on the machine's clock settings: the same mirror built under other TZ values, and a prod
restatement run under one on a warehouse built under another, give the same marts row for row."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_MONTHS, query, run_ingest

MARTS = (
    "fct_taxi_trips",
    "fct_bike_trips",
    "agg_taxi_demand_by_zone_hour",
    "agg_taxi_revenue_by_payment_day",
    "agg_airport_trips_by_day",
    "agg_cbd_congestion_fees_by_day",
    "agg_taxi_vs_bike_by_day",
    "agg_trips_by_weather_hour",
    "agg_row_accounting_by_month",
)


def sqlmesh(data: Path, zone: str, *args: str) -> subprocess.CompletedProcess:
    """Runs sqlmesh with the process time zone set to `zone`."""
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "TZ": zone}
    return subprocess.run(
        [str(Path(sys.executable).parent / "sqlmesh"), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )


def mart_rows(data: Path, schema: str) -> dict[str, list[tuple]]:
    """Every row of every mart of a schema, sorted."""
    return {mart: query(data, f"SELECT * FROM {schema}.{mart} ORDER BY ALL") for mart in MARTS}


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_a_build_under_another_time_zone_gives_the_same_marts(
    built_warehouse: Path, sample_mirror: Path, tmp_path: Path, zone: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    landed = run_ingest(data, "--months", SAMPLE_MONTHS, "--mirror", str(sample_mirror), env={"TZ": zone})
    assert landed.returncode == 0, landed.stderr
    built = sqlmesh(data, zone, "plan", "dev", "--auto-apply", "--no-prompts")
    assert built.returncode == 0, built.stdout + built.stderr
    expected = mart_rows(built_warehouse, "marts")
    assert all(expected.values())
    assert mart_rows(data, "marts__dev") == expected


def test_a_restatement_under_another_time_zone_changes_nothing(built_warehouse: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(built_warehouse, data)
    first_month = SAMPLE_MONTHS.split(":")[0]
    restate = [f"--restate-model={table}" for table in ("raw_tlc.yellow_trips", "raw_tlc.green_trips")]
    restate.append("--restate-model=raw_citibike.trips")
    run = sqlmesh(
        data, "America/New_York", "plan", "prod", *restate, "--start", f"{first_month}-01", "--end",
        f"{first_month}-30", "--auto-apply", "--no-prompts", "--skip-tests",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert mart_rows(data, "marts") == mart_rows(built_warehouse, "marts")
