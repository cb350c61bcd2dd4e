"""Faults of the machine and of the file, each met where an operator meets it: a full disk during a landing, a
read-only data folder under a built warehouse, a damaged warehouse file, a writer killed while it held the lock.

Each ends in its own one-paragraph message and documented exit code (74 machine fault, 2 damaged file), never a
traceback, and loses nothing: raw and prod stay as they were, and the command run again once the cause is gone
finishes the work. The disks are small tmpfs mounts (root only: skipped elsewhere).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_MONTHS, manifest, query, run_command, run_ingest
from tests.unit.test_gateway import damaged_files

EXIT_IO, EXIT_DAMAGED = 74, 2
FIRST_MONTH = SAMPLE_MONTHS.split(":")[0]


def mount(folder: Path, options: str) -> None:
    """Mounts a tmpfs on the folder, or skips the test where this user may not."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own small file system, unmounted afterwards."""
    folder = tmp_path / "disk"
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def assert_one_paragraph(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    """The command failed with the code and a message holding the words, with no traceback."""
    shown = f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == code, shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    for word in words:
        assert word in result.stdout + result.stderr, shown


def test_a_full_disk_stops_the_landing_and_the_landing_resumes_once_there_is_space(
    disk: Path, sample_mirror: Path
) -> None:
    mount(disk, "size=3m")  # the warehouse and dlt's files outgrow it during the first month
    data = disk / "data"

    full = run_ingest(data, "--months", FIRST_MONTH, "--mirror", str(sample_mirror))

    assert_one_paragraph(full, EXIT_IO, "the disk is full", f"The data folder is {data}", "run the command again")
    subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)
    landed = run_ingest(data, "--months", FIRST_MONTH, "--mirror", str(sample_mirror))
    assert landed.returncode == 0, landed.stderr[-3000:]
    expected = sum(
        spec["rows"] for spec in manifest(sample_mirror)["files"].values()
        if spec["source"] == "yellow" and spec["month"] == FIRST_MONTH
    )  # fmt: skip
    assert query(data, "SELECT count(*) FROM raw_tlc.yellow_trips") == [(expected,)]


def test_a_read_only_data_folder_is_named_by_every_writer_and_reading_still_works(
    disk: Path, built_warehouse: Path, sample_mirror: Path
) -> None:
    mount(disk, "size=256m")
    data = disk / "data"
    shutil.copytree(built_warehouse, data, ignore=shutil.ignore_patterns("*.lock"))
    prod = "SELECT count(*), sum(total_amount) FROM marts.fct_taxi_trips"
    before = query(data, prod)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)

    python = sys.executable
    for command, doing in (
        ((python, "-m", "ingest", "--months", FIRST_MONTH, "--mirror", str(sample_mirror)), "Landing"),
        ((python, "-m", "ops.run", "--months", FIRST_MONTH, "--mirror", str(sample_mirror)), "make run"),
        ((python, "-m", "ops.restate", "--month", FIRST_MONTH), "make restate"),
        ((python, "-m", "checks.promote", "--env", "dev"), "make promote"),
        ((python, "-m", "gateway.lock", "--", "sqlmesh", "plan", "dev"), "sqlmesh plan dev"),
    ):
        result = run_command(data, *command)
        assert_one_paragraph(result, EXIT_IO, f"{doing} stopped: the file system is read-only", "Remount it")

    answers = run_command(data, python, "-m", "ops.answers")
    assert answers.returncode == 0, answers.stderr[-3000:]
    assert query(data, prod) == before


@pytest.mark.parametrize(
    "command",
    [
        ("-m", "ingest", "--months", FIRST_MONTH),
        ("-m", "ops.run", "--months", FIRST_MONTH),
        ("-m", "ops.restate", "--month", FIRST_MONTH),
        ("-m", "checks.promote", "--env", "dev"),
        ("-m", "checks.scan", "--env", "prod"),
        ("-m", "ops.recover", "check"),
        ("-m", "ops.answers"),
        ("-m", "gateway.lock", "--", "true"),
    ],
    ids=lambda command: " ".join(command[1:3]),
)
def test_a_damaged_warehouse_is_named_damaged_by_every_command_at_once(
    command: tuple[str, ...], tmp_path: Path, sample_mirror: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    damaged_files(tmp_path)["truncated"].rename(data / "warehouse.duckdb")
    size = (data / "warehouse.duckdb").stat().st_size
    mirror = ("--mirror", str(sample_mirror)) if command[1] in ("ingest", "ops.run") else ()
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "MOBILITY_LOCK_TIMEOUT": "600"}

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *command, *mirror], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )

    assert_one_paragraph(result, EXIT_DAMAGED, "the file itself is damaged", "Restore it from a backup")
    assert "in use by" not in result.stderr and time.monotonic() - started < 120  # not a wait for a lock no one holds
    assert (data / "warehouse.duckdb").stat().st_size == size


def test_a_writer_killed_while_holding_the_lock_leaves_no_stale_lock(tmp_path: Path) -> None:
    data = tmp_path / "data"
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "MOBILITY_LOCK_TIMEOUT": "2"}
    holder = subprocess.Popen(
        [sys.executable, "-m", "gateway.lock", "--purpose", "a writer about to die", "--", "sleep", "120"],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
    )
    lock = data / "warehouse.lock"
    deadline = time.monotonic() + 60
    while "a writer about to die" not in (lock.read_text() if lock.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(holder.pid, signal.SIGKILL)  # no handler runs: the lock file still names the dead writer
    holder.wait(timeout=10)
    assert "a writer about to die" in lock.read_text()

    started = time.monotonic()
    next_writer = subprocess.run(
        [sys.executable, "-m", "gateway.lock", "--", "true"], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert next_writer.returncode == 0, next_writer.stderr  # the kernel released the lock with the process
    assert time.monotonic() - started < 30
