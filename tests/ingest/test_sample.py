"""The sample mirror generator: identical bytes, exact manifest counts, upstream formats, CLI checks."""

from __future__ import annotations

import calendar
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import sample
from ingest.sample import citibike as sample_citibike
from ingest.sample import mirror as sample_mirror
from ingest.sample import weather as sample_weather
from ingest.sample import zones as sample_zones
from ingest.sample.common import MIN_ROWS, Month

ROOT = Path(__file__).resolve().parents[2]
REAL_ZONES = ROOT.parent / "shared/fixtures/real/zones/taxi_zone_lookup.csv"
MONTHS = "2024-12:2025-01"
SCALE = "0.002"
BIKE_FIELDS = 13
KEPT_TAXI_KINDS = ["unknown_zone", "zero_distance", "zero_fare", "absurd_distance", "absurd_speed", "overlong_trip"]


def run(out: Path, months: str = MONTHS, scale: str = SCALE, *extra: str) -> dict:
    """Runs the generator in-process and returns its manifest."""
    assert sample.main(["--months", months, "--scale", scale, "--out", str(out), *extra]) == 0
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small mirror over a year boundary and the start of the CBD fee."""
    out = tmp_path_factory.mktemp("mirror")
    run(out)
    return out


@pytest.fixture(scope="module")
def manifest(mirror: Path) -> dict:
    """The mirror's manifest."""
    return json.loads((mirror / "manifest.json").read_text())


def month_bounds(month: str) -> tuple[str, str]:
    """First day of the month and of the next one, as SQL date literals."""
    year, number = map(int, month.split("-"))
    following = (year + number // 12, number % 12 + 1)
    return f"DATE '{month}-01'", f"DATE '{following[0]:04d}-{following[1]:02d}-01'"


def taxi_kinds(source: str) -> tuple[dict[str, str], str]:
    """The SQL test of every special kind of a TLC file, and the test a clean row passes."""
    prefix = "tpep" if source == "yellow" else "lpep"
    pickup, dropoff = f"{prefix}_pickup_datetime", f"{prefix}_dropoff_datetime"
    seconds = f"epoch({dropoff} - {pickup})"
    descriptors = "passenger_count IS NULL AND RatecodeID IS NULL AND store_and_fwd_flag IS NULL"
    kinds = {
        "dropoff_before_pickup": f"{dropoff} < {pickup}",
        "reversal": "total_amount < 0 AND fare_amount < 0 AND mta_tax < 0 AND payment_type IN (2, 3, 4)",
        "voided_trip": "payment_type = 6",
        "flex_fare": f"payment_type = 0 AND {descriptors}",
        "null_payment_type": "payment_type IS NULL AND passenger_count IS NULL AND RatecodeID IS NULL"
        + (" AND trip_type IS NULL" if source == "green" else ""),
        "unknown_zone": "PULocationID IN (264, 265) OR DOLocationID IN (264, 265)",
        "zero_distance": "trip_distance = 0",
        "zero_fare": "fare_amount = 0 AND total_amount >= 0",
        "absurd_distance": "trip_distance > 200",
        "absurd_speed": f"trip_distance <= 200 AND {seconds} >= 0 AND trip_distance * 3600 > 80 * {seconds}",
        "overlong_trip": f"{seconds} > 12 * 3600",
    }
    clean = (
        "payment_type BETWEEN 1 AND 4 AND passenger_count IS NOT NULL AND RatecodeID IS NOT NULL "
        f"AND trip_distance BETWEEN 0.1 AND 60 AND trip_distance * 3600 < 60 * {seconds} "
        f"AND {seconds} BETWEEN 1 AND 3 * 3600 AND fare_amount > 0 AND total_amount > 0 "
        "AND PULocationID BETWEEN 1 AND 263 AND DOLocationID BETWEEN 1 AND 263"
    )
    return kinds, clean


def taxi_counts(path: Path, source: str, month: str) -> dict:
    """Rows, strays and each special kind of a TLC file, computed by DuckDB from the data alone."""
    prefix = "tpep" if source == "yellow" else "lpep"
    first, following = month_bounds(month)
    kinds, clean = taxi_kinds(source)
    stray = f"({prefix}_pickup_datetime < {first} OR {prefix}_pickup_datetime >= {following})"
    defects = " + ".join(f"coalesce(({sql})::INT, 0)" for sql in kinds.values())
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE {stray}), "
        + ", ".join(f"count(*) FILTER (WHERE {sql})" for sql in kinds.values())
        + f", count(*) FILTER (WHERE {defects} > 1), count(*) FILTER (WHERE {stray} AND {defects} > 0), "
        f"count(*) FILTER (WHERE {defects} = 0 AND NOT coalesce({clean}, FALSE)) "
        f"FROM read_parquet('{path}')"
    )
    rows, strays, *found, multi, dirty_strays, unclean = duckdb.sql(sql).fetchone()
    return {"rows": rows, "stray_rows": strays, "kinds": dict(zip(kinds, found, strict=True)), "multi": multi,
            "dirty_strays": dirty_strays, "unclean": unclean}  # fmt: skip


