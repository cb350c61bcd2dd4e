"""Land raw data with dlt: `python -m ingest [--sources ...] [--months YYYY-MM[:YYYY-MM]] [--mirror DIR-or-URL]`.

The months of a source land in one dlt load, or one per run of consecutive months that are all new to the table
(appended) or all landed already (merged): every file of the load is downloaded and checked (a CSV or JSON read
completely, a taxi Parquet file's footer) before anything is written, then dlt replaces those months' rows, and only
those, in one transaction (merge on `source_month`). A failure in a month's file stops that source with a
one-paragraph message naming the file: the months before it land, in a load of their own, and the warehouse keeps
the failing month and the later ones as they were; the other sources go on. A taxi file DuckDB refuses while it
inserts (a damaged page, a value that does not convert) fails its load; the months of that load then land one per
load up to it, and the error names its file, so it keeps out the same months as a file that fails to read.

On the `spark` gateway the same resources land as Parquet files in the lake instead, one load per month (its files
are named by it), a month replaced by files, and every raw table is registered in Spark's catalog at the end
(ingest/lake.py).
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
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
from dlt.extract import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

import gateway
from gateway import GatewayError, data_dir, faults, pending, warehouse_path
from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ingest import citibike, lake, tlc, weather
from ingest.common import FETCHED, Tally, check_mirror
from ingest.months import IngestError, Month, parse_months

# dlt reads .dlt/config.toml of this project whatever the working directory.
os.environ.setdefault("DLT_PROJECT_DIR", str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass(frozen=True)
class Source:
    """A landable raw table: the dlt source of its upstream (ingest/tlc.py, citibike.py, weather.py), the resource of
    that source which lands it, and the table's shape before anything has landed."""

    upstream: Callable[..., DltSource]
    table: str
    empty: Callable[[], pa.Table]
    monthly: bool = True
    # DuckDB reads the files where they lie (SQL models in the warehouse's dataset) instead of Arrow batches
    read_in_place: bool = False

    @property
    def dataset(self) -> str:
        """The raw dataset it lands in: the name of its dlt source."""
        return self.upstream.name

    @property
    def base(self) -> str:
        """Where it reads from when a run names no mirror: the base configured for its dlt source (`[sources.<section>]
        base` in .dlt/config.toml, SOURCES__<SECTION>__BASE), else its upstream (the default in ingest/settings.py)."""
        configured = dlt.config.get(f"sources.{self.upstream.section}.base", str)
        return configured or inspect.signature(self.upstream).parameters["base"].default

    def select(self, months: list[Month], base: str, tally: Tally, dataset: dlt.Dataset | None) -> DltSource:
        """The dlt source over `months` with only this table's resource selected (`dataset`: the warehouse's, for a
        source DuckDB reads in place; None on the lake)."""
        upstream = self.upstream(months, base, tally, **({"dataset": dataset} if self.read_in_place else {}))
        return upstream.with_resources(self.table)


