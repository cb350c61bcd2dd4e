"""Real upstream files all the way to prod: `make ingest` from a mirror of ../shared/fixtures/real, `make promote`.

The expected figures are SQL written here over the fixture files themselves (DuckDB reading the Parquet and CSV),
never over the models: a trip counts when it can be placed in its file's month with its dropoff not before its
pickup, and is neither a void (payment type 6) nor a reversal (negative total); docs/validity_policy.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REAL_FIXTURES, ROOT, query

pytestmark = pytest.mark.skipif(not REAL_FIXTURES.is_dir(), reason="../shared/fixtures/real is not present")

YELLOW = REAL_FIXTURES / "yellow" / "yellow_tripdata_2025-02_sample5000.parquet"
GREEN = REAL_FIXTURES / "green" / "green_tripdata_2023-12.parquet"
WEATHER = REAL_FIXTURES / "openmeteo" / "openmeteo_archive_hourly_nyc_2023.json"
LANDINGS = (
    ("zones", "2025-02"),
    ("yellow", "2025-02"),
    ("green", "2023-12"),
    ("citibike", "2024-03"),
    ("citibike", "2015-10"),
    ("weather", "2023-03"),
    ("weather", "2023-11"),
)


def weather_body(body: dict, first_label: str, last_label: str) -> dict:
    """The part of the real yearly response a one-month request (with a day of padding) would have answered."""
    times = body["hourly"]["time"]
    keep = [index for index, label in enumerate(times) if first_label <= label <= last_label]
    hourly = {name: [values[index] for index in keep] for name, values in body["hourly"].items()}
    return {**body, "hourly": hourly}


@pytest.fixture(scope="module")
def real_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror laid out like upstream, made of the real files (copied to a temporary folder only)."""
    mirror = tmp_path_factory.mktemp("real-mirror")
    for source, target in (
        (YELLOW, "trip-data/yellow_tripdata_2025-02.parquet"),
        (GREEN, "trip-data/green_tripdata_2023-12.parquet"),
        (REAL_FIXTURES / "zones" / "taxi_zone_lookup.csv", "misc/taxi_zone_lookup.csv"),
    ):
        (mirror / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, mirror / target)
    for month, csv in (
        ("202403", "citibike_202403_sample10000.csv"),
        ("201510", "201510-citibike-tripdata_head99.csv"),
    ):
        with zipfile.ZipFile(mirror / f"{month}-citibike-tripdata.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(REAL_FIXTURES / "citibike" / csv, f"{month}-citibike-tripdata_1.csv")
    body = json.loads(WEATHER.read_text())
    (mirror / "v1" / "archive").mkdir(parents=True)
    for month, first, last in (
        ("2023-03", "2023-02-28T00:00", "2023-04-01T23:00"),
        ("2023-11", "2023-10-31T00:00", "2023-12-01T23:00"),
    ):
        (mirror / "v1" / "archive" / f"{month}.json").write_text(json.dumps(weather_body(body, first, last)))
    return mirror


def make(data: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs a make target of the project as a user would, on the given data folder."""
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data)}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def real_prod(real_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Every real file landed with `make ingest`, then `make promote`; returns the data folder and promote's output."""
    data = tmp_path_factory.mktemp("real-prod")
    for source, month in LANDINGS:
        landed = make(data, "ingest", f"SOURCES={source}", f"MONTHS={month}", f"MIRROR={real_mirror}")
        assert landed.returncode == 0, landed.stdout + landed.stderr
    promoted = make(data, "promote")
    return data, promoted.stdout + promoted.stderr


def test_real_files_reach_prod(real_prod: tuple[Path, str]) -> None:
    data, output = real_prod
    assert "PROMOTED" in output, output[-6000:]


TRIP_SQL = """
  SELECT
    COUNT(*) AS trips,
    ROUND(SUM(fare_amount), 2) AS fare,
    ROUND(SUM(tip_amount), 2) AS tip,
    ROUND(SUM(tolls_amount), 2) AS tolls,
    ROUND(SUM({airport_fee}), 2) AS airport_fee,
    ROUND(SUM({cbd_fee}), 2) AS cbd_fee,
    ROUND(SUM(total_amount), 2) AS total
  FROM read_parquet('{path}')
  WHERE {prefix}_pickup_datetime IS NOT NULL AND {prefix}_dropoff_datetime IS NOT NULL
    AND DATE_TRUNC('month', {prefix}_pickup_datetime) = DATE '{month}'
    AND {prefix}_dropoff_datetime >= {prefix}_pickup_datetime
    AND COALESCE(payment_type, -1) <> 6
    AND COALESCE(total_amount, 0) >= 0
"""
FACT_SQL = """
  SELECT COUNT(*), ROUND(SUM(fare_amount), 2), ROUND(SUM(tip_amount), 2), ROUND(SUM(tolls_amount), 2),
    ROUND(SUM(airport_fee_amount), 2), ROUND(SUM(cbd_congestion_fee_amount), 2), ROUND(SUM(total_amount), 2)
  FROM marts.fct_taxi_trips
  WHERE service_type = '{service}' AND DATE_TRUNC('month', pickup_at) = DATE '{month}'
"""


@pytest.mark.parametrize(
    ("service", "path", "prefix", "month", "airport_fee", "cbd_fee"),
    [
        ("yellow", YELLOW, "tpep", "2025-02-01", "COALESCE(Airport_fee, 0)", "COALESCE(cbd_congestion_fee, 0)"),
        ("green", GREEN, "lpep", "2023-12-01", "0", "0"),
    ],
)
def test_fact_equals_sql_over_the_fixture_file(
    real_prod: tuple[Path, str], service: str, path: Path, prefix: str, month: str, airport_fee: str, cbd_fee: str
) -> None:
    data, _ = real_prod
    sql = TRIP_SQL.format(path=path, prefix=prefix, month=month, airport_fee=airport_fee, cbd_fee=cbd_fee)
    expected = duckdb.sql(sql).fetchall()
    facts = query(data, FACT_SQL.format(service=service, month=month))
    assert [tuple(float(value) for value in row) for row in facts] == [
        tuple(float(value) for value in row) for row in expected
    ]


def test_flex_fares_null_payment_types_and_zones_264_265_are_in_the_fact(real_prod: tuple[Path, str]) -> None:
    data, _ = real_prod
    flex = query(
        data,
        "SELECT count(*), sum(total_amount) FROM marts.fct_taxi_trips "
        "WHERE service_type = 'yellow' AND payment_type_id = 0",
    )
    assert flex[0][0] == 1125 and float(flex[0][1]) == 23327.95
    unpaid = query(
        data, "SELECT count(*) FROM marts.fct_taxi_trips WHERE service_type = 'green' AND payment_type_id IS NULL"
    )
    # 4,912 green rows have no payment type; 3 of them are reversals (negative totals), the rest are trips.
    expected = duckdb.sql(f"SELECT count(*) FROM '{GREEN}' WHERE payment_type IS NULL AND total_amount >= 0").fetchall()
    assert unpaid == expected == [(4909,)]
    zones = query(
        data,
        "SELECT count(*) FROM marts.fct_taxi_trips WHERE service_type = 'green' "
        "AND (pickup_zone_id IN (264, 265) OR dropoff_zone_id IN (264, 265))",
    )
    # 745 raw green rows touch 264/265; those of them that are trips (not strays or reversals) are in the fact.
    usable = TRIP_SQL.format(path=GREEN, prefix="lpep", month="2023-12-01", airport_fee="0", cbd_fee="0")
    expected = duckdb.sql(
        f"SELECT trips FROM ({usable} AND (PULocationID IN (264, 265) OR DOLocationID IN (264, 265)))"
    ).fetchall()
    assert zones == expected and 700 < zones[0][0] <= 745
    longest = query(
        data,
        "SELECT max(trip_distance_miles), bool_and(NOT is_plausible) FROM marts.fct_taxi_trips "
        "WHERE trip_distance_miles > 200",
    )
    assert longest[0][0] > 35000 and longest[0][1] is True


@pytest.mark.parametrize(
    ("service", "month", "raw_table"),
    [
        ("yellow", "2025-02-01", "raw_tlc.yellow_trips"),
        ("green", "2023-12-01", "raw_tlc.green_trips"),
        ("citibike", "2024-03-01", "raw_citibike.trips"),
        ("citibike", "2015-10-01", "raw_citibike.trips"),
    ],
)
def test_row_accounting_adds_up_to_raw(real_prod: tuple[Path, str], service: str, month: str, raw_table: str) -> None:
    data, _ = real_prod
    accounted = query(
        data,
        f"SELECT sum(rows), round(sum(total_amount), 2) FROM marts.agg_row_accounting_by_month "
        f"WHERE service_type = '{service}' AND source_month = DATE '{month}'",
    )
    amount = "round(sum(total_amount), 2)" if service != "citibike" else "NULL"
    raw = query(data, f"SELECT count(*), {amount} FROM {raw_table} WHERE source_month = DATE '{month}'")
    assert accounted[0][0] == raw[0][0] and accounted[0][0] > 0
    assert (accounted[0][1] is None) == (raw[0][1] is None)
    if raw[0][1] is not None:
        assert float(accounted[0][1]) == float(raw[0][1])


def test_rides_without_a_dock_or_of_a_day_stay_in_the_fact(real_prod: tuple[Path, str]) -> None:
    data, _ = real_prod
    rides = query(
        data,
        "SELECT count(*), count(*) FILTER (WHERE start_station_id IS NULL), "
        "count(*) FILTER (WHERE end_station_id IS NULL), count(*) FILTER (WHERE has_implausible_duration) "
        "FROM marts.fct_bike_trips WHERE started_at >= DATE '2024-03-01'",
    )
    assert rides == [(10000, 15, 33, 7)]


@pytest.mark.parametrize(("day", "hours"), [("2023-03-12", 23), ("2023-11-05", 25), ("2023-03-13", 24)])
def test_weather_has_the_hours_of_the_new_york_day(real_prod: tuple[Path, str], day: str, hours: int) -> None:
    data, _ = real_prod
    rows = query(
        data,
        f"SELECT count(*), count(DISTINCT weather_at_utc) FROM staging.stg_weather__hourly "
        f"WHERE CAST(weather_at AS DATE) = DATE '{day}'",
    )
    assert rows == [(hours, hours)]