def assert_taxi_manifest(path: Path, spec: dict, source: str) -> None:
    """Every count of a TLC file's manifest entry is what DuckDB finds; each special row has one defect."""
    counts = taxi_counts(path, source, spec["month"])
    assert (counts["multi"], counts["dirty_strays"], counts["unclean"]) == (0, 0, 0), path
    assert (counts["rows"], counts["stray_rows"]) == (spec["rows"], spec["stray_rows"]), path
    expected = {kind: 0 for kind in counts["kinds"]} | spec["dirty_rows"] | spec["kept_rows"]
    assert counts["kinds"] == expected, path
    assert list(spec["dirty_rows"]) == ["dropoff_before_pickup", "reversal", "voided_trip"]
    only = "flex_fare" if source == "yellow" else "null_payment_type"
    assert list(spec["kept_rows"]) == [only, *KEPT_TAXI_KINDS]
    assert all(n >= 1 for n in (*spec["dirty_rows"].values(), *spec["kept_rows"].values())), path


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    run(first, "2024-09", "0.0005")
    run(second, "2024-09", "0.0005")
    run(other, "2024-09", "0.0005", "--seed", "7")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert len(files) == 6 and not any(p.name.endswith(".part") for p in files)
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    yellow = "trip-data/yellow_tripdata_2024-09.parquet"
    assert (first / yellow).read_bytes() != (other / yellow).read_bytes()


