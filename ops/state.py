"""`make state-to-postgres`: moves SQLMesh's state from the warehouse file into Postgres (the `postgres` gateway).

    python -m ops.state to-postgres

Under the warehouse lock: `sqlmesh state export` of the state in the warehouse file (gateway `local`) to
DATA/state-export.json, `sqlmesh state import --replace` of it into the Postgres database the `postgres` gateway
names (MOBILITY_STATE_HOST, _PORT, _DATABASE, _USER, _PASSWORD), a comparison of the two (environments, the snapshots
each one points at), and only then the removal of the state from the warehouse file. Two states over one warehouse
are worse than either: the janitor of one drops the tables the other's prod serves. The export stays in the data
folder as the backup. Afterwards every command that touches the warehouse runs with MOBILITY_GATEWAY=postgres.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from gateway import warehouse_path
from gateway.lock import warehouse_lock
from ops.common import PROJECT_DIR, WorkflowError, exit_code, pin_data_dir, sqlmesh_context, sqlmesh_executable

STATE_MOVED_TABLE = "state_moved"  # as macros/gate.py reads it
STATE_SCHEMA = "sqlmesh"  # where the `local` gateway keeps SQLMesh's state, inside the warehouse file


def sqlmesh_on(gateway: str, *args: str, env: dict[str, str] | None = None) -> None:
    """`sqlmesh ARGS` with MOBILITY_GATEWAY=gateway (and `env`); a WorkflowError with its output when it fails."""
    environment = {**os.environ, "MOBILITY_GATEWAY": gateway, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    environment |= env or {}
    result = subprocess.run(
        [sqlmesh_executable(), *args], cwd=PROJECT_DIR, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise WorkflowError(f"`sqlmesh {' '.join(args)}` on gateway {gateway} failed:\n{result.stdout}{result.stderr}")


def environments(gateway: str) -> dict[str, list[str]]:
    """Every environment of a gateway's state with the snapshots it points at (name and version)."""
    os.environ["MOBILITY_GATEWAY"] = gateway
    try:
        with sqlmesh_context(load=False) as context:
            return {
                environment.name: sorted(f"{s.name}@{s.fingerprint.to_version()}" for s in environment.snapshots)
                for environment in context.state_reader.get_environments()
            }
    finally:
        os.environ.pop("MOBILITY_GATEWAY", None)


def drop_local_state(warehouse: Path) -> int:
    """Drops the state schema from the warehouse file; returns how many tables it held."""
    with duckdb.connect(str(warehouse)) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ?", [STATE_SCHEMA]
        ).fetchone()[0]
        connection.execute(f"DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE")
        # What the gate's before_all reads: a command on the local gateway is refused from now on.
        connection.execute("CREATE SCHEMA IF NOT EXISTS gate")
        connection.execute(
            f"CREATE OR REPLACE TABLE gate.{STATE_MOVED_TABLE} AS SELECT 'postgres' AS gateway, now() AS moved_at"
        )
        connection.execute("CHECKPOINT")
    return tables


def to_postgres() -> None:
    """Moves the state; raises WorkflowError when anything does not match, leaving the warehouse's state in place."""
    data = pin_data_dir()
    warehouse = warehouse_path()
    if not warehouse.exists():
        raise WorkflowError(f"No warehouse at {warehouse}: set MOBILITY_DATA_DIR to the folder that holds it.")
    export = data / "state-export.json"
    with warehouse_lock("state-to-postgres"):
        local = environments("local")
        if "prod" not in local:
            raise WorkflowError(f"The state in {warehouse} has no prod environment: nothing to move.")
        sqlmesh_on("local", "state", "export", "--output-file", str(export), "--no-confirm")
        sqlmesh_on("postgres", "state", "import", "--input-file", str(export), "--replace", "--no-confirm")
        moved = environments("postgres")
        if moved != local:
            missing = sorted(set(local) ^ set(moved)) or sorted(n for n in local if local[n] != moved.get(n))
            raise WorkflowError(
                f"The state in Postgres differs from the warehouse's after the import (environments: {missing}); "
                f"the warehouse's state is left in place and {export} holds the export."
            )
        tables = drop_local_state(warehouse)
    snapshots = len(local["prod"])
    print(f"[state] moved {len(local)} environments (prod: {snapshots} snapshots) to Postgres; the same on both sides")
    print(f"[state] removed the state ({tables} tables, schema {STATE_SCHEMA}) from {warehouse}; backup: {export}")
    print("[state] from now on run every command with MOBILITY_GATEWAY=postgres (cron, make targets, CI jobs)")


def main(argv: list[str]) -> int:
    """0 moved; 2 cannot; 75 the warehouse is busy."""
    parser = argparse.ArgumentParser(prog="python -m ops.state", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["to-postgres"])
    parser.parse_args(argv)
    return exit_code(to_postgres)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
