"""Ingest through HTTP on loopback: counts equal the manifest, re-ingests replace months, bad input loses nothing."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import settings
from ingest.__main__ import main as ingest_main
from tests.conftest import manifest, query, run_ingest, serve

TABLES = {
    "yellow": "raw_tlc.yellow_trips",
    "green": "raw_tlc.green_trips",
    "citibike": "raw_citibike.trips",
    "weather": "raw_weather.hourly",
}


def month_fingerprints(data: Path) -> dict[str, list[tuple]]:
    """Rows and a content hash per source month of every monthly raw table."""
    out = {}
    for name, table in TABLES.items():
        try:
            out[name] = query(
                data,
                f"SELECT source_month, count(*), sum(hash(COLUMNS(* EXCLUDE (_dlt_load_id)))) "
                f"FROM {table} GROUP BY 1 ORDER BY 1",
            )
        except Exception:
            out[name] = []
    return out


def expected_rows(mirror: Path, source: str) -> dict[str, int]:
    """Rows per month of one source, from the generator's manifest."""
    files = manifest(mirror)["files"]
    return {spec["month"]: spec["rows"] for spec in files.values() if spec["source"] == source}


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory, sample_mirror: Path) -> Path:
    """All five sources for the sample months, landed once over HTTP."""
    data = tmp_path_factory.mktemp("landed")
    server, _ = serve(sample_mirror)
    try:
        result = run_ingest(
            data, "--months", "2024-09:2024-10", "--mirror", f"http://127.0.0.1:{server.server_address[1]}"
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    return data


def test_raw_counts_equal_the_manifest(landed: Path, sample_mirror: Path) -> None:
    for source, table in TABLES.items():
        counts = dict(query(landed, f"SELECT strftime(source_month, '%Y-%m'), count(*) FROM {table} GROUP BY 1"))
        assert counts == expected_rows(sample_mirror, source), source
    assert query(landed, "SELECT count(*) FROM raw_tlc.taxi_zones") == [(265,)]


def test_lineage_is_kept_on_every_row(landed: Path) -> None:
    for table in ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips"):
        nulls = query(
            landed,
            f"SELECT count(*) FILTER (source_file IS NULL OR source_row IS NULL OR _dlt_load_id IS NULL), "
            f"count(*) - count(DISTINCT (source_file, source_row)) FROM {table}",
        )
        assert nulls == [(0, 0)], table
    members = query(landed, "SELECT DISTINCT source_file FROM raw_citibike.trips WHERE source_month = '2024-09-01'")
    assert len(members) >= 2 and all(".zip/" in name for (name,) in members)


def test_raw_types_are_fixed(landed: Path) -> None:
    types = dict(
        query(
            landed,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_tlc' AND table_name = 'yellow_trips'",
        )
    )
    assert types["tpep_pickup_datetime"] == "TIMESTAMP"
    assert types["vendor_id"] == "BIGINT" and types["passenger_count"] == "DOUBLE"
    assert types["source_month"] == "DATE" and "airport_fee" in types and "cbd_congestion_fee" in types
    zones = query(landed, "SELECT borough, zone, service_zone FROM raw_tlc.taxi_zones WHERE location_id = 264")
    assert zones == [("Unknown", "N/A", "N/A")]


def test_reingest_of_a_month_changes_no_count(landed: Path, sample_mirror: Path) -> None:
    before = month_fingerprints(landed)
    result = run_ingest(landed, "--months", "2024-10", "--mirror", str(sample_mirror))
    assert result.returncode == 0, result.stderr
    assert month_fingerprints(landed) == before
    assert json.loads((landed / "last_ingest.json").read_text())["changed_months"] == []
    loads = query(
        landed,
        "SELECT count(DISTINCT _dlt_load_id) FROM raw_tlc.yellow_trips WHERE source_month = '2024-10-01'",
    )
    assert loads == [(1,)]


def test_republished_month_replaces_only_that_month(tmp_path: Path, sample_mirror: Path, data_dir: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(sample_mirror, mirror)
    assert (
        run_ingest(data_dir, "--sources", "green", "--months", "2024-09:2024-10", "--mirror", str(mirror)).returncode
        == 0
    )
    before = month_fingerprints(data_dir)["green"]
    path = mirror / "trip-data/green_tripdata_2024-10.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 7), path)
    assert run_ingest(data_dir, "--sources", "green", "--months", "2024-10", "--mirror", str(mirror)).returncode == 0
    after = month_fingerprints(data_dir)["green"]
    assert after[0] == before[0]
    assert after[1][1] == before[1][1] - 7
    assert json.loads((data_dir / "last_ingest.json").read_text())["changed_months"] == ["2024-10"]


def green_mirror(mirror: Path) -> Path:
    """Adds green 2024-08 and 2024-11 to a mirror copy, as copies of 2024-09 and 2024-10: four months to land."""
    trips = mirror / "trip-data"
    shutil.copy(trips / "green_tripdata_2024-09.parquet", trips / "green_tripdata_2024-08.parquet")
    shutil.copy(trips / "green_tripdata_2024-10.parquet", trips / "green_tripdata_2024-11.parquet")
    return mirror


def green_months(data: Path) -> dict[str, tuple]:
    """Rows, content hash and load ids of each landed green month."""
    rows = query(
        data,
        "SELECT strftime(source_month, '%Y-%m'), count(*), sum(hash(COLUMNS(* EXCLUDE (_dlt_load_id)))), "
        "list(DISTINCT _dlt_load_id ORDER BY _dlt_load_id) FROM raw_tlc.green_trips GROUP BY 1 ORDER BY 1",
    )
    return {month: (count, tuple(hashes), ids) for month, count, *hashes, ids in rows}


def landed_green(own_mirror: Path, data_dir: Path, months: str) -> tuple[Path, dict[str, tuple]]:
    """The green months of a mirror of its own, landed in one ingest: the mirror and green_months()."""
    mirror = green_mirror(own_mirror)
    result = run_ingest(data_dir, "--sources", "green", "--months", months, "--mirror", str(mirror))
    assert result.returncode == 0, result.stderr
    return mirror, green_months(data_dir)


def test_months_in_one_ingest_replace_exactly_those_months(own_mirror: Path, data_dir: Path) -> None:
    mirror, before = landed_green(own_mirror, data_dir, "2024-08:2024-10")
    assert len({ids[0] for _, _, ids in before.values()}) == 1, "three new months land in one load"
    path = mirror / "trip-data/green_tripdata_2024-09.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 7), path)
    result = run_ingest(data_dir, "--sources", "green", "--months", "2024-09:2024-11", "--mirror", str(mirror))
    assert result.returncode == 0, result.stderr
    after = green_months(data_dir)
    assert after["2024-08"] == before["2024-08"], "a month not given is untouched, load id included"
    assert after["2024-09"][0] == before["2024-09"][0] - 7
    assert after["2024-10"][:2] == before["2024-10"][:2] and after["2024-10"][2] != before["2024-10"][2]
    assert after["2024-11"][0] == before["2024-10"][0]
    summary = json.loads((data_dir / "last_ingest.json").read_text())
    assert summary["changed_months"] == ["2024-09"]
    assert [(e["month"], e["rows"]) for e in summary["landed"]] == [
        (month, after[month][0]) for month in ("2024-09", "2024-10", "2024-11")
    ]
    assert query(data_dir, "SELECT strftime(source_month, '%Y-%m') FROM gate.pending_restatements") == [("2024-09",)]


def test_a_failing_month_lands_the_months_before_it_and_keeps_the_others(own_mirror: Path, data_dir: Path) -> None:
    mirror, before = landed_green(own_mirror, data_dir, "2024-08:2024-11")
    path = mirror / "trip-data/green_tripdata_2024-10.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = run_ingest(data_dir, "--sources", "green", "--months", "2024-08:2024-11", "--mirror", str(mirror))
    assert result.returncode == 1
    assert "error: green 2024-10: trip-data/green_tripdata_2024-10.parquet is not a readable Parquet" in result.stderr
    assert "Traceback" not in result.stderr
    after = green_months(data_dir)
    assert {month: rest[:2] for month, rest in after.items()} == {month: rest[:2] for month, rest in before.items()}
    relanded = {month for month in after if after[month][2] != before[month][2]}
    assert relanded == {"2024-08", "2024-09"}, "the months before the failing one land; it and the later ones stay"
    assert [e["month"] for e in json.loads((data_dir / "last_ingest.json").read_text())["landed"]] == [
        "2024-08",
        "2024-09",
    ]
    assert query(data_dir, "SELECT strftime(source_month, '%Y-%m') FROM gate.pending_restatements") == [("2024-10",)]


@pytest.mark.parametrize(
    ("budget", "loads"),
    [
        ("MODEL_LOAD_ROWS", 4),  # each taxi month over the budget of a load is a load of its own
        ("LOAD_ROWS", 1),  # DuckDB reads taxi files where they lie: the budget of Arrow batches does not split them
    ],
)
def test_taxi_months_share_a_load_up_to_model_load_rows(
    own_mirror: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, budget: str, loads: int
) -> None:
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(data_dir))
    monkeypatch.setattr(settings, budget, 1)
    mirror = green_mirror(own_mirror)
    assert ingest_main(["--sources", "green", "--months", "2024-08:2024-11", "--mirror", str(mirror)]) == 0
    months = green_months(data_dir)
    assert len(months) == 4 and len({tuple(ids) for _, _, ids in months.values()}) == loads
    summary = json.loads((data_dir / "last_ingest.json").read_text())["landed"]
    assert [(e["month"], e["rows"]) for e in summary] == [(month, rows) for month, (rows, _, _) in months.items()]


def test_a_file_duckdb_refuses_in_a_load_of_months_keeps_out_only_its_month_and_the_later_ones(
    own_mirror: Path, data_dir: Path
) -> None:
    trips = own_mirror / "trip-data"
    shutil.copy(trips / "yellow_tripdata_2024-09.parquet", trips / "yellow_tripdata_2024-08.parquet")
    shutil.copy(trips / "yellow_tripdata_2024-10.parquet", trips / "yellow_tripdata_2024-11.parquet")
    break_fare(trips / "yellow_tripdata_2024-10.parquet")  # readable: only DuckDB's insert finds "twelve"
    result = run_ingest(data_dir, "--sources", "yellow", "--months", "2024-08:2024-11", "--mirror", str(own_mirror))
    assert result.returncode == 1
    assert "error: yellow 2024-10: DuckDB could not load" in result.stderr and "twelve" in result.stderr
    assert "yellow_tripdata_2024-10.parquet" in result.stderr and "2024-09.parquet" not in result.stderr
    assert "Traceback" not in result.stderr
    landed = query(
        data_dir,
        "SELECT strftime(source_month, '%Y-%m'), count(DISTINCT _dlt_load_id) FROM raw_tlc.yellow_trips GROUP BY 1",
    )
    assert sorted(landed) == [("2024-08", 1), ("2024-09", 1)], "the months before the refused file land"
    summary = json.loads((data_dir / "last_ingest.json").read_text())["landed"]
    assert [e["month"] for e in summary] == ["2024-08", "2024-09"]


def break_fare(path: Path) -> None:
    """Rewrites a trip file with `fare_amount` as text, its first value "twelve": DuckDB cannot cast it."""
    table = pq.read_table(path)
    fares = table.column("fare_amount").cast(pa.string())
    fares = pa.chunked_array([pa.array(["twelve"] + fares.to_pylist()[1:], pa.string())])
    pq.write_table(table.set_column(table.column_names.index("fare_amount"), "fare_amount", fares), path)


def land_then_break(data: Path, mirror: Path, source: str, month: str, breaker) -> tuple[dict, dict, str]:
    """Lands a month, damages its file with `breaker`, re-ingests; returns fingerprints before/after and stderr."""
    assert run_ingest(data, "--sources", source, "--months", month, "--mirror", str(mirror)).returncode == 0
    before = month_fingerprints(data)
    breaker()
    result = run_ingest(data, "--sources", source, "--months", month, "--mirror", str(mirror))
    assert result.returncode != 0
    return before, month_fingerprints(data), result.stderr


@pytest.fixture
def own_mirror(tmp_path: Path, sample_mirror: Path) -> Path:
    """A private copy of the sample mirror that a test may damage."""
    target = tmp_path / "mirror"
    shutil.copytree(sample_mirror, target)
    return target


def test_truncated_parquet_is_refused_and_month_kept(own_mirror: Path, data_dir: Path) -> None:
    path = own_mirror / "trip-data/yellow_tripdata_2024-09.parquet"
    before, after, stderr = land_then_break(
        data_dir,
        own_mirror,
        "yellow",
        "2024-09",
        lambda: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    )
    assert after == before
    assert "trip-data/yellow_tripdata_2024-09.parquet" in stderr and "Traceback" not in stderr


def test_parquet_with_wrong_column_type_is_refused(own_mirror: Path, data_dir: Path) -> None:
    path = own_mirror / "trip-data/yellow_tripdata_2024-09.parquet"
    good = path.read_bytes()
    before, after, stderr = land_then_break(data_dir, own_mirror, "yellow", "2024-09", lambda: break_fare(path))
    assert after == before
    assert "yellow_tripdata_2024-09.parquet" in stderr and "twelve" in stderr and "Traceback" not in stderr
    path.write_bytes(good)  # the refused load is not retried: the next ingest lands the file as it is now
    again = run_ingest(data_dir, "--sources", "yellow", "--months", "2024-09", "--mirror", str(own_mirror))
    assert again.returncode == 0 and "interrupted" not in again.stderr, again.stderr
    assert month_fingerprints(data_dir) == before


def test_zip_without_csv_is_refused(own_mirror: Path, data_dir: Path) -> None:
    path = own_mirror / "202409-citibike-tripdata.zip"

    def empty_zip() -> None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("__MACOSX/._readme", b"")

    before, after, stderr = land_then_break(data_dir, own_mirror, "citibike", "2024-09", empty_zip)
    assert after == before
    assert "202409-citibike-tripdata.zip holds no CSV" in stderr


def test_csv_with_broken_quote_is_refused(own_mirror: Path, data_dir: Path) -> None:
    path = own_mirror / "202409-citibike-tripdata.zip"

    def break_quote() -> None:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        first = sorted(name for name in members if name.endswith("_1.csv") and not name.startswith("__"))[0]
        lines = members[first].split(b"\n")
        lines[3] = lines[3].replace(b'","', b'",', 1) + b'"unterminated'
        members[first] = b"\n".join(lines)
        with zipfile.ZipFile(path, "w") as archive:
            for name, body in members.items():
                archive.writestr(name, body)

    before, after, stderr = land_then_break(data_dir, own_mirror, "citibike", "2024-09", break_quote)
    assert after == before
    assert "202409-citibike-tripdata.zip/202409-citibike-tripdata_1.csv" in stderr


def test_missing_month_404_names_the_url(http_mirror, data_dir: Path) -> None:
    base, _ = http_mirror
    result = run_ingest(data_dir, "--sources", "yellow", "--months", "2031-01", "--mirror", base)
    assert result.returncode == 1
    assert "yellow_tripdata_2031-01.parquet failed with HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_errors_are_retried(http_mirror, data_dir: Path) -> None:
    base, handler = http_mirror
    handler.faults["trip-data/green_tripdata_2024-09.parquet"] = [(500, b"{}", 0), (500, b"{}", 0)]
    result = run_ingest(
        data_dir,
        "--sources",
        "green",
        "--months",
        "2024-09",
        "--mirror",
        base,
        env={"MOBILITY_HTTP_BACKOFF": "0.1"},
    )
    assert result.returncode == 0, result.stderr
    assert handler.requests.count("/trip-data/green_tripdata_2024-09.parquet") == 3
    assert query(data_dir, "SELECT count(*) > 0 FROM raw_tlc.green_trips") == [(True,)]


def test_api_error_reason_is_shown(http_mirror, data_dir: Path) -> None:
    base, handler = http_mirror
    body = json.dumps({"error": True, "reason": "Parameter 'start_date' is out of allowed range"}).encode()
    handler.faults["v1/archive/2024-09.json"] = [(400, body, 0)]
    result = run_ingest(data_dir, "--sources", "weather", "--months", "2024-09", "--mirror", base)
    assert result.returncode == 1
    assert "HTTP 400 (API error: Parameter 'start_date' is out of allowed range)" in result.stderr
    assert handler.requests.count("/v1/archive/2024-09.json") == 1


def test_slow_server_times_out_cleanly(http_mirror, data_dir: Path) -> None:
    base, handler = http_mirror
    handler.faults["misc/taxi_zone_lookup.csv"] = [(200, b"", 3.0)] * 2
    result = run_ingest(
        data_dir,
        "--sources",
        "zones",
        "--mirror",
        base,
        env={"MOBILITY_HTTP_TIMEOUT": "0.5", "MOBILITY_HTTP_ATTEMPTS": "2", "MOBILITY_HTTP_BACKOFF": "0"},
    )
    assert result.returncode == 1
    assert "taxi_zone_lookup.csv failed after retries" in result.stderr and "Timeout" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--months", "2024-09'; DROP TABLE raw_tlc.yellow_trips"], "is not a month"),
        (["--months", "2024-11:2024-09"], "ends before it starts"),
        (["--sources", "yellow,taxis"], "unknown sources ['taxis']"),
        (["--mirror", "ftp://example/mirror"], "neither an existing folder nor an http(s) URL"),
        (["--mirror", "/no/such/folder"], "neither an existing folder nor an http(s) URL"),
    ],
)
def test_hostile_arguments_are_refused_before_work(args: list[str], message: str, data_dir: Path) -> None:
    result = run_ingest(data_dir, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (data_dir / "warehouse.duckdb").exists()


def test_a_source_lands_from_the_base_dlt_configuration_gives_it(sample_mirror: Path, data_dir: Path) -> None:
    """No --mirror: weather reads the mirror its dlt configuration names (SOURCES__WEATHER__BASE), never upstream."""
    result = run_ingest(
        data_dir, "--sources", "weather", "--months", "2024-09", env={"SOURCES__WEATHER__BASE": str(sample_mirror)}
    )
    assert result.returncode == 0, result.stderr
    landed = query(data_dir, "SELECT DISTINCT source_request, count(*) OVER () FROM raw_weather.hourly")
    assert landed == [("v1/archive/2024-09.json", expected_rows(sample_mirror, "weather")["2024-09"])]