def test_manifest_lists_every_file(mirror: Path, manifest: dict) -> None:
    assert manifest["generator"] == "ingest.sample" and manifest["seed"] == 42 and manifest["scale"] == 0.002
    assert manifest["months"] == ["2024-12", "2025-01"]
    written = {str(p.relative_to(mirror)) for p in mirror.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == written
    sources = sorted(spec["source"] for spec in manifest["files"].values())
    assert sources == ["citibike"] * 2 + ["green"] * 2 + ["weather"] * 2 + ["yellow"] * 2 + ["zones"]
    common = ["source", "month", "rows", "stray_rows", "dirty_rows", "kept_rows"]
    extra = {"citibike": ["members"], "weather": ["hours_in_body"]}
    for spec in manifest["files"].values():
        assert list(spec) == common + extra.get(spec["source"], [])
    assert manifest["files"]["trip-data/yellow_tripdata_2024-12.parquet"]["rows"] == 6000
    assert manifest["files"]["trip-data/green_tripdata_2024-12.parquet"]["rows"] == 120
    assert manifest["files"]["202412-citibike-tripdata.zip"]["rows"] == 8000


@pytest.mark.parametrize("source", ["yellow", "green"])
def test_taxi_counts_equal_the_manifest(mirror: Path, manifest: dict, source: str) -> None:
    for rel, spec in manifest["files"].items():
        if spec["source"] == source:
            assert_taxi_manifest(mirror / rel, spec, source)
            assert spec["stray_rows"] >= 6


def test_taxi_kinds_hold_the_measured_shares(mirror: Path, manifest: dict) -> None:
    yellow = manifest["files"]["trip-data/yellow_tripdata_2025-01.parquet"]
    assert yellow["kept_rows"]["flex_fare"] == round(6000 * 0.225)
    assert yellow["dirty_rows"]["reversal"] == round(6000 * 0.0184)
    assert yellow["kept_rows"]["zero_distance"] == round(6000 * 0.0276)
    before_2025 = manifest["files"]["trip-data/yellow_tripdata_2024-12.parquet"]
    assert before_2025["kept_rows"]["flex_fare"] == round(6000 * 0.04)
    green = manifest["files"]["trip-data/green_tripdata_2025-01.parquet"]
    assert green["kept_rows"]["null_payment_type"] == round(120 * 0.0765)
    path = mirror / "trip-data/yellow_tripdata_2025-01.parquet"
    flex = duckdb.sql(
        "SELECT count(*) FILTER (WHERE fare_amount < 0 AND total_amount > 0), "
        "count(*) FILTER (WHERE congestion_surcharge IS NULL AND Airport_fee IS NULL), count(*) "
        f"FROM read_parquet('{path}') WHERE payment_type = 0"
    ).fetchone()
    assert flex[0] == round(yellow["kept_rows"]["flex_fare"] * 0.161) and flex[1] == flex[2]


def test_strays_are_edge_days_and_far_years(mirror: Path) -> None:
    path = mirror / "trip-data/yellow_tripdata_2025-01.parquet"
    days = duckdb.sql(
        f"SELECT DISTINCT tpep_pickup_datetime::DATE::VARCHAR FROM read_parquet('{path}') "
        "WHERE tpep_pickup_datetime < DATE '2025-01-01' OR tpep_pickup_datetime >= DATE '2025-02-01'"
    ).fetchall()
    assert {day for (day,) in days} >= {"2024-12-31", "2025-02-01", "2002-12-31", "2008-12-31", "2009-01-01"}


def test_taxi_values_are_consistent(mirror: Path) -> None:
    path = mirror / "trip-data/yellow_tripdata_2025-01.parquet"
    parts = "fare_amount + extra + mta_tax + tip_amount + tolls_amount + improvement_surcharge"
    parts += " + congestion_surcharge + Airport_fee + cbd_congestion_fee"
    cbd = ", ".join(map(str, sample_zones.CBD_ZONE_IDS))
    bad = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE abs(total_amount - ({parts})) > 0.005), "
        "count(*) FILTER (WHERE fare_amount > 0 AND (Airport_fee > 0) <> (PULocationID IN (132, 138))), "
        f"count(*) FILTER (WHERE fare_amount > 0 AND (cbd_congestion_fee > 0) <> (DOLocationID IN ({cbd}))), "
        "count(*) FILTER (WHERE payment_type IN (2, 3, 4, 6) AND tip_amount <> 0), "
        "count(*) FILTER (WHERE payment_type NOT IN (0, 1, 2, 3, 4, 6) OR payment_type IS NULL), "
        "count(*) FILTER (WHERE PULocationID NOT BETWEEN 1 AND 265 OR DOLocationID NOT BETWEEN 1 AND 265) "
        f"FROM read_parquet('{path}')"
    ).fetchone()
    assert bad == (0, 0, 0, 0, 0, 0)
    seconds = "epoch(tpep_dropoff_datetime - tpep_pickup_datetime)"
    clean = duckdb.sql(
        f"SELECT min({seconds}), max({seconds}), "
        "count(*) FILTER (WHERE PULocationID IN (1, 132, 138) OR DOLocationID IN (1, 132, 138)), "
        "count(*) FILTER (WHERE payment_type = 1 AND tip_amount > 0), "
        "count(*) FILTER (WHERE Airport_fee = 1.75) "
        f"FROM read_parquet('{path}') WHERE {taxi_kinds('yellow')[1]}"
    ).fetchone()
    assert clean[0] >= 120 and clean[1] <= 3600 and clean[2] > 0 and clean[3] > 0 and clean[4] > 0


def yellow_types(new: bool) -> list[tuple[str, pa.DataType]]:
    """The expected yellow columns before (False) or from (True) 2023-02, without the cbd fee."""
    ids, counts = (pa.int32(), pa.int64()) if new else (pa.int64(), pa.float64())
    flag, stamp, double = pa.large_string() if new else pa.string(), pa.timestamp("us"), pa.float64()
    head = [("VendorID", ids), ("tpep_pickup_datetime", stamp), ("tpep_dropoff_datetime", stamp)]
    head += [("passenger_count", counts), ("trip_distance", double), ("RatecodeID", counts)]
    head += [("store_and_fwd_flag", flag), ("PULocationID", ids), ("DOLocationID", ids)]
    head += [("payment_type", pa.int64())]
    money = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge"]
    money += ["total_amount", "congestion_surcharge", "Airport_fee" if new else "airport_fee"]
    return head + [(name, double) for name in money]


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        ("2022-12", yellow_types(new=False)),
        ("2024-09", yellow_types(new=True)),
        ("2025-01", [*yellow_types(new=True), ("cbd_congestion_fee", pa.float64())]),
    ],
)
def test_yellow_schema_per_era(tmp_path: Path, month: str, expected: list) -> None:
    manifest = run(tmp_path, month, "0.000001")
    rel = f"trip-data/yellow_tripdata_{month}.parquet"
    schema = pq.read_schema(tmp_path / rel)
    assert [(field.name, field.type) for field in schema] == expected
    spec = manifest["files"][rel]
    assert spec["rows"] == MIN_ROWS
    assert_taxi_manifest(tmp_path / rel, spec, "yellow")


