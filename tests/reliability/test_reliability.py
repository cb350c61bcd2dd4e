"""Nothing is lost: repeated loads and builds agree, killed processes resume cleanly, eras land in one schema."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, manifest, query, run_command, run_ingest

MART_FINGERPRINT = "SELECT count(*), sum(hash(mart)) FROM marts.{mart} AS mart"
MARTS = ("fct_taxi_trips", "fct_bike_trips", "agg_taxi_demand_by_zone_hour", "agg_taxi_vs_bike_by_day")


@pytest.fixture(scope="module")
def big_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One month large enough (150,000 taxi trips, 200,000 rides) that a load can be caught mid-way."""
    out = tmp_path_factory.mktemp("big-mirror")
    generate(out, "2024-09", "0.05")
    return out


@pytest.fixture(scope="module")
def era_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Months of three TLC eras (2022-12 old types, 2024-09, 2025-01 with the CBD fee) landed and built."""
    mirror, data = tmp_path_factory.mktemp("era-mirror"), tmp_path_factory.mktemp("era-data")
    for month in ("2022-12", "2024-09", "2025-01"):
        generate(mirror, month, "0.002")
        landed = run_ingest(data, "--months", month, "--mirror", str(mirror))
        assert landed.returncode == 0, landed.stderr
    build(data)
    return data


def generate(out: Path, months: str, scale: str) -> None:
    """Writes sample months into a mirror folder."""
    subprocess.run(
        [sys.executable, "-m", "ingest.sample", "--months", months, "--scale", scale, "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


TRIP_TABLES = ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips")


def raw_fingerprint(data: Path, tables: tuple[str, ...] = TRIP_TABLES) -> list[tuple]:
    """Rows, distinct lineage keys and a content hash of monthly raw tables."""
    rows = []
    for table in tables:
        rows += query(
            data,
            f"SELECT '{table}', count(*), count(DISTINCT (source_file, source_row)), sum(hash(raw)) "
            f"FROM (SELECT * EXCLUDE (_dlt_load_id) FROM {table}) AS raw",
        )
    return rows


def expected_counts(mirror: Path) -> dict[str, int]:
    """Rows per raw table for every month in the mirror's manifest."""
    tables = {"yellow": "raw_tlc.yellow_trips", "green": "raw_tlc.green_trips", "citibike": "raw_citibike.trips"}
    counts: dict[str, int] = {}
    for spec in manifest(mirror)["files"].values():
        if spec["source"] in tables:
            counts[tables[spec["source"]]] = counts.get(tables[spec["source"]], 0) + spec["rows"]
    return counts


