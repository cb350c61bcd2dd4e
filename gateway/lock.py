"""One writer at a time: every write to the warehouse (ingest, plan, run, restate) goes through this lock.

DuckDB lets one process open a file for writing. Writers started by this project take an advisory lock on
`warehouse.lock` beside the warehouse and record who they are in it; then they check that no other process (the
SQLMesh UI, a notebook) holds DuckDB's own lock. Either wait is bounded by `MOBILITY_LOCK_TIMEOUT` seconds
(default 30) and ends in a message naming the holder and how to release it.

A process started by the holder (a `sqlmesh` or `python -m ingest` step of `make run`, `make restate` or
`make promote`) inherits the lock: it finds the holder's PID among its ancestors in `MOBILITY_LOCK_HOLDER` and goes
ahead without waiting for its own parent.

    python -m gateway.lock -- sqlmesh plan dev      # run a command while holding the lock
    python -m gateway.lock --purpose "the SQLMesh UI (make ui)" -- sqlmesh ui
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

from gateway import GatewayError, children, damaged, faults, is_lock_conflict, own_data_dir, warehouse_path

POLL_SECONDS = 0.5
HOLDER_VARIABLE = "MOBILITY_LOCK_HOLDER"  # "<pid>:<warehouse path>" while a process holds the lock
EXIT_BUSY = 75  # every command's exit code when another process holds the warehouse (EX_TEMPFAIL: try again)


class WarehouseBusy(GatewayError):
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
        if not is_lock_conflict(error):
            raise damaged(path, error) from None
        match = re.search(r"PID (\d+)", str(error))
        return _describe(match.group(1)) if match else "another process"


def _parent_pid(pid: int) -> int:
    """The parent of a process (from /proc, or `ps` where there is none), or 0 when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        answer = subprocess.run(["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
        return int(answer.stdout.strip() or 0)
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def _ancestors() -> set[int]:
    """The PIDs of this process's parent, grandparent and so on."""
    found, pid = set(), os.getppid()
    while pid > 1 and pid not in found:
        found.add(pid)
        pid = _parent_pid(pid)
    return found


def _inherited(path: Path) -> bool:
    """True when an ancestor of this process holds the lock on this warehouse and handed it down."""
    pid, _, held = os.environ.get(HOLDER_VARIABLE, "").partition(":")
    return pid.isdigit() and held == str(path) and int(pid) in _ancestors()


@contextlib.contextmanager
def _handed_down(path: Path) -> Iterator[None]:
    """Marks this process as the holder for the processes it starts."""
    previous = os.environ.get(HOLDER_VARIABLE)
    os.environ[HOLDER_VARIABLE] = f"{os.getpid()}:{path}"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(HOLDER_VARIABLE, None)
        else:
            os.environ[HOLDER_VARIABLE] = previous


@contextlib.contextmanager
def warehouse_lock(purpose: str) -> Iterator[None]:
    """Holds the warehouse for one writer, waiting a bounded time for the current one to finish."""
    path = warehouse_path()
    if _inherited(path):
        yield
        return
    own_data_dir()
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
        handle.write(f"PID {os.getpid()} ({purpose})")
        handle.flush()
        try:
            while holder := _duckdb_holder(path):
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(_busy_message(path, holder))
                time.sleep(POLL_SECONDS)
            with _handed_down(path):
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


@faults.reported(lambda argv: " ".join(argv[argv.index("--") + 1 :][:3]) if "--" in argv else "The command")
def main(argv: list[str]) -> int:
    """Runs a command while holding the warehouse lock; `--purpose TEXT` names it for whoever has to wait."""
    purpose = None
    if len(argv) >= 2 and argv[0] == "--purpose":
        purpose, argv = argv[1], argv[2:]
    command = argv[1:] if argv and argv[0] == "--" else argv
    if not command:
        print("usage: python -m gateway.lock [--purpose TEXT] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        with warehouse_lock(purpose or " ".join(command)):
            return children.call(command)  # TERM/HUP to this process stop the command too
    except children.Interrupted as error:
        return error.exit_code
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except GatewayError as error:  # a damaged warehouse: its own message, not a wait for a lock no one holds
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