@pytest.mark.parametrize("month", ["2022-12", "2025-01"])
def test_green_schema_per_era(tmp_path: Path, month: str) -> None:
    manifest = run(tmp_path, month, "0.000001")
    rel = f"trip-data/green_tripdata_{month}.parquet"
    assert manifest["files"][rel]["rows"] == MIN_ROWS
    assert_taxi_manifest(tmp_path / rel, manifest["files"][rel], "green")
    schema = pq.read_schema(tmp_path / rel)
    names = ["VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "store_and_fwd_flag", "RatecodeID",
             "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra",
             "mta_tax", "tip_amount", "tolls_amount", "ehail_fee", "improvement_surcharge", "total_amount",
             "payment_type", "trip_type", "congestion_surcharge"]  # fmt: skip
    new = month >= "2023-02"
    assert schema.names == names + (["cbd_congestion_fee"] if month >= "2025-01" else [])
    assert schema.field("VendorID").type == (pa.int32() if new else pa.int64())
    for name in ("passenger_count", "RatecodeID", "payment_type", "trip_type"):
        assert schema.field(name).type == (pa.int64() if new else pa.float64()), name
    table = pq.read_table(tmp_path / f"trip-data/green_tripdata_{month}.parquet")
    assert table.column("ehail_fee").null_count == table.num_rows


def test_zone_lookup_layout(mirror: Path) -> None:
    body = (mirror / "misc/taxi_zone_lookup.csv").read_bytes()
    lines = body.split(b"\r\n")
    assert lines[0] == b'"LocationID","Borough","Zone","service_zone"' and lines[-1] == b""
    assert body.count(b"\n") == body.count(b"\r\n") == 266
    assert lines[1] == b'1,"EWR","Newark Airport","EWR"'
    assert lines[132] == b'132,"Queens","JFK Airport","Airports"'
    assert lines[138] == b'138,"Queens","LaGuardia Airport","Airports"'
    assert lines[264:266] == [b'264,"Unknown","N/A","N/A"', b'265,"N/A","Outside of NYC","N/A"']
    zones = mirror / "misc/taxi_zone_lookup.csv"
    rows = duckdb.sql(f"SELECT * FROM read_csv('{zones}', all_varchar=true)").fetchall()
    assert [int(row[0]) for row in rows] == list(range(1, 266))
    boroughs = {row[1] for row in rows}
    assert boroughs == {"EWR", "Queens", "Brooklyn", "Manhattan", "Bronx", "Staten Island", "Unknown", "N/A"}
    assert {row[3] for row in rows} == {"EWR", "Airports", "Yellow Zone", "Boro Zone", "N/A"}
    assert all(rows[zone - 1][1] == "Manhattan" for zone in sample_zones.CBD_ZONE_IDS)


@pytest.mark.skipif(not REAL_ZONES.exists(), reason="the real fixtures are not here")
def test_zone_lookup_is_the_tlc_lookup(mirror: Path) -> None:
    def rows(path: Path) -> list[tuple]:
        return duckdb.sql(f"SELECT * FROM read_csv('{path}', all_varchar=true)").fetchall()

    generated = mirror / "misc/taxi_zone_lookup.csv"
    assert rows(generated) == rows(REAL_ZONES)
    assert generated.read_bytes() == REAL_ZONES.read_bytes()


def pickup_zones(path: Path) -> list[tuple[int, str, str]]:
    """(zone id, borough, service zone) of a TLC file's pickup zones, busiest first."""
    zones = path.parents[1] / "misc/taxi_zone_lookup.csv"
    return duckdb.sql(
        f"SELECT PULocationID, Borough, service_zone FROM read_parquet('{path}') "
        f"JOIN read_csv('{zones}') ON LocationID = PULocationID GROUP BY ALL ORDER BY count(*) DESC, 1"
    ).fetchall()


def test_busiest_pickup_zones_are_the_airports_and_manhattan(mirror: Path) -> None:
    yellow = pickup_zones(mirror / "trip-data/yellow_tripdata_2025-01.parquet")
    top = [zone for zone, _, _ in yellow[:10]]
    assert {132, 161, 236, 237} <= set(top), top  # JFK, Midtown Center, the Upper East Side
    assert 138 in [zone for zone, _, _ in yellow[:20]]  # LaGuardia
    assert all(service in ("Yellow Zone", "Airports") for _, _, service in yellow[:20]), yellow[:20]
    green = pickup_zones(mirror / "trip-data/green_tripdata_2025-01.parquet")
    assert [zone for zone, _, _ in green[:2]] == [74, 75]  # East Harlem
    path = mirror / "trip-data/green_tripdata_2025-01.parquet"
    zones = mirror / "misc/taxi_zone_lookup.csv"
    (boro_share,) = duckdb.sql(
        f"SELECT avg((service_zone = 'Boro Zone')::INT) FROM read_parquet('{path}') "
        f"JOIN read_csv('{zones}') ON LocationID = PULocationID"
    ).fetchone()
    assert boro_share > 0.8


