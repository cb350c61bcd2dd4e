"""Where `make run` and `make restate` compute months before prod may show them: a candidate, kept only when the
checks pass, or discarded so that prod is exactly as it was.

- DuckDB (`MonthCandidate`): the warehouse changes in place, after an undo journal is committed in the warehouse
  itself (schema `candidate_undo`): the rows of the given months of every table the run or restatement rewrites
  (none yet for a new month), and SQLMesh's state and the gate's tables whole (they are small). `keep` drops the
  journal in one statement; anything else plays it back (deletes the months' new rows, puts the saved ones back,
  restores the small tables, drops tables created meanwhile in their schemas) in one transaction. Its cost is that
  of the months, not of the warehouse. While the journal exists, only the command that wrote it and its children
  (which carry its token) may read the warehouse (gateway.open_read_only refuses everyone else; the warehouse lock
  keeps writers out), and a process killed in between leaves the journal for the next command that touches prod
  to play back (`restore_leftovers`, from ops/recover.py). Rows a `sqlmesh run` computes outside the months (a day
  the state had forgotten) come from accepted data with approved versions; played back, the state forgets them
  again and the next run recomputes them.
- Spark in local mode (`SparkCandidate`): the tables, their embedded metastore and SQLMesh's state live under
  `$MOBILITY_DATA_DIR/spark/`, which one process at a time can open (Derby's lock, under the warehouse lock), so no
  reader sees them while they change. The folder is first put aside as `$MOBILITY_DATA_DIR/spark-before-<name>/`
  (the Parquet files hard-linked, as Spark writes new files and never rewrites one; the metastore and the state
  copied); the commands run in place; `keep` deletes the copy, anything else puts it back. A process killed
  in between leaves the copy behind, and the next command that touches prod puts it back first
  (`restore_leftovers`, from ops/recover.py). Only a Spark whose folders are local is changed this way; a cluster's
  shared metastore admits readers during the change, so there a run, restatement or promotion of months that have
  not passed the checks refuses and says why.

The gate's before_all (macros/gate.py) lets a prod run through on a candidate: on DuckDB when the journal's token
is the one the command's environment carries; on Spark while the marker file `spark/.candidate` names the copy put
aside.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb
from sqlmesh.core.engine_adapter import EngineAdapter
from sqlmesh.core.engine_adapter.duckdb import DuckDBEngineAdapter

import gateway
from gateway import CANDIDATE_TOKEN, JOURNAL_SCHEMA, pending
from macros.gate import SPARK_CANDIDATE_MARKER
from ops.common import WorkflowError, sqlmesh_context

BEFORE_PREFIX = "spark-before-"
JOURNALED_SCHEMAS = ("sqlmesh", "gate")  # SQLMesh's state and the gate's tables: saved whole in the journal


@dataclass(frozen=True)
class Slice:
    """Rows of one table the change may rewrite: `table` (a SQL name) `WHERE predicate` (DuckDB SQL)."""

    table: str
    predicate: str


class Reader(Protocol):
    """What the counts need of a connection: DuckDB's `execute(sql).fetchone()` (gateway.spark.SparkReader too)."""

    def execute(self, sql: str) -> Reader: ...
    def fetchone(self) -> tuple | None: ...
    def close(self) -> None: ...


class Candidate(Protocol):
    """A place to compute months of prod before anyone sees them."""

    data_dir: Path  # MOBILITY_DATA_DIR of the sqlmesh commands and the scan that run on the candidate

    def reader(self) -> contextlib.AbstractContextManager[Reader]: ...
    def adapter(self) -> contextlib.AbstractContextManager[EngineAdapter]: ...
    def keep(self, restated: list[date] | None = None) -> None: ...
    def discard(self) -> None: ...


class SparkCandidate:
    """Spark's local folders, changed in place after a copy of them is put aside; anything but `keep` restores it."""

    def __init__(self, name: str) -> None:
        from gateway import spark

        self.data_dir = gateway.data_dir()
        self.live = gateway.spark_dir()
        require_local(spark.settings(), self.live)
        restored = restore_leftovers(name)
        if restored:
            print(restored, flush=True)
        self.before = self.data_dir / f"{BEFORE_PREFIX}{name}"
        partial = self.before / "partial"
        shutil.rmtree(self.before, ignore_errors=True)
        self.before.mkdir()
        shutil.copytree(self.live, partial, copy_function=_link_or_copy)
        os.replace(partial, self.before / "spark")  # complete: from here on, restore_leftovers puts it back
        (self.live / SPARK_CANDIDATE_MARKER).write_text(f"{self.before}\n")

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        from gateway import spark

        with spark.SparkReader() as reader:
            yield reader

    @contextlib.contextmanager
    def adapter(self) -> Iterator[EngineAdapter]:
        with sqlmesh_context(load=False) as context:
            yield context.engine_adapter

    def keep(self, restated: list[date] | None = None) -> None:
        """Deletes the copy put aside (the commit), then the marker; then clears the restated months' pending rows
        (beside the lake: a crash before that restates them once more)."""
        os.replace(self.before / "spark", self.before / "kept")  # the commit: nothing to put back from here on
        shutil.rmtree(self.before)
        (self.live / SPARK_CANDIDATE_MARKER).unlink(missing_ok=True)
        if restated:
            pending.clear(restated)

    def discard(self) -> None:
        if self.before.exists():
            restore(self.before)


