"""Where `make run` and `make restate` compute months before prod may show them: a candidate, kept only when the
checks pass, or discarded so that prod is exactly as it was.

- DuckDB (`FileCandidate`): a copy of the warehouse file (its SQLMesh state included) in its own data folder
  `$MOBILITY_DATA_DIR/<name>-candidate`; the commands run on the copy, and `keep` renames it over the warehouse in
  one step. Readers that had the warehouse open keep reading the old file.
- Spark in local mode (`SparkCandidate`): the tables, their embedded metastore and SQLMesh's state live under
  `$MOBILITY_DATA_DIR/spark/`, which one process at a time can open (Derby's lock, under the warehouse lock), so no
  reader sees them while they change. The folder is first put aside as `$MOBILITY_DATA_DIR/spark-before-<name>/`
  (the Parquet files hard-linked, as Spark writes new files and never rewrites one; the metastore and the state
  copied); the commands run in place; `keep` deletes the copy, anything else puts it back. A process killed
  in between leaves the copy behind, and the next command that touches prod puts it back first
  (`restore_leftovers`, from ops/recover.py). Only a Spark whose folders are local is changed this way; a cluster's
  shared metastore admits readers during the change, so there a run, restatement or promotion of months that have
  not passed the checks refuses and says why.

The gate's before_all (macros/gate.py) lets a prod run through on a candidate: the DuckDB copy's folder ends in
`-candidate`; on Spark the marker file `spark/.candidate` names the copy put aside, and counts only while it exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb
from sqlmesh.core.engine_adapter import EngineAdapter
from sqlmesh.core.engine_adapter.duckdb import DuckDBEngineAdapter

import gateway
from gateway import pending
from macros.gate import CANDIDATE_SUFFIX, SPARK_CANDIDATE_MARKER
from ops.common import WorkflowError, sqlmesh_context

BEFORE_PREFIX = "spark-before-"


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


class FileCandidate:
    """A copy of the DuckDB warehouse in its own data folder; `keep` swaps it in."""

    def __init__(self, name: str) -> None:
        self.warehouse = gateway.warehouse_path()
        self.data_dir = self.warehouse.parent / f"{name}{CANDIDATE_SUFFIX}"
        shutil.rmtree(self.data_dir, ignore_errors=True)  # one a killed process left: never swapped in
        self.data_dir.mkdir()
        checkpoint(self.warehouse)
        shutil.copyfile(self.warehouse, self.file)

    @property
    def file(self) -> Path:
        return self.data_dir / self.warehouse.name

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(str(self.file), read_only=True) as connection:
            yield connection

    @contextlib.contextmanager
    def adapter(self) -> Iterator[EngineAdapter]:
        adapter = DuckDBEngineAdapter(lambda: duckdb.connect(str(self.file)))
        try:
            yield adapter
        finally:
            adapter.close()

    def keep(self, restated: list[date] | None = None) -> None:
        """Clears the restated months' pending rows in the copy, then renames the copy over the warehouse."""
        if restated:
            pending.clear(restated, self.file)  # swapped in with the data
        checkpoint(self.file)
        if Path(f"{self.warehouse}.wal").exists():
            raise WorkflowError(f"{self.warehouse}.wal appeared meanwhile: another process wrote to the warehouse.")
        os.replace(self.file, self.warehouse)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


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


def open_candidate(name: str) -> Candidate:
    """The candidate of the gateway in use, for `name` (run or restate)."""
    return FileCandidate(name) if gateway.engine() == "duckdb" else SparkCandidate(name)


@contextlib.contextmanager
def candidate(name: str) -> Iterator[Candidate]:
    """A candidate that is discarded unless the block called its `keep` (an error or a kill included)."""
    opened = open_candidate(name)
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
    """Puts back the Spark folders a killed run or restatement put aside; the line saying so, or None."""
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