def test_rainy_hours_have_a_lower_bike_share(mirror: Path, tmp_path: Path) -> None:
    unzip(mirror / "202501-citibike-tripdata.zip", tmp_path)
    trip_data = mirror / "trip-data"
    shares = duckdb.sql(
        f"""
        WITH hours AS (
          SELECT unnest(hourly.time) AS stamp, unnest(hourly.precipitation) AS mm, utc_offset_seconds AS offset_s
          FROM read_json('{mirror}/v1/archive/2025-01.json')
        ), weather AS (
          SELECT timezone('America/New_York', timezone('UTC', strptime(stamp, '%Y-%m-%dT%H:%M') - to_seconds(offset_s)))
            AS local_hour, mm > 0 AS is_wet
          FROM hours
        ), taxis AS (
          SELECT date_trunc('hour', tpep_pickup_datetime) AS local_hour
          FROM read_parquet('{trip_data}/yellow_tripdata_2025-01.parquet')
          UNION ALL
          SELECT date_trunc('hour', lpep_pickup_datetime)
          FROM read_parquet('{trip_data}/green_tripdata_2025-01.parquet')
        ), bikes AS (
          SELECT date_trunc('hour', started_at) AS local_hour FROM read_csv('{tmp_path}/202501-citibike-tripdata_*.csv')
        ), trips AS (
          SELECT local_hour, 0 AS bike FROM taxis UNION ALL SELECT local_hour, 1 FROM bikes
        )
        SELECT is_wet, count(DISTINCT local_hour), avg(bike)
        FROM trips JOIN weather USING (local_hour)
        WHERE local_hour >= DATE '2025-01-01' AND local_hour < DATE '2025-02-01'
        GROUP BY ALL
        """
    ).fetchall()
    by_weather = {is_wet: (hours, share) for is_wet, hours, share in shares}
    (dry_hours, dry_share), (wet_hours, wet_share) = by_weather[False], by_weather[True]
    assert dry_hours > 500 and wet_hours > 20
    assert wet_share < dry_share - 0.1, (dry_share, wet_share)


BIKE_KINDS = {
    "ended_before_started": "ended_at < started_at",
    "missing_start_station": "coalesce(start_station_id, '') = '' AND coalesce(start_station_name, '') = ''",
    "missing_end_station": "coalesce(end_station_id, '') = '' AND coalesce(end_station_name, '') = '' "
    "AND epoch(ended_at - started_at) <= 86400",
    "overlong_ride": "epoch(ended_at - started_at) > 86400",
    "docked_bike": "rideable_type = 'docked_bike'",
}
BIKE_CLEAN = (
    "rideable_type IN ('classic_bike', 'electric_bike') AND epoch(ended_at - started_at) BETWEEN 0 AND 86400 "
    "AND start_station_id <> '' AND end_station_id <> '' AND start_lat IS NOT NULL AND end_lat IS NOT NULL"
)


def unzip(zip_path: Path, into: Path) -> list[str]:
    """Extracts a Citi Bike zip; returns its member names."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
        return archive.namelist()


def bike_counts(files: Path, stem: str, month: str) -> dict:
    """Rows, strays, each special kind and the odd rows of a month's CSV members, computed by DuckDB."""
    first, following = month_bounds(month)
    stray = f"started_at < {first} OR started_at >= {following}"
    defects = " + ".join(f"coalesce(({sql})::INT, 0)" for sql in BIKE_KINDS.values())
    text_ids = "{'start_station_id': 'VARCHAR', 'end_station_id': 'VARCHAR'}"
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE {stray}), "
        + ", ".join(f"count(*) FILTER (WHERE {sql})" for sql in BIKE_KINDS.values())
        + f", count(*) FILTER (WHERE {defects} > 1), count(*) FILTER (WHERE ({stray}) AND {defects} > 0), "
        f"count(*) FILTER (WHERE {defects} = 0 AND NOT coalesce({BIKE_CLEAN}, FALSE)), count(DISTINCT ride_id) "
        f"FROM read_csv('{files}/{stem}_*.csv', types={text_ids})"
    )
    rows, strays, *found, multi, dirty_strays, unclean, ids = duckdb.sql(sql).fetchone()
    return {"rows": rows, "stray_rows": strays, "kinds": dict(zip(BIKE_KINDS, found, strict=True)),
            "odd": (multi, dirty_strays, unclean, ids - rows)}  # fmt: skip


