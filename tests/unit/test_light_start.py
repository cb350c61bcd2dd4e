"""The scan and the readers start light: the scan reads the models' start month without SQLMesh, and both ask DuckDB
without bound parameters, so a gate's scan or `make answers` does not pay for importing SQLMesh or pandas (over a
second and 0.3-0.6 s). Each test is a fresh Python process, since the test session itself has imported both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]


def fresh_python(code: str, **environment: str) -> dict:
    """Runs `code` in a new interpreter in the project folder, with `environment` added to this one's; it prints one
    JSON object, returned here."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_scan_reads_the_models_start_as_sqlmesh_does_without_importing_it() -> None:
    from sqlmesh.utils import yaml as sqlmesh_yaml

    seen = fresh_python(
        "import json, sys; from checks import scan; "
        "print(json.dumps({'start': scan.models_start_month(), 'modules': sorted(m for m in ('sqlmesh', 'pandas', "
        "'dlt') if m in sys.modules)}))"
    )

    start = str(sqlmesh_yaml.load(ROOT / "config.yaml")["model_defaults"]["start"])
    assert seen == {"start": f"{start[:7]}-01", "modules": []}


def test_the_accepted_months_are_found_without_pandas(tmp_path: Path) -> None:
    without, with_table = tmp_path / "without.duckdb", tmp_path / "with.duckdb"
    duckdb.connect(str(without)).close()
    with duckdb.connect(str(with_table)) as connection:
        connection.execute("CREATE SCHEMA gate")
        connection.execute("CREATE TABLE gate.accepted_months (raw_table VARCHAR, source_month DATE)")

    seen = fresh_python(
        "import json, sys; from pathlib import Path; from checks import scan; "
        f"found = [scan.accepted_months_relation(Path(p)) for p in ({str(without)!r}, {str(with_table)!r})]; "
        "print(json.dumps({'found': found, 'pandas': 'pandas' in sys.modules}))"
    )

    from checks.scan import ACCEPTED_TABLE, NO_ACCEPTED_MONTHS

    assert seen == {"found": [NO_ACCEPTED_MONTHS, ACCEPTED_TABLE], "pandas": False}


def test_a_reader_opens_the_warehouse_and_sees_the_journal_without_pandas(tmp_path: Path) -> None:
    from gateway import CANDIDATE_TOKEN, JOURNAL_SCHEMA

    clean, restating = tmp_path / "clean", tmp_path / "restating"
    for folder in (clean, restating):
        folder.mkdir()
        duckdb.connect(str(folder / "warehouse.duckdb")).close()
    with duckdb.connect(str(restating / "warehouse.duckdb")) as connection:
        connection.execute(f"CREATE SCHEMA {JOURNAL_SCHEMA}")

    code = (
        "import json, sys, gateway\n"
        "try:\n"
        "    gateway.open_read_only('make answers').close(); opened = True\n"
        "except gateway.WarehouseUnreadable:\n"
        "    opened = False\n"
        "print(json.dumps({'opened': opened, 'pandas': 'pandas' in sys.modules}))"
    )
    seen = [fresh_python(code, MOBILITY_DATA_DIR=str(folder), **{CANDIDATE_TOKEN: ""}) for folder in (clean, restating)]

    assert seen == [{"opened": True, "pandas": False}, {"opened": False, "pandas": False}]
