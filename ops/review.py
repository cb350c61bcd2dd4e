"""`python -m ops.review --out DIR`: a private copy of the warehouse for a pull-request review.

A review builds a PR environment: with the state in the warehouse file, its plan writes SQLMesh's state and creates
physical tables next to the ones prod serves, and a later `sqlmesh janitor` acts on both. So the review works on a
copy: under the warehouse lock for the copy only (a CHECKPOINT, then one file copy, state included), and then
without the lock, so cron and deploys do not wait for the review. The review's commands (the SQLMesh bot, the PR
environment's build, the gate's Soda checks) run with `MOBILITY_DATA_DIR=DIR`; they see prod exactly as it is, and
nothing they do reaches the warehouse. DIR is replaced if it exists; the CI job puts it in the runner's temp folder,
which GitHub empties after the job.

With the state in Postgres (MOBILITY_GATEWAY=postgres), the state is copied too: exported from Postgres under the same
lock and imported into the copy's own file, and the review runs with MOBILITY_GATEWAY=local on the copy. The shared
state never hears of the review's environment.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

import gateway
from gateway.lock import warehouse_lock
from ops.candidate import checkpoint
from ops.common import WorkflowError, exit_code, pin_data_dir
from ops.state import STATE_MOVED_TABLE, sqlmesh_on


def copy_warehouse(out: Path) -> Path:
    """Copies the warehouse (under the lock) into `out`; returns the copy's path."""
    source = gateway.warehouse_path()
    if not source.exists():
        raise WorkflowError(f"No warehouse at {source}: set MOBILITY_DATA_DIR to the folder that holds it.")
    if out.resolve() == source.parent.resolve():
        raise WorkflowError(f"--out {out} is the warehouse's own folder: give the review a folder of its own.")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shared_state = gateway.name() == "postgres"
    with warehouse_lock("review copy"):
        started = time.monotonic()
        checkpoint(source)
        shutil.copyfile(source, out / source.name)
        if shared_state:
            export = out / "state-export.json"
            sqlmesh_on("postgres", "state", "export", "--output-file", str(export), "--no-confirm")
    if shared_state:
        copy = {"MOBILITY_DATA_DIR": str(out)}
        sqlmesh_on("local", "state", "import", "--input-file", str(export), "--replace", "--no-confirm", env=copy)
        with duckdb.connect(str(out / source.name)) as connection:  # the copy's state is its own file's again
            connection.execute(f"DROP TABLE IF EXISTS gate.{STATE_MOVED_TABLE}")
        print(f"[review] copied the state from Postgres into {out / source.name}; review with MOBILITY_GATEWAY=local")
    size_mb = (out / source.name).stat().st_size / 1e6
    print(f"[review] copied {source} ({size_mb:,.1f} MB) to {out} in {time.monotonic() - started:.1f} s")
    return out / source.name


def main(argv: list[str]) -> int:
    """Copies the warehouse for a review; 0 done, 2 usage, 75 busy."""
    parser = argparse.ArgumentParser(prog="python -m ops.review", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="the review's data folder (replaced)")
    args = parser.parse_args(argv)
    pin_data_dir()
    return exit_code(lambda: copy_warehouse(args.out))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