def assert_bike_manifest(mirror: Path, rel: str, spec: dict, into: Path) -> None:
    """Every count of a Citi Bike zip's manifest entry is what DuckDB finds; each special row has one defect."""
    stem = rel.removesuffix(".zip")
    unzip(mirror / rel, into / stem)
    counts = bike_counts(into / stem, stem, spec["month"])
    assert counts["odd"] == (0, 0, 0, 0), rel
    assert (counts["rows"], counts["stray_rows"]) == (spec["rows"], spec["stray_rows"]), rel
    assert counts["kinds"] == {kind: 0 for kind in BIKE_KINDS} | spec["dirty_rows"] | spec["kept_rows"], rel
    kept = ["missing_start_station", "missing_end_station", "overlong_ride"]
    assert list(spec["kept_rows"]) == kept + (["docked_bike"] if spec["month"] < "2023-01" else [])
    assert all(n >= 1 for n in (*spec["dirty_rows"].values(), *spec["kept_rows"].values())), rel


def test_citibike_counts_equal_the_manifest(mirror: Path, manifest: dict, tmp_path: Path) -> None:
    for rel, spec in manifest["files"].items():
        if spec["source"] == "citibike":
            assert_bike_manifest(mirror, rel, spec, tmp_path)
            assert spec["kept_rows"]["missing_end_station"] == round(spec["rows"] * 0.0026)


def test_citibike_before_2023_has_docked_bikes_at_tiny_scale(tmp_path: Path) -> None:
    manifest = run(tmp_path / "mirror", "2022-12", "0.000001")
    spec = manifest["files"]["202212-citibike-tripdata.zip"]
    assert spec["rows"] == MIN_ROWS and spec["kept_rows"]["docked_bike"] >= 1
    assert_bike_manifest(tmp_path / "mirror", "202212-citibike-tripdata.zip", spec, tmp_path)


def test_overlong_rides_are_lost_bikes_or_docked_days_later(mirror: Path, tmp_path: Path) -> None:
    unzip(mirror / "202501-citibike-tripdata.zip", tmp_path)
    lost, docked = duckdb.sql(
        "SELECT count(*) FILTER (WHERE end_station_id IS NULL AND end_lat IS NULL "
        "    AND epoch(ended_at - started_at) BETWEEN 25 * 3600 - 15 AND 25 * 3600), "
        "count(*) FILTER (WHERE end_station_id IS NOT NULL AND epoch(ended_at - started_at) > 36 * 3600) "
        f"FROM read_csv('{tmp_path}/202501-citibike-tripdata_*.csv', types={{'end_station_id': 'VARCHAR'}}) "
        "WHERE epoch(ended_at - started_at) > 86400"
    ).fetchone()
    assert lost >= 1 and docked >= 1


def test_citibike_zip_members(mirror: Path, manifest: dict, tmp_path: Path) -> None:
    for rel, spec in manifest["files"].items():
        if spec["source"] != "citibike":
            continue
        stem = rel.removesuffix(".zip")
        names = unzip(mirror / rel, tmp_path / stem)
        csvs = [name for name in names if not name.startswith("__MACOSX/")]
        assert csvs == [f"{stem}_{i}.csv" for i in range(1, len(csvs) + 1)] and len(csvs) >= 2
        assert f"__MACOSX/._{stem}_1.csv" in names
        assert list(spec["members"]) == csvs
        for name in csvs:
            (rows,) = duckdb.sql(f"SELECT count(*) FROM read_csv('{tmp_path / stem / name}')").fetchone()
            assert rows == spec["members"][name]


def test_citibike_csv_format(mirror: Path) -> None:
    with zipfile.ZipFile(mirror / "202501-citibike-tripdata.zip") as archive:
        text = archive.read("202501-citibike-tripdata_2.csv").decode()
    lines = text.split("\n")
    assert lines[-1] == "" and "\r" not in text
    assert lines[0] == ",".join(f'"{name}"' for name in sample_citibike.BIKE_COLUMNS)
    quoted = re.compile(rf'^"[^"]*"(,"[^"]*"){{{BIKE_FIELDS - 1}}}$')
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    station, lat, lng = r'("[^"]+","\d{4}\.\d{2}"|"","")', r"40\.\d+", r"-7[34]\.\d+"
    row = re.compile(
        rf'^"[0-9A-F]{{16}}","(classic|electric)_bike","{stamp}","{stamp}",{station},{station},'
        rf'"{lat}","{lng}",("{lat}","{lng}"|"",""),"(member|casual)"$'
    )
    for line in lines[1:-1]:
        assert quoted.match(line) and row.match(line), line


