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

ROOT = Path(__file__).resolve().parents[2]
MONTHS = "2024-12:2025-01"
SCALE = "0.002"
BIKE_FIELDS = 13


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


def taxi_counts(path: Path, source: str, month: str) -> dict[str, int]:
    """Rows, strays and each defect of a TLC file, computed by DuckDB from the data alone."""
    prefix = "tpep" if source == "yellow" else "lpep"
    first, following = month_bounds(month)
    defects = {
        "negative_fare": "fare_amount < 0 AND total_amount < 0",
        "dropoff_before_pickup": f"{prefix}_dropoff_datetime < {prefix}_pickup_datetime",
        "zero_distance": "trip_distance = 0",
        "unknown_zone": "PULocationID IN (264, 265) OR DOLocationID IN (264, 265)",
        "null_passenger_count": "passenger_count IS NULL",
    }
    stray = f"({prefix}_pickup_datetime < {first} OR {prefix}_pickup_datetime >= {following})"
    n_defects = " + ".join(f"coalesce(({sql})::INT, 0)" for sql in defects.values())
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE {stray}), "
        + ", ".join(f"count(*) FILTER (WHERE {sql})" for sql in defects.values())
        + f", count(*) FILTER (WHERE {n_defects} > 1), count(*) FILTER (WHERE {stray} AND {n_defects} > 0) "
        f"FROM read_parquet('{path}')"
    )
    rows, strays, *kinds, multi, dirty_strays = duckdb.sql(sql).fetchone()
    return {"rows": rows, "stray_rows": strays, **dict(zip(defects, kinds, strict=True)), "multi": multi,
            "dirty_strays": dirty_strays}  # fmt: skip


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
    assert manifest["files"]["trip-data/yellow_tripdata_2024-12.parquet"]["rows"] == 6000
    assert manifest["files"]["trip-data/green_tripdata_2024-12.parquet"]["rows"] == 120
    assert manifest["files"]["202412-citibike-tripdata.zip"]["rows"] == 8000


@pytest.mark.parametrize("source", ["yellow", "green"])
def test_taxi_counts_equal_the_manifest(mirror: Path, manifest: dict, source: str) -> None:
    for rel, spec in manifest["files"].items():
        if spec["source"] != source:
            continue
        counts = taxi_counts(mirror / rel, source, spec["month"])
        assert counts.pop("multi") == 0 and counts.pop("dirty_strays") == 0, rel
        assert counts == {"rows": spec["rows"], "stray_rows": spec["stray_rows"], **spec["dirty_rows"]}, rel
        assert all(n >= 1 for n in spec["dirty_rows"].values()) and spec["stray_rows"] >= 6


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
    cbd = ", ".join(map(str, sample.CBD_ZONE_IDS))
    bad = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE abs(total_amount - ({parts})) > 0.005), "
        "count(*) FILTER (WHERE fare_amount > 0 AND (Airport_fee > 0) <> (PULocationID IN (132, 138))), "
        f"count(*) FILTER (WHERE fare_amount > 0 AND (cbd_congestion_fee > 0) <> (DOLocationID IN ({cbd}))), "
        "count(*) FILTER (WHERE payment_type <> 1 AND tip_amount <> 0), "
        "count(*) FILTER (WHERE payment_type NOT IN (1, 2, 3, 4)), "
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
        f"FROM read_parquet('{path}') WHERE tpep_dropoff_datetime > tpep_pickup_datetime"
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
    assert spec["rows"] == sample.MIN_ROWS
    counts = taxi_counts(tmp_path / rel, "yellow", month)
    assert counts["multi"] == 0 and counts["stray_rows"] == spec["stray_rows"]
    assert all(counts[kind] == n >= 1 for kind, n in spec["dirty_rows"].items())


@pytest.mark.parametrize("month", ["2022-12", "2025-01"])
def test_green_schema_per_era(tmp_path: Path, month: str) -> None:
    run(tmp_path, month, "0.000001")
    schema = pq.read_schema(tmp_path / f"trip-data/green_tripdata_{month}.parquet")
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
    assert all(rows[zone - 1][1] == "Manhattan" for zone in sample.CBD_ZONE_IDS)


