"""What every layer shares about the warehouse: which gateway, where its data lives, how to read it.

Ingest, checks, ops, the dashboard and the Makefile all ask here, so switching gateway is a change in one place.
The one-writer lock is gateway/lock.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the SQLMesh project: config.yaml, models/, checks/
GATEWAY_VARIABLE = "MOBILITY_GATEWAY"  # config.yaml's default_gateway reads the same variable
DEFAULT_GATEWAY = "local"
# The SQLMesh gateways of config.yaml and the engine each runs on; `postgres` keeps DuckDB, with the state in Postgres.
ENGINES = {"local": "duckdb", "postgres": "duckdb", "spark": "spark"}
# ops/candidate.py's undo journal in the warehouse while months of prod are restated before their checks, and the
# variable that carries its token to the commands allowed to read meanwhile (as macros/gate.py names them).
JOURNAL_SCHEMA = "candidate_undo"
CANDIDATE_TOKEN = "MOBILITY_CANDIDATE_TOKEN"
# The raw months passing scans accepted (checks/approvals.py writes it, the scan and macros/gate.py read it).
ACCEPTED_TABLE = "gate.accepted_months"


class GatewayError(Exception):
    """The warehouse cannot be used as asked; the message says why and what to do."""


class WarehouseUnreadable(GatewayError):
    """The warehouse cannot be opened for reading: not built yet, or a writer holds it."""


class WarehouseDamaged(WarehouseUnreadable):
    """The warehouse file is not a readable DuckDB database (truncated, overwritten, not DuckDB at all)."""


LOCK_CONFLICT = re.compile(r"Could not set lock on file|Conflicting lock is held")


def is_lock_conflict(error: duckdb.Error) -> bool:
    """True when DuckDB refused the file because another process holds its lock (and for nothing else: a damaged
    file's checksum error mentions a "block", which is not a lock)."""
    return bool(LOCK_CONFLICT.search(str(error)))


def damaged(path: Path, error: duckdb.Error) -> WarehouseDamaged:
    """The one-paragraph error for a warehouse file DuckDB cannot read, other than a lock held elsewhere."""
    cause = str(error).strip().splitlines()[0]
    return WarehouseDamaged(
        f"The warehouse {path} cannot be opened: {cause}. No other process holds it: the file itself is damaged "
        "(truncated or overwritten, e.g. by a full disk or a copy cut short). Nothing was written. Restore it from "
        "a backup, or move it aside and rebuild it from the raw sources (`make ingest`, then `make promote`)."
    )


def name() -> str:
    """The SQLMesh gateway in use: MOBILITY_GATEWAY, `local` when unset or empty (as in config.yaml)."""
    return os.environ.get(GATEWAY_VARIABLE) or DEFAULT_GATEWAY


def engine() -> str:
    """The engine the gateway in use runs on, or a GatewayError naming the gateways there are."""
    gateway = name()
    if gateway not in ENGINES:
        raise GatewayError(f"{GATEWAY_VARIABLE}={gateway} is not a gateway: choose one of {', '.join(ENGINES)}.")
    return ENGINES[gateway]


def data_dir() -> Path:
    """The folder that holds the warehouse, downloads and dlt's working files."""
    return Path(os.environ.get("MOBILITY_DATA_DIR") or "data").resolve()  # empty is unset, as in config.yaml


MARKER = ".nyc-mobility"  # in a data folder this project created; `make clean` deletes only such a folder
# What the project writes in its data folder: a folder holding nothing else is the project's (SQLMesh writes its cache
# there on any command, `make test` included; a folder from before the marker holds these).
OWN_ENTRIES = frozenset(
    {MARKER, ".sqlmesh_cache", ".dlt", ".dlt-lake", "warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.lock"}
    | {"mirror", "downloads", "lake", "spark", "bench", "parity", "report", "last_ingest.json"}
    | {"ui.pid", "ui.log", "dashboard.pid", "dashboard.log", "restate-candidate", "run-candidate"}
    | {"spark-before-run", "spark-before-restate"}
)


def own_data_dir(inside: Path | None = None) -> Path:
    """The data folder, created with its marker when it does not exist yet (or holds only what the project writes
    there), for a command that writes there; with `inside`, only when that path lies within the data folder (a --out
    given elsewhere is not ours)."""
    folder = data_dir()
    if inside is not None and folder != inside.resolve() and folder not in inside.resolve().parents:
        return folder
    if (folder / MARKER).exists():
        return folder
    if not folder.exists() or (folder.is_dir() and {entry.name for entry in folder.iterdir()} <= OWN_ENTRIES):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(
            "This folder holds nyc-mobility's warehouse and working files; `make clean` deletes it whole.\n"
        )
    return folder


def warehouse_path() -> Path:
    """The one DuckDB file every layer lives in."""
    return data_dir() / "warehouse.duckdb"


def exists() -> bool:
    """True once the gateway's warehouse has been created: the DuckDB file, or on Spark the state beside its tables
    (SQLMesh creates it with the first plan, and every command that reads prod opens it)."""
    if engine() == "spark":
        return (spark_dir() / "state.duckdb").exists()
    return warehouse_path().exists()


def spark_dir() -> Path:
    """The Spark gateway's own files: its warehouse folder, metastore and SQLMesh state."""
    return data_dir() / "spark"


def lake_dir() -> Path:
    """The Spark gateway's raw layer: the Parquet files dlt lands (ingest/lake.py)."""
    return data_dir() / "lake"


def open_read_only(command: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse, or a WarehouseUnreadable saying why not and to run `command` again.

    On the spark gateway, a gateway.spark.SparkReader with the same execute/fetch calls."""
    if engine() == "spark":
        from gateway import spark

        return spark.SparkReader()  # the same calls, on Spark
    path = warehouse_path()
    if not path.exists():
        raise WarehouseUnreadable(f"No warehouse at {path} yet: `make demo` builds one.")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        if not is_lock_conflict(error):
            raise damaged(path, error) from None
        raise WarehouseUnreadable(
            f"{path} cannot be read now ({error}); run `{command}` when the writer is done."
        ) from None
    if not os.environ.get(CANDIDATE_TOKEN) and has_journal(connection):
        connection.close()
        raise WarehouseUnreadable(
            f"{path} holds months of prod that are being restated and have not passed their checks yet (or a "
            f"restatement that was cut short: the next make check, run or restate puts prod back); run `{command}` "
            "again when it is done."
        )
    return connection


def has_journal(connection: duckdb.DuckDBPyConnection) -> bool:
    """True while the warehouse holds ops/candidate.py's undo journal: prod's tables hold unchecked months."""
    return bool(
        connection.execute(
            # a literal, not a bound parameter: DuckDB's client imports pandas (0.3-0.6 s) to bind the first one
            "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() "
            f"AND schema_name = '{JOURNAL_SCHEMA}'"
        ).fetchone()[0]
    )
