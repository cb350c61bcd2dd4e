"""The DuckDB path of the trip files (one SQL model per load) lands exactly what the Arrow path (the lake's) lands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest import tlc
from ingest.common import Month
from tests.conftest import REAL_FIXTURES, ROOT

REAL = {
    "yellow/yellow_tripdata_sample_hardwood.parquet": ("yellow", Month(2025, 1)),
    "yellow/yellow_tripdata_2025-02_sample5000.parquet": ("yellow", Month(2025, 2)),
    "green/green_tripdata_2023-12.parquet": ("green", Month(2023, 12)),
}


@pytest.fixture(scope="module")
def era_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str, Month]]:
    """Generated trip files of three eras (int64/double ids and counts, Airport_fee, cbd_congestion_fee)."""
    out = tmp_path_factory.mktemp("eras")
    files = []
    for month in ("2022-12", "2024-09", "2025-01"):
        subprocess.run(
            [sys.executable, "-m", "ingest.sample", "--months", month, "--scale", "0.00002", "--out", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        files += [
            (out / tlc.trip_file(service, Month.parse(month)), service, Month.parse(month))
            for service in ("yellow", "green")
        ]
    return files


def both_paths(path: Path, service: str, month: Month) -> tuple[pa.Table, pa.Table]:
    """The file through read_trip_batches (Arrow) and through trip_select run by DuckDB, in the same row order."""
    source_file = tlc.trip_file(service, month)
    arrow = pa.concat_tables(tlc.read_trip_batches(str(path), source_file, service, month))
    select = tlc.trip_select(str(path), source_file, service, month)
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'America/New_York'")  # the landed wall clock must not depend on the zone
        selected = connection.sql(select.sql).arrow()
        if not isinstance(selected, pa.Table):
            selected = selected.read_all()
    selected = selected.sort_by("source_row")
    assert select.num_rows == arrow.num_rows
    assert selected.schema.names == select.schema.names == arrow.schema.names
    return arrow, selected.cast(arrow.schema)


def assert_same(arrow: pa.Table, selected: pa.Table) -> None:
    for name in arrow.column_names:
        left, right = arrow.column(name), selected.column(name)
        assert left.null_count == right.null_count, name
        assert pc.all(pc.fill_null(pc.equal(left, right), True)).as_py(), name


def test_the_sql_model_selects_what_the_arrow_batches_hold_in_every_era(era_files: list) -> None:
    for path, service, month in era_files:
        assert_same(*both_paths(path, service, month))


@pytest.mark.skipif(not REAL_FIXTURES.is_dir(), reason="../shared/fixtures/real is not present")
@pytest.mark.parametrize("fixture", sorted(REAL))
def test_the_sql_model_selects_what_the_arrow_batches_hold_on_real_files(fixture: str) -> None:
    service, month = REAL[fixture]
    arrow, selected = both_paths(REAL_FIXTURES / fixture, service, month)
    assert arrow.num_rows > 0
    assert_same(arrow, selected)


def test_a_column_new_upstream_is_kept_and_an_instant_keeps_its_utc_wall_clock(tmp_path: Path, era_files: list) -> None:
    path, service, month = next(item for item in era_files if item[1] == "yellow")
    table = pq.read_table(path)
    pickup = table.column("tpep_pickup_datetime").cast(pa.timestamp("us", tz="UTC"))
    table = table.set_column(1, "tpep_pickup_datetime", pickup)
    table = table.append_column("Surge_Fee", pa.array([0.25] * table.num_rows))
    changed = tmp_path / path.name
    pq.write_table(table, changed)
    arrow, selected = both_paths(changed, service, month)
    assert_same(arrow, selected)
    assert "surge_fee" in selected.column_names and selected.schema.field("tpep_pickup_datetime").type.tz is None
    original = pq.read_table(path).column("tpep_pickup_datetime")
    assert selected.column("tpep_pickup_datetime").equals(original.cast(pa.timestamp("us")))
