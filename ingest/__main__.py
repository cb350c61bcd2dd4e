"""Land raw data with dlt: `python -m ingest [--sources ...] [--months YYYY-MM[:YYYY-MM]] [--mirror DIR-or-URL]`.

Each (source, month) is one dlt load: the file is downloaded and read completely before anything is written, then
dlt replaces that month's rows in one transaction (merge on `source_month`). A failure stops that source with a
one-paragraph message and leaves the warehouse as it was for that month; the other sources go on.

On the `spark` gateway the same resources land as Parquet files in the lake instead, a month replaced by files, and
every raw table is registered in Spark's catalog at the end (ingest/lake.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed

import gateway
from gateway import GatewayError, data_dir, faults, pending, warehouse_path
from gateway.lock import WarehouseBusy, warehouse_lock
from ingest import citibike, lake, tlc, weather
from ingest.common import FETCHED, IngestError, Month, check_mirror, parse_months

EXIT_BUSY = 75  # the warehouse is held by another writer (EX_TEMPFAIL: try again later), as every workflow command

# dlt reads .dlt/config.toml of this project whatever the working directory.
os.environ.setdefault("DLT_PROJECT_DIR", str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass(frozen=True)
class Source:
    """A landable source: its raw dataset, default base, and how to build the dlt resource for a month."""

    dataset: str
    base: str
    resource: Callable[[Month | None, str], dlt.sources.DltResource]
    table: str
    empty: Callable[[], pa.Table]
    monthly: bool = True


SOURCES: dict[str, Source] = {
    "yellow": Source(
        "raw_tlc",
        tlc.TLC_BASE,
        lambda m, b: tlc.trips("yellow", m, b),
        "yellow_trips",
        lambda: tlc.empty_trips("yellow"),
    ),
    "green": Source(
        "raw_tlc", tlc.TLC_BASE, lambda m, b: tlc.trips("green", m, b), "green_trips", lambda: tlc.empty_trips("green")
    ),
    "zones": Source(
        "raw_tlc", tlc.TLC_BASE, lambda m, b: tlc.taxi_zones(b), "taxi_zones", tlc.empty_zones, monthly=False
    ),
    "citibike": Source("raw_citibike", citibike.CITIBIKE_BASE, citibike.rides, "trips", citibike.empty_rides),
    "weather": Source("raw_weather", weather.OPEN_METEO_BASE, weather.hourly, "hourly", weather.empty_hours),
}
DEFAULT_SOURCES = "yellow,green,zones,citibike,weather"


def parse_sources(spec: str) -> list[str]:
    """Validates a comma-separated SOURCES list against the known sources."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not names:
        raise IngestError(f"SOURCES='{spec}' names unknown sources {unknown}; choose from {', '.join(SOURCES)}.")
    return names


def on_lake() -> bool:
    """True when the gateway's raw layer is the Parquet lake (spark), False for the DuckDB warehouse."""
    return gateway.engine() == "spark"


def raw_tables(dataset: str | None = None) -> list[str]:
    """Every raw table `<dataset>.<table>`, or those of one dataset."""
    return [f"{s.dataset}.{s.table}" for s in SOURCES.values() if dataset is None or s.dataset == dataset]


def tidy_lake() -> None:
    """Keeps only the files of each month's newest completed load in every raw table of the lake (ingest/lake.py)."""
    for dataset in sorted({source.dataset for source in SOURCES.values()}):
        lake.tidy(dataset, [table.split(".")[1] for table in raw_tables(dataset)])


def pipeline(dataset: str, key: str = lake.STATIC) -> dlt.Pipeline:
    """The dlt pipeline landing one raw dataset in the warehouse (on the lake: its files named by `key`)."""
    if on_lake():
        return dlt.pipeline(
            pipeline_name=dataset,
            destination=lake.destination(key),
            dataset_name=dataset,
            pipelines_dir=str(lake.pipelines_dir()),
        )
    return dlt.pipeline(
        pipeline_name=dataset,
        destination=dlt.destinations.duckdb(str(warehouse_path())),
        dataset_name=dataset,
        pipelines_dir=str(data_dir() / ".dlt"),
    )


