"""The raw layer of the `spark` gateway: dlt lands the conformed Arrow batches as Parquet files in the lake.

Layout. dlt's filesystem destination writes under `gateway.lake_dir()` (`$MOBILITY_DATA_DIR/lake`), one folder per
dataset and one flat folder per table (no subfolders: Spark would read `x=y` folders as partitions and ignore plain
ones of an unpartitioned table):

    lake/<dataset>/<table>/<key>.<load_id>.<file_id>.parquet     e.g. lake/raw_tlc/yellow_trips/2024-09.1764...parquet

`<key>` is the source month (YYYY-MM), `static` for the non-monthly zones table, and `empty` for the schema-only file
of a table no ingest has landed yet (0 rows, the schema of a real load, so that Spark has a schema to register).
dlt's own tables (`_dlt_loads`, `_dlt_pipeline_state`, `_dlt_version`) are folders beside the tables, in the dataset
folder. `_dlt_loads` holds one file per completed load: `<schema>__<load_id>.jsonl`.

Replacement. Parquet files cannot be merged into (no Delta/Iceberg offline), so a month is replaced by files: every
load appends its month's files under a new load id, and once dlt has completed the load, `tidy()` keeps, per table and
key, only the files of the newest completed load id and deletes the others (write new, then delete old). Other months'
files are never touched. The `empty` file is deleted as soon as the table has real files.

Crash repair. A crash before dlt completes a load leaves files whose load id is not in `_dlt_loads`; a crash after it
and before the delete leaves two completed loads of one month. Both states are repaired by `tidy()`, which every
ingest runs on every raw table before it measures or lands anything (again after each load, and before registering):
files of loads that never completed are deleted, and of completed loads only the newest per key is kept. Until that
next ingest, readers of the lake (Spark) see the crash state: a month twice, or part of an unfinished load. A package
an interrupted run left pending in dlt's working folder is dropped, not finished: its month is not in the package's
name, and the month's previous files stay in place until the next ingest of that month replaces them.

Lake files are kept, so they are snappy-compressed, unlike DuckDB's scratch files (`destination()`).

Bookkeeping (does the table exist, which months it holds, a month's fingerprint) reads the files with an in-memory
DuckDB (`read_parquet(..., union_by_name=true)`), so ingest needs no Spark for it. Registration: at the end of an
ingest `register()` starts the gateway's Spark session once and (re)creates every raw table as an external Parquet
table over its folder (`CREATE TABLE <dataset>.<table> USING parquet LOCATION ...`); dropping it keeps the files, and
re-creating it makes Spark infer the schema and list the files again.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import dlt
import duckdb

from gateway import data_dir, lake_dir
from ingest.common import IngestError

LAYOUT = "{table_name}/{month_key}.{load_id}.{file_id}.{ext}"
STATIC = "static"  # the key of the non-monthly zones table
EMPTY = "empty"  # the key of the schema-only file of a table not landed yet
FILE_RE = re.compile(r"^(?P<key>\d{4}-\d{2}|static|empty)\.(?P<load_id>\d+(?:\.\d+)?)\.[^.]+\.parquet$")
LOADS_TABLE = "_dlt_loads"
LOADS_RE = re.compile(r"^.+__(?P<load_id>\d+(?:\.\d+)?)\.jsonl$")


def destination(key: str) -> dlt.destinations.filesystem:
    """dlt's filesystem destination writing the lake, its files named by `key` (a month, `static` or `empty`).

    The lake keeps its files, so they are compressed (snappy), unlike the scratch files DuckDB reads once
    (.dlt/config.toml); dlt reads the environment before its config files.
    """
    os.environ["DATA_WRITER__COMPRESSION"] = "snappy"
    return dlt.destinations.filesystem(
        bucket_url=lake_dir().as_uri(), layout=LAYOUT, extra_placeholders={"month_key": key}
    )


def pipelines_dir() -> Path:
    """dlt's working folder for the lake pipelines, apart from the DuckDB ones (whose state names another one)."""
    return data_dir() / ".dlt-lake"


def table_dir(table: str) -> Path:
    """The folder of a raw table `<dataset>.<table>` in the lake."""
    dataset, name = table.split(".")
    return lake_dir() / dataset / name


def files(table: str) -> list[Path]:
    """The Parquet files of a raw table."""
    folder = table_dir(table)
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def exists(table: str) -> bool:
    """True when the lake has files (landed or schema-only) for the table."""
    return bool(files(table))


def scan(table: str) -> str:
    """The DuckDB table expression reading every file of a raw table."""
    return f"read_parquet('{table_dir(table)}/*.parquet', union_by_name=true)"


def reader() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for reading the lake's files."""
    return duckdb.connect()


def completed_loads(dataset: str) -> set[str]:
    """The load ids dlt completed for a dataset (its `_dlt_loads` entries)."""
    folder = lake_dir() / dataset / LOADS_TABLE
    if not folder.is_dir():
        return set()
    return {match.group("load_id") for path in folder.iterdir() if (match := LOADS_RE.match(path.name))}


def tidy(dataset: str, tables: Iterable[str]) -> list[Path]:
    """Keeps, per table and key, only the files of the newest completed load; returns the files deleted.

    Files of loads that never completed (a crash mid-load) go; of completed loads only the newest per key stays (a
    crash between the write of a month and the delete of its previous files); the `empty` file goes once the table has
    real files. Files not named in the layout are left alone.
    """
    completed = completed_loads(dataset)
    deleted = []
    for table in tables:
        newest: dict[str, Decimal] = {}
        named = []
        for path in files(f"{dataset}.{table}"):
            match = FILE_RE.match(path.name)
            if not match:
                continue
            named.append((path, match.group("key"), match.group("load_id")))
            if match.group("load_id") in completed:
                key = match.group("key")
                newest[key] = max(newest.get(key, Decimal(0)), Decimal(match.group("load_id")))
        landed = any(key != EMPTY for key in newest)
        for path, key, load_id in named:
            stale = load_id not in completed or Decimal(load_id) < newest[key] or (key == EMPTY and landed)
            if stale:
                path.unlink()
                deleted.append(path)
    if deleted:
        print(f"{dataset}: removed {len(deleted)} superseded or unfinished lake file(s)", file=sys.stderr)
    return deleted


def register(tables: Iterable[str]) -> None:
    """Creates each raw table `<dataset>.<table>` as an external Parquet table over its folder in Spark's catalog."""
    from gateway import spark

    session = spark.session()
    tables = list(tables)
    for dataset in sorted({table.split(".")[0] for table in tables}):
        session.sql(f"CREATE DATABASE IF NOT EXISTS {dataset}")
    for table in tables:
        try:
            session.sql(f"DROP TABLE IF EXISTS {table}")
            session.sql(f"CREATE TABLE {table} USING parquet LOCATION '{table_dir(table).as_uri()}'")
            session.sql(f"REFRESH TABLE {table}")
        except Exception as error:  # py4j's and Spark's errors have no common base worth naming
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise IngestError(
                f"Spark could not register {table} over {table_dir(table)}: {first}. The files are landed; run the "
                "ingest again to register the raw tables."
            ) from error