class MonthCandidate:
    """The DuckDB warehouse, changed in place after an undo journal of what the change may touch is committed."""

    def __init__(self, name: str, slices: Sequence[Slice]) -> None:
        self.data_dir = gateway.data_dir()
        self.warehouse = gateway.warehouse_path()
        restored = restore_leftovers(name)
        if restored:
            print(restored, flush=True)
        self.token = secrets.token_hex(16)
        with duckdb.connect(str(self.warehouse)) as connection:
            write_journal(connection, name, self.token, slices)
        os.environ[CANDIDATE_TOKEN] = self.token  # the commands run on the candidate, and their readers, carry it
        self.done = False

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            yield connection

    @contextlib.contextmanager
    def adapter(self) -> Iterator[EngineAdapter]:
        adapter = DuckDBEngineAdapter(lambda: duckdb.connect(str(self.warehouse)))
        try:
            yield adapter
        finally:
            adapter.close()

    def keep(self, restated: list[date] | None = None) -> None:
        """Clears the restated months' pending rows, then drops the journal: the commit (a kill before it plays the
        journal back, the pending rows and accepted months included)."""
        if restated:
            pending.clear(restated, self.warehouse)
        with duckdb.connect(str(self.warehouse)) as connection:
            connection.execute(f"DROP SCHEMA {JOURNAL_SCHEMA} CASCADE")
        self._finish()

    def discard(self) -> None:
        if not self.done:
            with duckdb.connect(str(self.warehouse)) as connection:
                play_back(connection)
            self._finish()

    def _finish(self) -> None:
        self.done = True
        if os.environ.get(CANDIDATE_TOKEN) == self.token:
            del os.environ[CANDIDATE_TOKEN]


def write_journal(connection: duckdb.DuckDBPyConnection, step: str, token: str, slices: Sequence[Slice]) -> None:
    """Saves the slices and every table of JOURNALED_SCHEMAS in the journal, in one transaction."""
    listed = ", ".join(f"'{schema}'" for schema in JOURNALED_SCHEMAS)
    whole = connection.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND schema_name IN ({listed}) ORDER BY ALL"
    ).fetchall()
    saved = [*slices, *(Slice(f'"{schema}"."{table}"', "TRUE") for schema, table in whole)]
    connection.execute("BEGIN")
    connection.execute(f"CREATE SCHEMA {JOURNAL_SCHEMA}")
    connection.execute(
        f"CREATE TABLE {JOURNAL_SCHEMA}.owner AS SELECT ? AS step, ? AS token, now() AS started_at", [step, token]
    )
    connection.execute(f"CREATE TABLE {JOURNAL_SCHEMA}.entries (saved VARCHAR, target VARCHAR, predicate VARCHAR)")
    for number, entry in enumerate(saved):
        copy = f"{JOURNAL_SCHEMA}.saved_{number}"
        connection.execute(f"CREATE TABLE {copy} AS SELECT * FROM {entry.table} WHERE {entry.predicate}")
        connection.execute(
            f"INSERT INTO {JOURNAL_SCHEMA}.entries VALUES (?, ?, ?)", [copy, entry.table, entry.predicate]
        )
    connection.execute("COMMIT")


def journal_step(connection: duckdb.DuckDBPyConnection) -> str | None:
    """The step (run, restate) whose journal the warehouse holds, or None."""
    if not gateway.has_journal(connection):  # written in one transaction: the schema never lacks its owner row
        return None
    return connection.execute(f"SELECT step FROM {JOURNAL_SCHEMA}.owner").fetchone()[0]


