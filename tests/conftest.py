"""Shared fixtures: a sample mirror served over HTTP on loopback, and a throwaway warehouse per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from gateway import GatewayError
from gateway.spark import require_java

ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = ROOT.parent / "shared" / "fixtures" / "real"
SAMPLE_MONTHS = "2024-09:2024-10"
SAMPLE_SCALE = "0.002"

os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


class MirrorHandler(SimpleHTTPRequestHandler):
    """Serves a mirror folder; `faults` maps a path to a list of (status, body, delay) answered before the file."""

    faults: dict[str, list[tuple[int, bytes, float]]] = {}
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        self.requests.append(self.path)
        queue = self.faults.get(self.path.lstrip("/"))
        if queue:
            status, body, delay = queue.pop(0)
            time.sleep(delay)
            if status:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args) -> None:
        """Keeps test output quiet."""


@pytest.fixture(scope="session")
def sample_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small deterministic mirror written by `python -m ingest.sample`."""
    out = tmp_path_factory.mktemp("mirror")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest.sample",
            "--months",
            SAMPLE_MONTHS,
            "--scale",
            SAMPLE_SCALE,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def serve(folder: Path) -> tuple[ThreadingHTTPServer, type[MirrorHandler]]:
    """Starts an HTTP server on 127.0.0.1 for a folder, with its own fault table."""
    handler = type("Handler", (MirrorHandler,), {"faults": {}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


@pytest.fixture
def http_mirror(sample_mirror: Path) -> Iterator[tuple[str, type[MirrorHandler]]]:
    """The sample mirror over HTTP: (base URL, handler class whose `faults` a test may fill)."""
    server, handler = serve(sample_mirror)
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty MOBILITY_DATA_DIR for one test."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def run_ingest(data: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `python -m ingest` as a user would, into the given data folder."""
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(data: Path, sql: str) -> list[tuple]:
    """Reads the warehouse read-only, as a consumer would."""
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        return connection.sql(sql).fetchall()


def manifest(mirror: Path) -> dict:
    """The sample generator's manifest."""
    return json.loads((mirror / "manifest.json").read_text())


def run_command(data: Path, *command: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs a project command (sqlmesh, python -m ...) against the given data folder."""
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data)}
    executable = str(Path(sys.executable).parent / command[0]) if command[0] == "sqlmesh" else command[0]
    return subprocess.run(
        [executable, *command[1:]], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory, sample_mirror: Path) -> Path:
    """The sample months landed, built in dev and promoted through the gate; the gate's output is kept beside it."""
    data = tmp_path_factory.mktemp("built")
    landed = run_ingest(data, "--months", SAMPLE_MONTHS, "--mirror", str(sample_mirror))
    assert landed.returncode == 0, landed.stderr
    dev = run_command(data, "sqlmesh", "plan", "dev", "--auto-apply", "--no-prompts")
    assert dev.returncode == 0, dev.stdout + dev.stderr
    prod = run_command(data, sys.executable, "-m", "checks.promote", "--env", "dev", "--verbose")
    assert prod.returncode == 0, prod.stdout + prod.stderr
    (data / "prod_plan.log").write_text(prod.stdout)
    return data


PROJECT_FILES = (
    "bin",
    "config.yaml",
    "external_models.yaml",
    "models",
    "macros",
    "audits",
    "seeds",
    "signals",
    "linter",
    "checks",
    "Makefile",
    "gateway",
    "ingest",
    "ops",
    "dashboard",
    "queries",
    "docs",
    "README.md",
    "pyproject.toml",
    "requirements.lock",
    ".dlt",
)


def copy_project(target: Path) -> Path:
    """A throwaway copy of the project (models, config, checks, code, unit tests) with .venv linked in."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "secrets.toml", ".var")
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target / name)
    (target / "tests").mkdir(exist_ok=True)
    for test in (ROOT / "tests").glob("test_*.yaml"):
        shutil.copy2(test, target / "tests" / test.name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


@pytest.fixture
def scratch(tmp_path: Path, built_warehouse: Path) -> tuple[Path, Path]:
    """(project copy, data copy) of the built warehouse, for a test that changes models or data."""
    data = tmp_path / "data"
    shutil.copytree(built_warehouse, data, ignore=shutil.ignore_patterns("*.lock"))
    return copy_project(tmp_path / "project"), data


def java_missing() -> str | None:
    """Why the spark gateway cannot run here (no Java runtime it supports), or None."""
    try:
        require_java()
    except GatewayError as error:
        return str(error)
    return None


SPARK_MISSING = java_missing()
needs_spark = pytest.mark.skipif(SPARK_MISSING is not None, reason=SPARK_MISSING or "")
