"""Real upstream files (../shared/fixtures/real) land through the same code as the sample mirror."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REAL_FIXTURES, query, run_ingest

pytestmark = pytest.mark.skipif(not REAL_FIXTURES.is_dir(), reason="../shared/fixtures/real is not present")


@pytest.fixture(scope="module")
def real_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror laid out like upstream, made of the real files (copied to a temporary folder only)."""
    mirror = tmp_path_factory.mktemp("real-mirror")
    layout = {
        "yellow/yellow_tripdata_sample_hardwood.parquet": "trip-data/yellow_tripdata_2025-01.parquet",
        "yellow/yellow_tripdata_2025-02_sample5000.parquet": "trip-data/yellow_tripdata_2025-02.parquet",
        "green/green_tripdata_2023-12.parquet": "trip-data/green_tripdata_2023-12.parquet",
        "zones/taxi_zone_lookup.csv": "misc/taxi_zone_lookup.csv",
        "openmeteo/openmeteo_archive_hourly_nyc_2023.json": "v1/archive/2023-12.json",
    }
    for source, target in layout.items():
        (mirror / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL_FIXTURES / source, mirror / target)
    for month, csv in (
        ("202403", "citibike_202403_sample10000.csv"),
        ("201510", "201510-citibike-tripdata_head99.csv"),
    ):
        with zipfile.ZipFile(mirror / f"{month}-citibike-tripdata.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(REAL_FIXTURES / "citibike" / csv, f"{month}-citibike-tripdata_1.csv")
            archive.writestr(f"__MACOSX/._{month}-citibike-tripdata_1.csv", b"\x00\x05\x16\x07")
    return mirror


@pytest.fixture(scope="module")
def real_landed(real_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real files, landed source by source."""
    data = tmp_path_factory.mktemp("real-data")
    for sources, months in (
        ("yellow", "2025-01:2025-02"),
        ("green,weather", "2023-12"),
        ("zones", "2023-12"),
        ("citibike", "2024-03"),
        ("citibike", "2015-10"),
    ):
        result = run_ingest(data, "--sources", sources, "--months", months, "--mirror", str(real_mirror))
        assert result.returncode == 0, result.stderr
    return data


def test_yellow_2025_types_and_eras_land_in_one_table(real_landed: Path) -> None:
    rows = query(
        real_landed,
        "SELECT source_month, count(*), count(cbd_congestion_fee), count(airport_fee), "
        "typeof(any_value(passenger_count)), typeof(any_value(vendor_id)) "
        "FROM raw_tlc.yellow_trips GROUP BY 1 ORDER BY 1",
    )
    assert [row[1] for row in rows] == [5, 5000]
    assert all(row[4] == "DOUBLE" and row[5] == "BIGINT" for row in rows)
    assert rows[0][2] == 5 and rows[0][3] == 5


def test_green_full_month_keeps_stray_pickups(real_landed: Path) -> None:
    rows = query(
        real_landed,
        "SELECT count(*), min(lpep_pickup_datetime)::DATE, count(ehail_fee), count(trip_type) FROM raw_tlc.green_trips",
    )
    count, first_day, _, trip_types = rows[0]
    assert count == 64_215
    assert str(first_day) == "2023-11-24"
    assert trip_types > 0


def test_citibike_current_and_legacy_schemas(real_landed: Path) -> None:
    current = query(
        real_landed,
        "SELECT count(*), count(DISTINCT source_file), bool_or(start_station_id = '6254.06'), "
        "typeof(any_value(start_station_id)) FROM raw_citibike.trips WHERE source_month = '2024-03-01'",
    )
    assert current == [(10_000, 1, True, "VARCHAR")]
    legacy = query(
        real_landed,
        "SELECT count(*), min(started_at), count(*) FILTER (member_casual IN ('member', 'casual')) "
        "FROM raw_citibike.trips WHERE source_month = '2015-10-01'",
    )
    assert legacy[0][0] == 99 and str(legacy[0][1]) == "2015-10-01 00:00:02" and legacy[0][2] == 99


def test_open_meteo_2023_response(real_landed: Path) -> None:
    # The yearly response asked for 2023-12 keeps the hours of New York's December, as UTC instants: its labels are
    # at the fixed GMT-4 the response states, so the first December hour (05:00 UTC) is the label 2023-12-01T01:00.
    rows = query(
        real_landed,
        "SELECT count(*), count(DISTINCT time_utc), min(time_utc), count(wind_speed_10m), count(precipitation) "
        "FROM raw_weather.hourly",
    )
    assert rows == [(743, 743, rows[0][2], 743, 0)]
    assert str(rows[0][2]) == "2023-12-01 05:00:00"


def test_zone_lookup_keeps_na_text(real_landed: Path) -> None:
    rows = query(real_landed, "SELECT location_id, borough, zone FROM raw_tlc.taxi_zones WHERE location_id >= 264")
    assert rows == [(264, "Unknown", "N/A"), (265, "N/A", "Outside of NYC")]
    assert query(real_landed, "SELECT count(*) FROM raw_tlc.taxi_zones") == [(265,)]
