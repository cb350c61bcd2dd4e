"""One writer at a time: every write to the warehouse (ingest, plan, run, restate) goes through this lock.

DuckDB lets one process open a file for writing. Writers started by this project take an advisory lock on
`warehouse.lock` beside the warehouse and record who they are in it; then they check that no other process (the
SQLMesh UI, a notebook) holds DuckDB's own lock. Either wait is bounded by `MOBILITY_LOCK_TIMEOUT` seconds
(default 30) and ends in a message naming the holder and how to release it.

    python -m ingest.lock -- sqlmesh plan dev      # run a command while holding the lock
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ingest.common import IngestError, warehouse_path

POLL_SECONDS = 0.5


class WarehouseBusy(IngestError):
    """Another process holds the warehouse for longer than we may wait."""


def timeout_seconds() -> float:
    """How long a writer waits for the warehouse."""
    return float(os.environ.get("MOBILITY_LOCK_TIMEOUT", "30"))


def _describe(pid: str) -> str:
    """`PID 123 (command line)` for a live process, or just the PID."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        command = ""
    return f"PID {pid} ({command[:160]})" if command else f"PID {pid}"


def _duckdb_holder(path: Path) -> str | None:
    """The process holding DuckDB's lock on the file, or None when it can be opened."""
    if not path.exists():
        return None
    try:
        duckdb.connect(str(path)).close()
        return None
    except duckdb.IOException as error:
        match = re.search(r"PID (\d+)", str(error))
        if "lock" not in str(error).lower():
            raise
        return _describe(match.group(1)) if match else "another process"


@contextlib.contextmanager
def warehouse_lock(purpose: str) -> Iterator[None]:
    """Holds the warehouse for one writer, waiting a bounded time for the current one to finish."""
    path = warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_seconds()
    with open(path.with_suffix(".lock"), "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another writer"
                    raise WarehouseBusy(_busy_message(path, holder)) from None
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{_describe(str(os.getpid()))}: {purpose}")
        handle.flush()
        try:
            while holder := _duckdb_holder(path):
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(_busy_message(path, holder))
                time.sleep(POLL_SECONDS)
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _busy_message(path: Path, holder: str) -> str:
    """The one-paragraph answer to a writer that waited too long."""
    return (
        f"The warehouse {path} is in use by {holder}; waited {timeout_seconds():.0f} s. "
        "DuckDB allows one writer at a time. Wait for it to finish, or stop it (`make ui-stop` for the SQLMesh UI, "
        "otherwise `kill <PID>`), then run this again. Set MOBILITY_LOCK_TIMEOUT to wait longer. Nothing was written."
    )


def main(argv: list[str]) -> int:
    """Runs a command while holding the warehouse lock."""
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print("usage: python -m ingest.lock -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with warehouse_lock(" ".join(command)):
            return subprocess.call(command)
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 75


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