def root_cause(error: BaseException) -> BaseException:
    """The IngestError inside dlt's step wrappers, if there is one."""
    seen = error
    while seen is not None:
        if isinstance(seen, IngestError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return error


def finish_interrupted(pipe: dlt.Pipeline) -> None:
    """Completes packages an interrupted run left behind, before this run measures or lands anything.

    dlt resumes a package job by job: a job DuckDB rolled back runs again, and a job whose commit dlt recorded (its
    pending transition marker) is completed without running again, so a resumed load writes each row once. Deleting
    the package's rows here as well would lose the committed jobs (tests/reliability: killed after its commit).
    """
    if not pipe.has_pending_data:
        return
    pending = [*pipe.list_extracted_load_packages(), *pipe.list_normalized_load_packages()]
    if on_lake():
        # The month a package's files are named by is not in the package: drop it, and lake.tidy() deletes the files
        # it wrote before the crash. The month keeps its previous files until its next ingest.
        print(f"{pipe.dataset_name}: dropping interrupted load(s) {', '.join(pending)}", file=sys.stderr)
        pipe.drop_pending_packages()
        return
    print(f"{pipe.dataset_name}: finishing interrupted load(s) {', '.join(pending)}", file=sys.stderr)
    pipe.normalize()
    pipe.load()


def table_exists(table: str) -> bool:
    """True when the warehouse (on spark: the lake) has the raw table."""
    if on_lake():
        return lake.exists(table)
    if not warehouse_path().exists():
        return False
    schema, name = table.split(".")
    with duckdb.connect(str(warehouse_path())) as connection:
        found = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
    return bool(found)


@contextmanager
def raw_reader(table: str, read_only: bool = True) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A DuckDB connection and the expression that reads a raw table: the warehouse's table, or on spark its files."""
    if on_lake():
        with lake.reader() as connection:
            yield connection, lake.scan(table)
    else:
        with duckdb.connect(str(warehouse_path()), read_only=read_only) as connection:
            yield connection, table


def month_fingerprint(table: str, month: Month | None) -> tuple | None:
    """Rows and a content hash of one landed month (None when the month or table is not there)."""
    if month is None or not table_exists(table):
        return None
    with raw_reader(table, read_only=False) as (connection, relation):
        row = connection.execute(
            f"SELECT count(*), sum(hash(landed)) FROM (SELECT * EXCLUDE (_dlt_load_id) FROM {relation} "
            "WHERE source_month = ?) AS landed",
            [month.first_day],
        ).fetchone()
    return row if row[0] else None


def load(name: str, month: Month | None, base: str) -> dict:
    """Loads one source for one month (or once, for zones) and returns what was landed."""
    source = SOURCES[name]
    table = f"{source.dataset}.{source.table}"
    pipe = pipeline(source.dataset, str(month) if month else lake.STATIC)
    started = time.perf_counter()
    try:
        finish_interrupted(pipe)
        if on_lake():
            lake.tidy(source.dataset, [source.table])
        before = month_fingerprint(table, month)
        resource = source.resource(month, base)
        if on_lake() or (month is not None and before is None):
            # A month not landed yet is appended: one INSERT of one file, no staging copy, no delete. On the lake
            # every load appends its month's files and lake.tidy() then deletes the month's earlier files.
            resource.apply_hints(write_disposition="append")
        info = pipe.run(resource, loader_file_format="parquet")
        if on_lake():
            lake.tidy(source.dataset, [source.table])
    except PipelineStepFailed as error:
        if error.step in ("extract", "normalize"):
            pipe.abort_packages()
        cause = root_cause(error)
        if isinstance(cause, IngestError):
            raise IngestError(str(cause)) from error
        raise IngestError(
            f"{name} {month or ''}: dlt failed in step '{error.step}': {cause}. Nothing of this month was "
            "written; run the ingest again."
        ) from error
    seconds = time.perf_counter() - started
    rows = pipe.last_trace.last_normalize_info.row_counts.get(source.table, 0)
    return {
        "source": name,
        "month": str(month) if month else None,
        "rows": rows,
        "megabytes": FETCHED[-1].stat().st_size / 1e6 if FETCHED else 0.0,
        "seconds": seconds,
        "load_id": info.loads_ids[-1] if info.loads_ids else None,
        "changed": before is not None and before != month_fingerprint(table, month),
    }


def landed_months() -> dict[str, set[str]]:
    """The months each monthly raw table holds, as YYYY-MM, by table."""
    months = {}
    for source in SOURCES.values():
        table = f"{source.dataset}.{source.table}"
        if not source.monthly or not table_exists(table):
            continue
        with raw_reader(table) as (connection, relation):
            rows = connection.execute(f"SELECT DISTINCT strftime(source_month, '%Y-%m') FROM {relation}").fetchall()
        months[table] = {row[0] for row in rows}
    return months


def run(names: list[str], months: list[Month], mirror: str | None) -> int:
    """Loads every source for every month, printing progress; returns the number of failed sources.

    A month is reported changed when its content changed, and also when it lands late: new to this table while
    another source had already landed it before this run, so prod may have built the month without this source.
    """
    failures, landed = 0, []
    if on_lake():
        tidy_lake()  # repairs what a crashed run left in the lake before anything is measured
    before_run = landed_months()
    for name in names:
        source = SOURCES[name]
        base = mirror or source.base
        for month in months if source.monthly else [None]:
            label = f"{name} {month}" if month else name
            table = f"{source.dataset}.{source.table}"
            again = month is not None and str(month) in before_run.get(table, set())
            late = month is not None and not again and any(str(month) in held for held in before_run.values())
            # Write-ahead: the month is pending before dlt replaces it, so no crash can lose the restatement.
            added = (again or late) and pending.record(
                table, month.first_day, "re-landed" if again else "landed after other sources of the month"
            )
            try:
                result = load(name, month, base)
            except IngestError as error:  # the month stays pending if it was marked: a restatement redoes it
                if faults.cause(error):  # a full disk or a read-only folder stops every source: say it once
                    raise
                print(f"error: {label}: {error}", file=sys.stderr)
                failures += 1
                break
            result["late"] = late
            result["changed"] = result["changed"] or late
            if added and not result["changed"]:
                pending.withdraw(table, month.first_day)
            landed.append(result)
            rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
            print(
                f"{label:<18} {result['rows']:>10,} rows  {result['megabytes']:8.1f} MB  "
                f"{result['seconds']:6.1f} s  {rate:>10,.0f} rows/s"
                + ("  (landed after other sources of the month)" if result["late"] else "")
                + ("  (changed since last load)" * (result["changed"] and not result["late"]))
            )
    write_summary(landed)
    return failures


def create_missing_tables() -> list[str]:
    """Creates, empty and with dlt, every raw table no ingest has landed yet; returns the tables created.

    The models read every raw table, so a warehouse that has landed only some sources (no weather, no Citi Bike)
    still plans and promotes: the marts that need the missing source wait for it (signals/landed.py).
    """
    created = []
    for source in SOURCES.values():
        table = f"{source.dataset}.{source.table}"
        if table_exists(table):
            continue
        model = source.resource(Month(2000, 1) if source.monthly else None, source.base)
        empty = dlt.resource([source.empty()], name=source.table, columns=model.columns, write_disposition="append")
        pipeline(source.dataset, lake.EMPTY).run(empty, loader_file_format="parquet")
        if on_lake() and not lake.exists(table):
            raise IngestError(f"dlt wrote no schema-only file for {table} in {lake.table_dir(table)}.")
        created.append(table)
    return created


def write_summary(landed: list[dict]) -> None:
    """Records what this run landed in $MOBILITY_DATA_DIR/last_ingest.json, with the months whose content changed."""
    changed = sorted({result["month"] for result in landed if result["changed"]})
    summary = {"landed": landed, "changed_months": changed}
    (data_dir() / "last_ingest.json").write_text(json.dumps(summary, indent=2) + "\n")
    if changed:
        print(f"Months whose landed content changed: {', '.join(changed)} (restate them: make restate MONTH=...)")


@faults.reported("Landing")
def main(argv: list[str] | None = None) -> int:
    """Parses and validates every argument before any work starts, then lands the sources."""
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default=os.environ.get("SOURCES") or DEFAULT_SOURCES)
    parser.add_argument("--months", default=os.environ.get("MONTHS") or "2024-09:2024-11")
    parser.add_argument("--mirror", default=os.environ.get("MIRROR") or None)
    args = parser.parse_args(argv)
    faults.quiet_dlt()
    try:
        names = parse_sources(args.sources)
        months = parse_months(args.months)
        mirror = check_mirror(args.mirror)
        print(
            f"Landing {', '.join(names)} for {months[0]}..{months[-1]} from {mirror or 'upstream'} "
            f"into {lake.lake_dir() if on_lake() else warehouse_path()}"
        )
        with warehouse_lock(f"ingest {args.sources} {args.months}"):
            failures = run(names, months, mirror)
            created = create_missing_tables()
            if created:
                print(f"Created empty raw tables for sources not landed yet: {', '.join(created)}")
            if on_lake():
                tidy_lake()  # a load that failed in this run leaves files of an unfinished load: not for Spark
                started = time.perf_counter()
                lake.register(raw_tables())
                seconds = time.perf_counter() - started
                print(f"Registered {len(raw_tables())} raw tables in Spark's catalog ({seconds:.1f} s)")
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (IngestError, GatewayError) as error:
        if faults.cause(error):  # a full disk, a read-only folder: its own message (faults.reported)
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