SOURCES: dict[str, Source] = {
    "yellow": Source(tlc.source, "yellow_trips", lambda: tlc.empty_trips("yellow"), read_in_place=True),
    "green": Source(tlc.source, "green_trips", lambda: tlc.empty_trips("green"), read_in_place=True),
    "zones": Source(tlc.source, "taxi_zones", tlc.empty_zones, monthly=False),
    "citibike": Source(citibike.source, "trips", citibike.empty_rides),
    "weather": Source(weather.source, "hourly", weather.empty_hours),
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


def first_cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in the chain of `error` (itself, then its causes), or None."""
    seen = error
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def root_cause(error: BaseException) -> BaseException:
    """The IngestError inside dlt's step wrappers, if there is one."""
    return first_cause(error, IngestError) or error


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


def month_fingerprints(table: str, months: list[Month]) -> dict[Month, tuple | None]:
    """Rows and a content hash of each landed month (None when the month or the table is not there)."""
    found = {month: None for month in months}
    if not months or not table_exists(table):
        return found
    with raw_reader(table, read_only=False) as (connection, relation):
        rows = connection.execute(
            f"SELECT source_month, count(*), sum(hash(landed)) FROM (SELECT * EXCLUDE (_dlt_load_id) FROM {relation} "
            "WHERE source_month IN (SELECT unnest(?::DATE[]))) AS landed GROUP BY source_month",
            [[month.first_day for month in months]],
        ).fetchall()
    by_day = {day: (count, digest) for day, count, digest in rows}
    return {month: by_day.get(month.first_day) for month in months}


def span(months: list[Month]) -> str:
    """`2024-01` for one month, `2024-01..2024-12` for several, empty for none (zones)."""
    if not months:
        return ""
    return str(months[0]) if len(months) == 1 else f"{months[0]}..{months[-1]}"


class LandingFailed(IngestError):
    """A load failed; `month` is the month whose file was being read, when dlt wrote nothing of the load, and
    `refused` the months of a load DuckDB refused while it inserted them (it wrote nothing of them either)."""

    def __init__(self, message: str, label: str, month: Month | None, refused: list[Month] | None = None) -> None:
        super().__init__(message)
        self.label, self.month, self.refused = label, month, refused or []


class _RefusedLoadReported(logging.Filter):
    """Drops dlt's traceback of a load job DuckDB refused: landing_error() names the files and DuckDB's reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Terminal exception in job") or " failed terminally in load " in message)


def rejected_by_duckdb(error: PipelineStepFailed) -> BaseException | None:
    """DuckDB's own error when the warehouse refused a load's rows (a SQL model reading a damaged file or a column
    that does not convert), None when the load failed for another reason (a full disk: it resumes once there is
    space)."""
    return None if faults.cause(error) else first_cause(error.exception, duckdb.Error)


def landing_error(name: str, months: list[Month], error: PipelineStepFailed, tally: Tally) -> LandingFailed:
    """The one-paragraph error of a failed load, naming the month whose file was being read if one failed, or the
    files of the load DuckDB refused."""
    month = tally.reading if error.step in ("extract", "normalize") else None
    label = f"{name} {month or span(months)}".strip()
    cause = root_cause(error)
    if isinstance(cause, IngestError):
        return LandingFailed(str(cause), label, month)
    what = "it" if not months else f"this month ({months[0]})" if len(months) == 1 else f"these months ({span(months)})"
    refused = rejected_by_duckdb(error) if error.step == "load" else None
    if refused is not None and tally.files:
        files = ", ".join(str(path) for path in tally.files.values())
        return LandingFailed(
            f"DuckDB could not load {files}: {str(refused).splitlines()[0]}. Nothing of {what} was "
            "written. The file is damaged or has a column of an unexpected type: fetch it again, or fix MIRROR.",
            label,
            None,
            list(tally.files),
        )
    return LandingFailed(
        f"dlt failed in step '{error.step}': {cause}. Nothing of {what} was written; run the ingest again.",
        label,
        month,
    )


def load(name: str, months: list[Month], base: str) -> list[dict]:
    """Lands one source's first months of those given (none for zones) in one dlt load; returns them, per month.

    The load takes months while it holds fewer than LOAD_ROWS rows (ingest/settings.py), so a list of small files lands
    at once and a big file in a load of its own; taxi months, which DuckDB reads where they lie, share a load up to
    MODEL_LOAD_ROWS.
    """
    source = SOURCES[name]
    table = f"{source.dataset}.{source.table}"
    pipe = pipeline(source.dataset, str(months[0]) if months else lake.STATIC)
    tally = Tally()
    started = time.perf_counter()
    try:
        finish_interrupted(pipe)
        if on_lake():
            lake.tidy(source.dataset, [source.table])
        before = month_fingerprints(table, months)
        upstream = source.select(months, base, tally, None if on_lake() else pipe.dataset())
        resource = upstream.resources[source.table]
        if on_lake() or (months and not any(before.values())):
            # Months not landed yet are appended: one INSERT of one file, no staging copy, no delete. On the lake
            # every load appends its month's files and lake.tidy() then deletes the month's earlier files.
            resource.apply_hints(write_disposition="append")
        # A SQL model runs in the destination; Arrow batches go as Parquet files (dlt's default would be INSERT VALUES).
        model = resource.compute_table_schema().get("file_format") == "model"
        info = pipe.run(upstream, loader_file_format=None if model else "parquet")
        if on_lake():
            lake.tidy(source.dataset, [source.table])
    except PipelineStepFailed as error:
        if error.step in ("extract", "normalize") or (error.step == "load" and rejected_by_duckdb(error)):
            pipe.abort_packages()  # the package cannot load as it is: the next run must not retry it
        raise landing_error(name, months, error, tally) from error
    seconds = time.perf_counter() - started
    load_id = info.loads_ids[-1] if info.loads_ids else None
    if not months:
        rows = pipe.last_trace.last_normalize_info.row_counts.get(source.table, 0)
        return [summary(name, None, rows, FETCHED[-1], seconds, load_id, changed=False)]
    months = list(tally.files)  # the months this load read: each_month() leaves the others to the next load
    after = month_fingerprints(table, [month for month in months if before[month] is not None])
    total = sum(tally.rows.values())
    return [
        summary(
            name,
            month,
            tally.rows[month],
            tally.files[month],
            # the months of one load are read, written and committed together: its time is shared out by rows
            seconds * (tally.rows[month] / total if total else 1 / len(months)),
            load_id,
            changed=before[month] is not None and before[month] != after[month],
        )
        for month in months
    ]


def summary(
    name: str, month: Month | None, rows: int, file: Path, seconds: float, load_id: str | None, changed: bool
) -> dict:
    """What was landed of one (source, month), as last_ingest.json records it."""
    return {
        "source": name,
        "month": str(month) if month else None,
        "rows": rows,
        "megabytes": file.stat().st_size / 1e6,
        "seconds": seconds,
        "load_id": load_id,
        "changed": changed,
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


def batches(source: Source, months: list[Month], before_run: dict[str, set[str]]) -> list[list[Month]]:
    """The months of a source grouped into the loads that land them, in order.

    Zones are one load of no month. On the lake each month is a load of its own (its files are named by it). In the
    warehouse consecutive months are one load as long as they are all new to the table or all landed already, so new
    months are appended and only landed ones pay for the merge.
    """
    if not source.monthly:
        return [[]]
    if on_lake():
        return [[month] for month in months]
    held = before_run.get(f"{source.dataset}.{source.table}", set())
    groups: list[list[Month]] = []
    for month in months:
        if groups and (str(groups[-1][-1]) in held) == (str(month) in held):
            groups[-1].append(month)
        else:
            groups.append([month])
    return groups


def land(name: str, months: list[Month], base: str, before_run: dict[str, set[str]], landed: list[dict]) -> None:
    """Lands a batch of a source's months, in as many loads as LOAD_ROWS (MODEL_LOAD_ROWS for taxi months) asks for,
    marking re-landed and late months pending first; adds what landed to `landed`.

    When a month's file fails, dlt has written nothing of the load: the months before it land in a load of their own
    (marked pending again first), only the failing month stays pending, and the error is raised: the source stops.
    When DuckDB refuses a load of several months' files, they land again one month per load, up to the one it
    refuses, so a damaged file keeps out only its own month and the later ones, as a file that fails to read does.
    """
    source = SOURCES[name]
    table = f"{source.dataset}.{source.table}"
    again = {month: str(month) in before_run.get(table, set()) for month in months}
    late = {month: not again[month] and any(str(month) in held for held in before_run.values()) for month in months}
    # Write-ahead: a re-landed or late month is pending before dlt replaces it, so no crash can lose its restatement.
    added = {
        month: (again[month] or late[month])
        and pending.record(
            table, month.first_day, "re-landed" if again[month] else "landed after other sources of the month"
        )
        for month in months
    }
    remaining = months
    while True:
        try:
            results = load(name, remaining, base)
        except LandingFailed as error:
            if error.month is None and len(error.refused) < 2:
                raise  # the months stay pending if they were marked: a restatement redoes them
            failure = error
        else:
            failure = None
        if failure is not None:  # outside the except: a failure of the loads below must not chain to this one
            for month in remaining:  # dlt wrote nothing: only the failing month stays pending, the others land again
                if added[month] and month != failure.month:
                    pending.withdraw(table, month.first_day)
            if failure.month is None:
                for month in failure.refused:  # raises at the month DuckDB refuses
                    land(name, [month], base, before_run, landed)
                if remaining[len(failure.refused) :]:
                    land(name, remaining[len(failure.refused) :], base, before_run, landed)
                return
            failed = remaining.index(failure.month)
            if failed:
                land(name, remaining[:failed], base, before_run, landed)
            raise failure
        for result, month in zip(results, remaining or [None], strict=False):
            result["late"] = bool(month and late[month])
            result["changed"] = result["changed"] or result["late"]
            if month and added[month] and not result["changed"]:
                pending.withdraw(table, month.first_day)
            landed.append(result)
            print_result(f"{name} {month}" if month else name, result)
        remaining = remaining[len(results) :]
        if not remaining:
            return


def print_result(label: str, result: dict) -> None:
    """One line of progress per landed month: rows, MB, seconds, rows/s and whether it changed or came late."""
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
    print(
        f"{label:<18} {result['rows']:>10,} rows  {result['megabytes']:8.1f} MB  "
        f"{result['seconds']:6.1f} s  {rate:>10,.0f} rows/s"
        + ("  (landed after other sources of the month)" if result["late"] else "")
        + ("  (changed since last load)" * (result["changed"] and not result["late"]))
    )


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
        try:
            for batch in batches(source, months, before_run):
                land(name, batch, mirror or source.base, before_run, landed)
        except IngestError as error:  # a month that was marked stays pending: a restatement redoes it
            if faults.cause(error):  # a full disk or a read-only folder stops every source: say it once
                raise
            label = error.label if isinstance(error, LandingFailed) else name
            print(f"error: {label}: {error}", file=sys.stderr)
            failures += 1
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
        model = source.select([Month(2000, 1)] if source.monthly else [], source.base, Tally(), None)
        columns = model.resources[source.table].columns
        empty = dlt.resource([source.empty()], name=source.table, columns=columns, write_disposition="append")
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
    logging.getLogger("dlt").addFilter(_RefusedLoadReported())
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
