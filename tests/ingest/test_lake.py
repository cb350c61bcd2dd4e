"""Ingest on the spark gateway: the raw layer lands as Parquet files in the lake, a month replaced by files, and every
raw table is registered in Spark's catalog (ingest/lake.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, needs_spark, run_ingest
from tests.ingest.test_ingest import TABLES, expected_rows

pytestmark = [pytest.mark.spark, needs_spark]

SPARK = {"MOBILITY_GATEWAY": "spark"}
MONTHS = "2024-09:2024-10"
FILE_NAME = re.compile(r"^(\d{4}-\d{2}|static|empty)\.\d+(\.\d+)?\.[0-9a-z]+\.parquet$")
RAW_TABLES = [*TABLES.values(), "raw_tlc.taxi_zones"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny deterministic mirror of the two sample months."""
    out = tmp_path_factory.mktemp("lake_mirror")
    subprocess.run(
        [sys.executable, "-m", "ingest.sample", "--months", MONTHS, "--scale", "0.005", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """All five sources for the sample months, landed once on the spark gateway."""
    data = tmp_path_factory.mktemp("lake_landed")
    result = run_ingest(data, "--months", MONTHS, "--mirror", str(mirror), env=SPARK)
    assert result.returncode == 0, result.stderr
    return data


def table_dir(data: Path, table: str) -> Path:
    """A raw table's folder in the lake."""
    return data / "lake" / Path(*table.split("."))


def read(data: Path, table: str, sql: str) -> list[tuple]:
    """Runs `sql` over a raw table's files (the table is `raw` in it), as ingest's bookkeeping reads them."""
    with duckdb.connect() as connection:
        connection.execute(
            f"CREATE VIEW raw AS SELECT * FROM read_parquet('{table_dir(data, table)}/*.parquet', union_by_name=true)"
        )
        return connection.sql(sql).fetchall()


def month_counts(data: Path, table: str) -> dict[str, int]:
    """Rows per source month of a raw table's files."""
    return dict(read(data, table, "SELECT strftime(source_month, '%Y-%m'), count(*) FROM raw GROUP BY 1"))


def fingerprints(data: Path, table: str) -> dict[str, tuple]:
    """Rows and a content hash per source month, the load id left out."""
    rows = read(
        data,
        table,
        "SELECT strftime(source_month, '%Y-%m'), count(*), sum(hash(landed)) "
        "FROM (SELECT * EXCLUDE (_dlt_load_id) FROM raw) AS landed GROUP BY 1",
    )
    return {month: (count, digest) for month, count, digest in rows}


def test_files_are_flat_in_the_table_folders_and_named_by_month(landed: Path) -> None:
    for table in RAW_TABLES:
        folder = table_dir(landed, table)
        entries = sorted(path.name for path in folder.iterdir())
        assert entries and all(FILE_NAME.match(name) for name in entries), (table, entries)
        keys = {name.split(".")[0] for name in entries}
        assert keys == ({"static"} if table == "raw_tlc.taxi_zones" else {"2024-09", "2024-10"}), table
    assert {path.name for path in (landed / "lake" / "raw_tlc").iterdir()} >= {
        "yellow_trips",
        "green_trips",
        "taxi_zones",
        "_dlt_loads",
    }


def test_counts_per_month_equal_the_mirror(landed: Path, mirror: Path) -> None:
    for source, table in TABLES.items():
        assert month_counts(landed, table) == expected_rows(mirror, source), table
    assert read(landed, "raw_tlc.taxi_zones", "SELECT count(*) FROM raw") == [(265,)]
    lineage = read(
        landed,
        "raw_tlc.yellow_trips",
        "SELECT count(*) FILTER (source_file IS NULL OR source_row IS NULL OR _dlt_load_id IS NULL), "
        "count(DISTINCT _dlt_load_id) FROM raw",
    )
    assert lineage == [(0, 2)]


@pytest.fixture(scope="module")
def green_only(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> tuple[Path, Path]:
    """(data, private mirror copy) with only green landed for the sample months, on the spark gateway."""
    own = tmp_path_factory.mktemp("lake_green_mirror")
    shutil.copytree(mirror, own, dirs_exist_ok=True)
    data = tmp_path_factory.mktemp("lake_green")
    result = run_ingest(data, "--sources", "green", "--months", MONTHS, "--mirror", str(own), env=SPARK)
    assert result.returncode == 0, result.stderr
    return data, own


def test_sources_not_landed_get_a_schema_only_table(green_only: tuple[Path, Path], landed: Path) -> None:
    data, _ = green_only
    for table in RAW_TABLES:
        if table == "raw_tlc.green_trips":
            continue
        (empty,) = table_dir(data, table).iterdir()
        assert empty.name.startswith("empty.") and pq.ParquetFile(empty).metadata.num_rows == 0, table
        real = next(table_dir(landed, table).iterdir())
        assert pq.read_schema(empty).equals(pq.read_schema(real)), table


def test_reingest_replaces_only_that_month_and_repairs_a_crash(green_only: tuple[Path, Path]) -> None:
    data, own = green_only
    table = "raw_tlc.green_trips"
    before = fingerprints(data, table)

    same = run_ingest(data, "--sources", "green", "--months", "2024-10", "--mirror", str(own), env=SPARK)
    assert same.returncode == 0, same.stderr
    assert fingerprints(data, table) == before
    assert json.loads((data / "last_ingest.json").read_text())["changed_months"] == []

    path = own / "trip-data/green_tripdata_2024-10.parquet"
    trips = pq.read_table(path)
    pq.write_table(trips.slice(0, trips.num_rows - 7), path)
    # A crash mid-load of September: a file of a load dlt never completed, newer than the landed one.
    september = next(table_dir(data, table).glob("2024-09.*.parquet"))
    unfinished = september.with_name("2024-09.9999999999.5.deadbeef00.parquet")
    shutil.copy(september, unfinished)
    changed = run_ingest(data, "--sources", "green", "--months", "2024-10", "--mirror", str(own), env=SPARK)
    assert changed.returncode == 0, changed.stderr

    after = fingerprints(data, table)
    assert after["2024-09"] == before["2024-09"]
    assert after["2024-10"][0] == before["2024-10"][0] - 7
    assert not unfinished.exists()
    keys = sorted(name.name.split(".")[0] for name in table_dir(data, table).iterdir())
    assert keys == ["2024-09", "2024-10"]
    duplicates = read(data, table, "SELECT count(*) - count(DISTINCT (source_file, source_row)) FROM raw")
    assert duplicates == [(0,)]
    assert json.loads((data / "last_ingest.json").read_text())["changed_months"] == ["2024-10"]


SPARK_READ = """
import json, sys
from gateway import spark
session = spark.session()
out = {}
for table in sys.argv[1:]:
    months = "date_format(source_month, 'yyyy-MM')" if table != "raw_tlc.taxi_zones" else "'static'"
    counts = session.sql(f"SELECT {months}, count(*) FROM {table} GROUP BY 1").collect()
    out[table] = {
        "counts": {row[0]: row[1] for row in counts},
        "types": {field.name: field.dataType.simpleString() for field in session.table(table).schema},
        "location": session.sql(f"DESCRIBE TABLE EXTENDED {table}").where("col_name = 'Location'").collect()[0][1],
    }
first = "SELECT date_format(min(tpep_pickup_datetime), 'yyyy-MM-dd HH:mm:ss') FROM raw_tlc.yellow_trips"
out["first_pickup"] = session.sql(first).collect()[0][0]
out["infer_ntz"] = session.conf.get("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def spark_view(landed: Path) -> dict:
    """What Spark's catalog serves for every raw table: one Spark session (in its own process) for the module."""
    result = subprocess.run(
        [sys.executable, "-c", SPARK_READ, *RAW_TABLES],
        cwd=ROOT,
        env={**os.environ, "MOBILITY_DATA_DIR": str(landed), **SPARK},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_spark_reads_the_registered_tables(spark_view: dict, landed: Path) -> None:
    for table in TABLES.values():
        assert spark_view[table]["counts"] == month_counts(landed, table), table
        assert spark_view[table]["location"].rstrip("/").endswith(str(table_dir(landed, table))), table
    assert spark_view["raw_tlc.taxi_zones"]["counts"] == {"static": 265}
    yellow = spark_view["raw_tlc.yellow_trips"]["types"]
    assert yellow["source_month"] == "date" and yellow["vendor_id"] == "bigint" and yellow["_dlt_load_id"] == "string"
    # The files hold naive times (Parquet isAdjustedToUTC=false): TIMESTAMP_NTZ in Spark, or TIMESTAMP when the
    # gateway turns NTZ inference off (config.yaml); either way Spark shows the wall-clock value DuckDB reads.
    naive = "timestamp_ntz" if spark_view["infer_ntz"] == "true" else "timestamp"
    assert yellow["tpep_pickup_datetime"] == naive
    assert spark_view["raw_weather.hourly"]["types"]["time_utc"] == naive
    first = read(
        landed, "raw_tlc.yellow_trips", "SELECT strftime(min(tpep_pickup_datetime), '%Y-%m-%d %H:%M:%S') FROM raw"
    )
    assert spark_view["first_pickup"] == first[0][0]
