"""What the workflow commands share: the project folder, a quiet SQLMesh context, sqlmesh as a subprocess."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gateway import PROJECT_DIR, WarehouseUnreadable, children, data_dir, spark
from gateway.lock import EXIT_BUSY, WarehouseBusy

if TYPE_CHECKING:  # SQLMesh is imported where a context is opened: the scan uses this module and starts without it
    from sqlmesh import Context
    from sqlmesh.core.console import Console

# The monthly raw tables dlt lands (`source_month` is their merge key): what `make restate` restates downstream of.
MONTHLY_RAW_TABLES = ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips", "raw_weather.hourly")


EXIT_USAGE = 2  # a workflow command that cannot go on (EXIT_BUSY, 75: the warehouse is busy)


class WorkflowError(Exception):
    """A workflow cannot go on; the message says what is wrong and what to do."""


def exit_code(action: Callable[[], None]) -> int:
    """Runs a command's action: 0 done, 2 when it cannot go on, 75 when the warehouse is busy (message on stderr)."""
    try:
        action()
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (WorkflowError, WarehouseUnreadable) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def pin_data_dir() -> Path:
    """Makes MOBILITY_DATA_DIR absolute for this process and the ones it starts (they run in the project folder)."""
    folder = data_dir()
    os.environ["MOBILITY_DATA_DIR"] = str(folder)
    return folder


def sqlmesh_executable() -> str:
    """The sqlmesh of this interpreter's environment (.venv/bin/sqlmesh)."""
    candidate = Path(sys.executable).with_name("sqlmesh")
    return str(candidate) if candidate.exists() else "sqlmesh"


def run_sqlmesh(args: list[str], data_dir: Path | None = None) -> int:
    """Runs `sqlmesh ARGS` in the project, its output streamed; the caller holds the warehouse lock."""
    environment = {**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    if data_dir is not None:
        environment["MOBILITY_DATA_DIR"] = str(data_dir)
    return children.call([sqlmesh_executable(), *args], cwd=PROJECT_DIR, env=environment)


@contextmanager
def sqlmesh_context(console: Console | None = None, load: bool = True) -> Iterator[Context]:
    """A SQLMesh context on the project, closed afterwards so that the next process can open the warehouse."""
    from sqlmesh import Context
    from sqlmesh.core.console import NoopConsole, get_console, set_console

    previous = get_console()
    set_console(console or NoopConsole())
    context = Context(paths=str(PROJECT_DIR), load=load)
    try:
        yield context
    finally:
        context.close()
        spark.release()  # on Spark, the next process needs the metastore
        set_console(previous)


def sqlmesh_in_process(step: Callable[[Context], bool]) -> bool:
    """Runs `step(context)` in this process as the `sqlmesh` CLI would: on its terminal console, stopped where it is by
    TERM, HUP or Ctrl-C (children.stoppable), and the errors the CLI reports and exits 1 for printed as it prints
    them: then False. Otherwise what `step` returns."""
    from sqlglot.errors import SqlglotError
    from sqlmesh.core.console import create_console
    from sqlmesh.utils.errors import SQLMeshError

    with children.stoppable(), sqlmesh_context(console=create_console()) as context:
        try:
            return step(context)
        except (SQLMeshError, SqlglotError, ValueError) as error:
            print(f"Error: {error}", flush=True)
            return False


def prod_exists(context: Context) -> bool:
    """True once prod has been promoted (SQLMesh's state has an environment named prod)."""
    return context.state_reader.get_environment("prod") is not None