def play_back(connection: duckdb.DuckDBPyConnection) -> None:
    """Puts back what the journal saved and drops the tables the change created in JOURNALED_SCHEMAS, then the
    journal: one transaction, so a kill during it leaves the journal to play back again."""
    if journal_step(connection) is None:
        return
    entries = connection.execute(f"SELECT saved, target, predicate FROM {JOURNAL_SCHEMA}.entries").fetchall()
    listed = ", ".join(f"'{schema}'" for schema in JOURNALED_SCHEMAS)
    now = connection.execute(
        "SELECT '\"' || schema_name || '\".\"' || table_name || '\"' FROM duckdb_tables() "
        f"WHERE database_name = current_database() AND schema_name IN ({listed})"
    ).fetchall()
    connection.execute("BEGIN")
    for (table,) in now:
        if table not in {target for _, target, _ in entries}:
            connection.execute(f"DROP TABLE {table}")
    for saved, target, predicate in entries:
        connection.execute(f"DELETE FROM {target} WHERE {predicate}")
        connection.execute(f"INSERT INTO {target} SELECT * FROM {saved}")
    connection.execute(f"DROP SCHEMA {JOURNAL_SCHEMA} CASCADE")
    connection.execute("COMMIT")


def open_candidate(name: str, slices: Sequence[Slice]) -> Candidate:
    """The candidate of the gateway in use, for `name` (run or restate) of the months whose rows `slices` name."""
    return MonthCandidate(name, slices) if gateway.engine() == "duckdb" else SparkCandidate(name)


@contextlib.contextmanager
def candidate(name: str, slices: Sequence[Slice]) -> Iterator[Candidate]:
    """A candidate that is discarded unless the block called its `keep` (an error or a kill included)."""
    opened = open_candidate(name, slices)
    try:
        yield opened
    finally:
        opened.discard()


def checkpoint(path: Path) -> None:
    """Folds DuckDB's write-ahead log into the file, so that the file alone is the whole database."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("CHECKPOINT")
    if Path(f"{path}.wal").exists():
        raise WorkflowError(f"{path}.wal is still there after a CHECKPOINT: another process has the file open.")


def require_local(settings: dict[str, str], live: Path) -> None:
    """A WorkflowError unless Spark runs locally with its warehouse and metastore under `live`."""
    master = settings.get("spark.master", "")
    warehouse = settings.get("spark.sql.warehouse.dir", "").removeprefix("file:")
    metastore = re.search(r"-Dderby\.system\.home=(\S+)", settings.get("spark.driver.extraJavaOptions", ""))
    folders = [warehouse, metastore.group(1) if metastore else ""]
    if master.startswith("local") and all(folder and _under(Path(folder), live) for folder in folders):
        return
    raise WorkflowError(
        "New or re-landed months are computed where no reader sees them until their checks pass; on Spark that is "
        f"a copy of the local folders under {live}, and this gateway runs on master `{master}` with its warehouse "
        f"at `{warehouse}`: readers of a shared metastore would see the months unchecked. Prod was not changed. On "
        "a cluster this needs tables with snapshots to write, audit and then publish (Iceberg or Delta branches), "
        "which this project does not configure."
    )


def _under(folder: Path, live: Path) -> bool:
    return folder.resolve().is_relative_to(live.resolve())


def _link_or_copy(source: str, target: str) -> str:
    """Parquet data and checksum files are hard-linked (Spark never rewrites one); the rest is copied."""
    if "/warehouse/" in source and not source.endswith((".lck", ".lock")):
        try:
            os.link(source, target)
            return target
        except OSError:
            pass  # another file system: copy
    return shutil.copy2(source, target)


def restore(before: Path) -> None:
    """Puts the Spark folders put aside in `before` back in place of the live ones, in two renames."""
    live = gateway.spark_dir()
    discarded = before / "discarded"
    if (before / "spark").exists():
        shutil.rmtree(discarded, ignore_errors=True)
        if live.exists():
            os.replace(live, discarded)
        os.replace(before / "spark", live)
    shutil.rmtree(before, ignore_errors=True)


def restore_leftovers(step: str) -> str | None:
    """Puts back what a killed run or restatement changed before its checks (the DuckDB journal, or the Spark
    folders put aside); the line saying so, or None."""
    if gateway.engine() == "duckdb":
        return play_back_leftover(step)
    restored = []
    for before in sorted(gateway.data_dir().glob(f"{BEFORE_PREFIX}*")):
        if (before / "spark").exists():
            restore(before)
            restored.append(before.name.removeprefix(BEFORE_PREFIX))
        else:
            shutil.rmtree(before, ignore_errors=True)  # the copy itself was cut short: nothing had changed yet
    if not restored:
        return None
    return (
        f"[{step}] a `make {', '.join(restored)}` that did not finish had changed Spark's tables before their checks; "
        "put back the copy taken before it: prod is as it was before that command"
    )


def play_back_leftover(step: str) -> str | None:
    """Plays back the journal a killed process left in the DuckDB warehouse; the line saying so, or None."""
    if not gateway.warehouse_path().exists():
        return None
    with duckdb.connect(str(gateway.warehouse_path())) as connection:
        left = journal_step(connection)
        if left is None:
            return None
        play_back(connection)
    return (
        f"[{step}] a `make {left}` that did not finish had changed months of prod before their checks; played back "
        "its journal: prod is as it was before that command"
    )