def build(data: Path) -> None:
    """Builds dev and promotes it through the gate (make promote)."""
    result = run_command(data, sys.executable, "-m", "checks.promote", "--env", "dev")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_three_ingests_and_two_builds_agree(sample_mirror: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    fingerprints = []
    for _ in range(3):
        assert run_ingest(first, "--months", "2024-09:2024-10", "--mirror", str(sample_mirror)).returncode == 0
        fingerprints.append(raw_fingerprint(first))
    assert fingerprints[0] == fingerprints[1] == fingerprints[2]
    assert {table: rows for table, rows, _, _ in fingerprints[0]} == expected_counts(sample_mirror)
    assert run_ingest(second, "--months", "2024-09:2024-10", "--mirror", str(sample_mirror)).returncode == 0
    build(first)
    build(second)
    for mart in MARTS:
        sql = MART_FINGERPRINT.format(mart=mart)
        assert query(first, sql) == query(second, sql), mart


def wait_for(predicate, seconds: float, what: str) -> None:
    """Polls until `predicate()` is true."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("phase", ["extract", "load"])
def test_ingest_killed_mid_way_resumes_without_duplicates(big_mirror: Path, tmp_path: Path, phase: str) -> None:
    data = tmp_path / "data"
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingest",
            "--sources",
            "yellow,citibike",
            "--months",
            "2024-09",
            "--mirror",
            f"{big_mirror}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    working = data / ".dlt" / "raw_tlc"
    # dlt writes a package's files under normalize/<storage>/<load id>/new_jobs while it extracts, and moves them to
    # load/normalized/<load id>/started_jobs while it loads them into DuckDB.
    pattern = "load/normalized/*/started_jobs/yellow_trips*" if phase == "load" else "normalize/*/*/new_jobs/yellow*"
    try:
        wait_for(lambda: any(working.glob(pattern)) or process.poll() is not None, 120, f"the {phase} phase")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, f"the ingest ended before its {phase} phase could be interrupted"
    resumed = run_ingest(data, "--sources", "yellow,citibike", "--months", "2024-09", "--mirror", str(big_mirror))
    assert resumed.returncode == 0, resumed.stderr
    if phase == "load":
        assert "finishing interrupted load" in resumed.stderr
    tables = ("raw_tlc.yellow_trips", "raw_citibike.trips")
    counts = {table: (rows, keys) for table, rows, keys, _ in raw_fingerprint(data, tables)}
    expected = expected_counts(big_mirror)
    assert counts == {table: (expected[table], expected[table]) for table in tables}


# Runs `python -m ingest` and SIGKILLs it in the one moment a kill can leave committed rows behind: DuckDB has
# committed a yellow_trips job, dlt has not yet moved the job to completed_jobs, so the package is still pending.
KILLED_AFTER_COMMIT = """
import os, signal, sys
from dlt.common.storages.load_package import PackageStorage
complete_job = PackageStorage.complete_job
def killed_after_commit(self, load_id, file_name):
    if file_name.startswith("yellow_trips"):
        os.kill(os.getpid(), signal.SIGKILL)
    return complete_job(self, load_id, file_name)
PackageStorage.complete_job = killed_after_commit
from ingest.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_load_killed_after_its_commit_is_not_loaded_twice_by_the_next_ingest(
    sample_mirror: Path, tmp_path: Path
) -> None:
    """A job DuckDB committed before the kill is not loaded again, nor lost, when the next ingest finishes it.

    dlt records the commit (a pending transition marker) and completes the job without running it again. The next
    ingest lands another month, so no merge of the killed month could hide duplicates or restore deleted rows: this
    fails if anything besides dlt (like the DELETE of the pending load's rows that ingest/__main__.py once ran)
    touches a resumed package's rows.
    """
    data = tmp_path / "data"
    months = {"2024-09": 0, "2024-10": 0}
    for spec in manifest(sample_mirror)["files"].values():
        if spec["source"] == "yellow" and spec["month"] in months:
            months[spec["month"]] = spec["rows"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, "--sources", "yellow", "--months", "2024-09"]
        + ["--mirror", str(sample_mirror)],
        cwd=ROOT,
        env={**os.environ, "MOBILITY_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert query(data, "SELECT count(*) FROM raw_tlc.yellow_trips") == [(months["2024-09"],)], "nothing committed"
    assert any((data / ".dlt" / "raw_tlc" / "load" / "normalized").iterdir()), "dlt recorded the package as done"
    resumed = run_ingest(data, "--sources", "yellow", "--months", "2024-10", "--mirror", str(sample_mirror))
    assert resumed.returncode == 0, resumed.stderr
    assert "finishing interrupted load" in resumed.stderr
    ((table, rows, keys, _),) = raw_fingerprint(data, ("raw_tlc.yellow_trips",))
    assert (rows, keys) == (sum(months.values()), sum(months.values()))


def test_build_killed_mid_backfill_completes_on_the_next_plan(
    built_warehouse: Path, sample_mirror: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert run_ingest(data, "--months", "2024-09:2024-10", "--mirror", str(sample_mirror)).returncode == 0
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("sqlmesh")), "plan", "dev", "--auto-apply", "--no-prompts"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:
        if "[insert" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the plan ended before it could be interrupted"
    build(data)
    for mart in MARTS:
        sql = MART_FINGERPRINT.format(mart=mart)
        assert query(data, sql) == query(built_warehouse, sql), mart


def test_three_eras_land_in_one_schema_and_build_the_same_marts(era_warehouse: Path) -> None:
    months = query(
        era_warehouse,
        "SELECT strftime(source_month, '%Y-%m'), count(*), count(cbd_congestion_fee), "
        "count(airport_fee) + count(*) FILTER (payment_type = 0) "  # Flex Fare trips carry no airport fee
        "FROM raw_tlc.yellow_trips GROUP BY 1 ORDER BY 1",
    )
    assert [row[0] for row in months] == ["2022-12", "2024-09", "2025-01"]
    assert months[0][2] == 0 and months[1][2] == 0 and months[2][2] == months[2][1]
    assert all(row[3] == row[1] for row in months)
    fees = query(
        era_warehouse,
        "SELECT year(pickup_date), sum(cbd_congestion_fee_amount) > 0 FROM marts.agg_cbd_congestion_fees_by_day "
        "GROUP BY 1 ORDER BY 1",
    )
    assert fees == [(2022, False), (2024, False), (2025, True)]
    columns = query(
        era_warehouse,
        "SELECT strftime(pickup_at, '%Y'), "
        "count(*) FILTER ((passenger_count IS NULL AND payment_type_id <> 0) OR vendor_id IS NULL) "
        "FROM marts.fct_taxi_trips GROUP BY 1 ORDER BY 1",
    )
    assert [year for year, _ in columns] == ["2022", "2024", "2025"] and all(nulls == 0 for _, nulls in columns)


def test_soda_opens_the_warehouse_read_only(built_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checks.soda_core import Scan

    monkeypatch.setenv("MOBILITY_DATA_DIR", str(built_warehouse))
    scan = Scan()
    scan.add_configuration_yaml_file(str(ROOT / "checks" / "configuration.yml"))
    data_source = scan._data_source_manager.get_data_source("warehouse")
    try:
        assert data_source.connection.execute("SELECT count(*) FROM marts.dim_zones").fetchone()[0] > 0
        with pytest.raises(duckdb.Error, match="read-only"):
            data_source.connection.execute("CREATE TABLE marts.written_by_a_reader AS SELECT 1")
    finally:
        data_source.connection.close()


def test_documented_bi_connection_is_read_only(built_warehouse: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert "read_only=True" in snippet
    namespace: dict = {}
    exec(snippet.replace("data/warehouse.duckdb", str(built_warehouse / "warehouse.duckdb")), namespace)
    connection = namespace["connection"]
    with pytest.raises(duckdb.Error, match="read-only"):
        connection.execute("CREATE TABLE marts.written_by_a_reader AS SELECT 1")
    connection.close()


@pytest.mark.parametrize(
    "command, message",
    [
        (["ops.restate", "--month", "2024-09'; DROP TABLE marts.fct_taxi_trips; --"], "is not a month"),
        (["ops.run", "--months", "2024-13"], "is not a month"),
        (["ops.run", "--sources", "taxis"], "unknown sources"),
        (["ops.run", "--mirror", "s3://bucket/mirror"], "neither an existing folder nor an http(s) URL"),
        (["ops.bench", "--scale", "0", "--months", "2024-09"], "must be above 0"),
    ],
)
def test_hostile_values_are_refused_by_every_command(command: list[str], message: str, data_dir: Path) -> None:
    result = run_command(data_dir, sys.executable, "-m", *command)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "warehouse.duckdb").exists()


def test_bad_file_leaves_raw_and_prod_as_they_were(scratch: tuple[Path, Path], sample_mirror: Path, tmp_path) -> None:
    _, data = scratch
    mirror = tmp_path / "broken-mirror"
    shutil.copytree(sample_mirror, mirror)
    target = mirror / "trip-data/yellow_tripdata_2024-10.parquet"
    target.write_bytes(target.read_bytes()[:-4096])
    marts_before = [query(data, MART_FINGERPRINT.format(mart=mart)) for mart in MARTS]
    raw_before = raw_fingerprint(data)
    result = run_ingest(data, "--sources", "yellow", "--months", "2024-09:2024-10", "--mirror", str(mirror))
    assert result.returncode == 1 and "yellow_tripdata_2024-10.parquet" in result.stderr
    assert raw_fingerprint(data) == raw_before
    assert [query(data, MART_FINGERPRINT.format(mart=mart)) for mart in MARTS] == marts_before