def weather_hours(path: Path, month: str) -> tuple[int, int, int, int]:
    """(offset, hours in the body, hours whose true New York time is in the month, distinct true hours)."""
    true_utc = "strptime(label, '%Y-%m-%dT%H:%M') - to_seconds(utc_offset_seconds)"
    return duckdb.sql(
        f"SELECT any_value(utc_offset_seconds), count(*), "
        f"count(*) FILTER (WHERE strftime(timezone('America/New_York', timezone('UTC', {true_utc})), '%Y-%m') "
        f"    = '{month}'), count(DISTINCT {true_utc}) "
        f"FROM (SELECT unnest(hourly.time) AS label, utc_offset_seconds FROM read_json('{path}'))"
    ).fetchone()


@pytest.fixture(scope="module")
def weather_bodies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Weather bodies of 2023-02:2023-03 and 2023-09:2023-11 (both offsets, both DST changes), with entries."""
    out = tmp_path_factory.mktemp("weather")
    months = [Month(2023, 2), Month(2023, 3), Month(2023, 9), Month(2023, 10), Month(2023, 11)]
    return out, {str(month): sample_weather.write_weather(out, month, 42).as_json() for month in months}


@pytest.mark.parametrize(
    ("month", "offset", "local"),
    [("2023-02", -14400, 672), ("2023-03", -14400, 743), ("2023-09", -14400, 720), ("2023-10", -18000, 744),
     ("2023-11", -18000, 721)],
)  # fmt: skip
def test_weather_body_has_one_fixed_offset_and_a_padded_month(
    weather_bodies: tuple[Path, dict], month: str, offset: int, local: int
) -> None:
    out, specs = weather_bodies
    path = out / f"v1/archive/{month}.json"
    year, number = map(int, month.split("-"))
    days = calendar.monthrange(year, number)[1]
    assert weather_hours(path, month) == (offset, (days + 2) * 24, local, (days + 2) * 24)
    assert (specs[month]["rows"], specs[month]["hours_in_body"]) == (local, (days + 2) * 24)
    body = json.loads(path.read_text())
    assert body["timezone_abbreviation"] == f"GMT{offset // 3600:+d}" and body["timezone"] == "America/New_York"
    first, following = month_bounds(month)
    before, after = duckdb.sql(f"SELECT ({first} - 1)::VARCHAR, {following}::VARCHAR").fetchone()
    assert body["hourly"]["time"][0] == f"{before}T00:00" and body["hourly"]["time"][-1] == f"{after}T23:00"


def test_adjacent_weather_bodies_agree_on_the_hours_they_share(weather_bodies: tuple[Path, dict]) -> None:
    out, _ = weather_bodies
    variables = ["temperature_2m", "precipitation", "rain", "snowfall", "wind_speed_10m", "weather_code"]

    def by_true_hour(month: str) -> dict[str, tuple]:
        body = json.loads((out / f"v1/archive/{month}.json").read_text())
        shift = body["utc_offset_seconds"] // 3600
        hours = {}
        for index, label in enumerate(body["hourly"]["time"]):
            stamp = duckdb.sql(f"SELECT (TIMESTAMP '{label}' - INTERVAL ({shift}) HOUR)::VARCHAR").fetchone()[0]
            hours[stamp] = tuple(body["hourly"][name][index] for name in variables)
        return hours

    for earlier, later in (("2023-02", "2023-03"), ("2023-09", "2023-10"), ("2023-10", "2023-11")):
        first, second = by_true_hour(earlier), by_true_hour(later)
        shared = first.keys() & second.keys()
        assert len(shared) >= 47 and all(first[hour] == second[hour] for hour in shared), (earlier, later)


def test_weather_json_shape(mirror: Path, manifest: dict) -> None:
    body = json.loads((mirror / "v1/archive/2025-01.json").read_text())
    assert list(body) == ["latitude", "longitude", "generationtime_ms", "utc_offset_seconds", "timezone",
                          "timezone_abbreviation", "elevation", "hourly_units", "hourly"]  # fmt: skip
    assert body["timezone"] == "America/New_York" and body["utc_offset_seconds"] == -18000
    variables = ["temperature_2m", "precipitation", "rain", "snowfall", "wind_speed_10m", "weather_code"]
    assert list(body["hourly"]) == ["time", *variables] and list(body["hourly_units"]) == ["time", *variables]
    hourly = body["hourly"]
    assert len(hourly["time"]) == (31 + 2) * 24 == manifest["files"]["v1/archive/2025-01.json"]["hours_in_body"]
    assert hourly["time"][:2] == ["2024-12-31T00:00", "2024-12-31T01:00"]
    assert hourly["time"][-1] == "2025-02-01T23:00"
    assert all(len(hourly[name]) == len(hourly["time"]) for name in variables)
    hours = list(zip(*(hourly[name] for name in variables), strict=True))
    assert any(rain > 0 for _, _, rain, _, _, _ in hours)
    for temperature, precipitation, rain, snowfall, wind, code in hours:
        assert -30 < temperature < 40 and wind >= 0 and precipitation >= rain >= 0
        assert snowfall == 0 or temperature <= 0.5
        expected = range(71, 76) if snowfall > 0 else range(51, 66) if rain > 0 else range(0, 4)
        assert code in expected
    for month in ("2024-12", "2025-01"):
        spec = manifest["files"][f"v1/archive/{month}.json"]
        found = weather_hours(mirror / f"v1/archive/{month}.json", month)
        assert (spec["rows"], spec["hours_in_body"]) == (found[2], found[1]) == (744, 33 * 24)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--months", "2024-13"], "is not a month"),
        (["--months", "2024-9"], "is not a month"),
        (["--months", "2024-11:2024-09"], "ends before it starts"),
        (["--months", "2024-09:2024-10:2024-11"], "more than one"),
        (["--months", "2019-01"], "too early"),
        (["--months", "2024-09", "--scale", "0"], "must be a number > 0"),
        (["--months", "2024-09", "--scale", "-1"], "must be a number > 0"),
        (["--months", "2024-09", "--scale", "nan"], "must be a number > 0"),
        (["--months", "2024-09", "--scale", "lots"], "is not a number"),
        (["--scale", "0.01"], "--months"),
    ],
)
def test_bad_arguments_are_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    out = tmp_path / "mirror"
    with pytest.raises(SystemExit) as exit_info:
        sample.main([*args, "--out", str(out)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_command_line_prints_one_line_per_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest.sample",
            "--months",
            "2024-09",
            "--scale",
            "0.0001",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith(f"{tmp_path / 'misc/taxi_zone_lookup.csv'}\t265 rows\t")
    assert lines[-1] == f"{tmp_path / 'manifest.json'}\t5 files"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    by_path = progress(lines[:-1])
    assert by_path == {
        str(tmp_path / rel): (spec["rows"], (tmp_path / rel).stat().st_size) for rel, spec in manifest["files"].items()
    }
    assert by_path[str(tmp_path / "trip-data/yellow_tripdata_2024-09.parquet")][0] == 300


def progress(lines: list[str]) -> dict[str, tuple[int, int]]:
    """(rows, bytes) by path of the progress lines `path<TAB>N rows<TAB>N bytes<TAB>S s`, each path once."""
    found = [re.fullmatch(r"(.+)\t(\d+) rows\t([\d,]+) bytes\t\d+\.\d s", line) for line in lines]
    assert all(found), lines
    by_path = {match[1]: (int(match[2]), int(match[3].replace(",", ""))) for match in found}
    assert len(by_path) == len(lines), lines
    return by_path


def test_worker_processes_write_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    months = [Month(2024, 9), Month(2024, 10)]
    in_process, in_workers = tmp_path / "in_process", tmp_path / "in_workers"
    sample.generate(in_process, months, 0.0005, 42)
    capsys.readouterr()
    monkeypatch.setattr(sample_mirror, "PARALLEL_FROM_COST", 0)
    monkeypatch.setattr(sample_mirror.os, "cpu_count", lambda: 2)
    sample.generate(in_workers, months, 0.0005, 42)
    lines = capsys.readouterr().out.splitlines()
    files = sorted(p.relative_to(in_process) for p in in_process.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(in_workers) for p in in_workers.rglob("*") if p.is_file())
    for rel in files:
        assert (in_process / rel).read_bytes() == (in_workers / rel).read_bytes(), rel
    written = {str(in_workers / rel) for rel in files if rel.name != "manifest.json"}
    assert set(progress(lines[:-1])) == written and lines[-1] == f"{in_workers / 'manifest.json'}\t9 files"