def test_citibike_zip_members_and_counts(mirror: Path, manifest: dict, tmp_path: Path) -> None:
    for rel, spec in manifest["files"].items():
        if spec["source"] != "citibike":
            continue
        stem = rel.removesuffix(".zip")
        with zipfile.ZipFile(mirror / rel) as archive:
            names = archive.namelist()
            archive.extractall(tmp_path / stem)
        csvs = [name for name in names if not name.startswith("__MACOSX/")]
        assert csvs == [f"{stem}_{i}.csv" for i in range(1, len(csvs) + 1)] and len(csvs) >= 2
        assert f"__MACOSX/._{stem}_1.csv" in names
        assert list(spec["members"]) == csvs
        files = tmp_path / stem
        for name in csvs:
            (rows,) = duckdb.sql(f"SELECT count(*) FROM read_csv('{files / name}')").fetchone()
            assert rows == spec["members"][name]
        first, _ = month_bounds(spec["month"])
        text_ids = "{'start_station_id': 'VARCHAR', 'end_station_id': 'VARCHAR'}"
        counts = duckdb.sql(
            f"SELECT count(*), count(*) FILTER (WHERE started_at < {first}), "
            "count(*) FILTER (WHERE ended_at < started_at), "
            "count(*) FILTER (WHERE coalesce(end_station_id, '') = '' "
            "    AND coalesce(end_station_name, '') = '' AND end_lat IS NULL AND end_lng IS NULL), "
            "count(*) FILTER (WHERE ended_at < started_at AND coalesce(end_station_id, '') = ''), "
            f"count(DISTINCT ride_id), max(started_at) < ({first} + INTERVAL 1 MONTH) "
            f"FROM read_csv('{files}/{stem}_*.csv', types={text_ids})"
        ).fetchone()
        dirty = spec["dirty_rows"]
        expected = (dirty["ended_before_started"], dirty["missing_end_station"], 0, spec["rows"], True)
        assert counts == (spec["rows"], spec["stray_rows"], *expected)


def test_citibike_csv_format(mirror: Path) -> None:
    with zipfile.ZipFile(mirror / "202501-citibike-tripdata.zip") as archive:
        text = archive.read("202501-citibike-tripdata_2.csv").decode()
    lines = text.split("\n")
    assert lines[-1] == "" and "\r" not in text
    assert lines[0] == ",".join(f'"{name}"' for name in sample.BIKE_COLUMNS)
    quoted = re.compile(rf'^"[^"]*"(,"[^"]*"){{{BIKE_FIELDS - 1}}}$')
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    station, lat, lng = r'"[^"]+","\d{4}\.\d{2}"', r"40\.\d+", r"-7[34]\.\d+"
    row = re.compile(
        rf'^"[0-9A-F]{{16}}","(classic|electric)_bike","{stamp}","{stamp}",{station},({station}|"",""),'
        rf'"{lat}","{lng}",("{lat}","{lng}"|"",""),"(member|casual)"$'
    )
    for line in lines[1:-1]:
        assert quoted.match(line) and row.match(line), line


def test_weather_json_shape(mirror: Path) -> None:
    body = json.loads((mirror / "v1/archive/2025-01.json").read_text())
    assert list(body) == ["latitude", "longitude", "generationtime_ms", "utc_offset_seconds", "timezone",
                          "timezone_abbreviation", "elevation", "hourly_units", "hourly"]  # fmt: skip
    assert body["timezone"] == "America/New_York" and body["utc_offset_seconds"] == -18000
    variables = ["temperature_2m", "precipitation", "rain", "snowfall", "wind_speed_10m", "weather_code"]
    assert list(body["hourly"]) == ["time", *variables] and list(body["hourly_units"]) == ["time", *variables]
    hourly = body["hourly"]
    assert len(hourly["time"]) == calendar.monthrange(2025, 1)[1] * 24
    assert hourly["time"][:2] == ["2025-01-01T00:00", "2025-01-01T01:00"]
    assert hourly["time"][-1] == "2025-01-31T23:00"
    assert all(len(hourly[name]) == len(hourly["time"]) for name in variables)
    hours = list(zip(*(hourly[name] for name in variables), strict=True))
    assert any(rain > 0 for _, _, rain, _, _, _ in hours)
    for temperature, precipitation, rain, snowfall, wind, code in hours:
        assert -30 < temperature < 40 and wind >= 0 and precipitation >= rain >= 0
        assert snowfall == 0 or temperature <= 0.5
        expected = range(71, 76) if snowfall > 0 else range(51, 66) if rain > 0 else range(0, 4)
        assert code in expected
    december = json.loads((mirror / "v1/archive/2024-12.json").read_text())
    assert len(december["hourly"]["time"]) == 31 * 24


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
    assert len(lines) == 6 and lines[0] == f"{tmp_path / 'misc/taxi_zone_lookup.csv'}\t265 rows"
    assert f"{tmp_path / 'trip-data/yellow_tripdata_2024-09.parquet'}\t300 rows" in lines
    assert lines[-1] == f"{tmp_path / 'manifest.json'}\t5 files"
