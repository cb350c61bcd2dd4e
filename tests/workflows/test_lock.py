"""One writer: a held warehouse makes plan, ingest and run wait a bounded time, then stop with a clear message."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workflows.conftest import environment, make, output

PYTHON = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python")
DUCKDB_HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)"


def start(project: Path, data: Path, *command: str) -> subprocess.Popen:
    """A background process in the project, reporting on stdout."""
    return subprocess.Popen(command, cwd=project, env=environment(data), stdout=subprocess.PIPE, text=True)


@pytest.fixture
def lock_holder(repository: Path, data: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the warehouse lock (python -m gateway.lock around a sleeping command)."""
    code = "print('held', flush=True); import time; time.sleep(60)"
    holder = start(
        repository, data, PYTHON, "-m", "gateway.lock", "--purpose", "a test holder", "--", PYTHON, "-c", code
    )
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.terminate()
    holder.wait(timeout=10)


def test_writers_wait_then_name_the_holder(repository: Path, data: Path, lock_holder: subprocess.Popen):
    for target, extra, code in (("plan", (), 75), ("ingest", ("MONTHS=2024-10",), 75), ("run", (), 75)):
        started = time.monotonic()
        result = make(repository, data, target, *extra, MOBILITY_LOCK_TIMEOUT="2")
        waited = time.monotonic() - started

        assert result.returncode != 0 and f"Error {code}" in result.stderr, output(result)  # make exits 2 itself
        assert f"is in use by PID {lock_holder.pid} (a test holder); waited 2 s." in result.stderr, output(result)
        assert "Nothing was written." in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        assert 2 <= waited < 30


def test_a_duckdb_holder_outside_make_is_named_too(repository: Path, data: Path):
    holder = start(repository, data, PYTHON, "-c", DUCKDB_HOLDER, str(data / "warehouse.duckdb"))
    try:
        assert holder.stdout.readline().strip() == "open"
        result = make(repository, data, "plan", MOBILITY_LOCK_TIMEOUT="1")
    finally:
        holder.terminate()
        holder.wait(timeout=10)

    assert result.returncode != 0 and "Error 75" in result.stderr, output(result)
    assert f"is in use by PID {holder.pid} ({PYTHON} -c import duckdb" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_writer_waits_for_the_holder_to_finish(repository: Path, data: Path):
    holder = start(repository, data, PYTHON, "-m", "gateway.lock", "--", PYTHON, "-c", "import time; time.sleep(2)")
    time.sleep(0.5)
    started = time.monotonic()
    waiter = subprocess.run(
        [PYTHON, "-m", "gateway.lock", "--", "true"], cwd=repository, env=environment(data, MOBILITY_LOCK_TIMEOUT="30")
    )
    holder.wait(timeout=10)

    assert waiter.returncode == 0
    assert 1 <= time.monotonic() - started < 20


def test_nested_writers_inherit_the_lock_and_kill_stops_the_command(repository: Path, data: Path):
    nested = subprocess.run(
        [PYTHON, "-m", "gateway.lock", "--", PYTHON, "-m", "gateway.lock", "--", "true"],
        cwd=repository,
        env=environment(data, MOBILITY_LOCK_TIMEOUT="2"),
        timeout=30,
    )
    assert nested.returncode == 0  # the inner writer did not wait for its own parent

    wrapper = start(repository, data, PYTHON, "-m", "gateway.lock", "--", "sleep", "60")
    children, deadline = [], time.monotonic() + 30  # the wrapper starts its command once it holds the lock
    while not children and time.monotonic() < deadline:
        time.sleep(0.2)
        children = Path(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children").read_text().split()
    os.kill(wrapper.pid, signal.SIGTERM)
    wrapper.wait(timeout=10)
    time.sleep(0.2)
    assert children and not any(Path(f"/proc/{child}").exists() for child in children)


def test_the_readmes_sqlmesh_takes_the_lock_too(repository: Path, data: Path, lock_holder: subprocess.Popen):
    sqlmesh = str(repository / "bin" / "sqlmesh")
    blocked = subprocess.run(
        [sqlmesh, "plan", "dev", "--no-prompts"],
        cwd=data,  # from any folder: the wrapper runs in the project
        env=environment(data, MOBILITY_LOCK_TIMEOUT="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert blocked.returncode == 75, output(blocked)
    assert f"is in use by PID {lock_holder.pid} (a test holder)" in blocked.stderr
    assert "IO Error" not in blocked.stderr + blocked.stdout and "Traceback" not in blocked.stderr

    lock_holder.terminate()
    lock_holder.wait(timeout=10)
    query = [sqlmesh, "fetchdf", "SELECT count(*) AS zones FROM marts.dim_zones"]
    answered = subprocess.run(query, cwd=data, env=environment(data), capture_output=True, text=True, timeout=120)
    assert answered.returncode == 0 and "zones" in answered.stdout, output(answered)
