"""`sqlmesh run` of prod through the gate: step 3 of `make run` (ops/run.py), and `make promote`'s step 0, which
brings prod up to date before the environment it promotes is built (checks/promote.py).

When raw months landed that no passing scan has accepted yet (gate.accepted_months), the run computes them on a
candidate (ops/candidate.py), the Soda checks scan prod over those months, and prod keeps the candidate only when
they pass; the months are then recorded as accepted. With no new month, `sqlmesh run` runs on the warehouse itself:
it can only compute intervals of accepted months with approved model versions (macros/gate.py refuses others).

Nothing here imports the sources (dlt): promotion starts without them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from sqlmesh.core.engine_adapter.duckdb import DuckDBEngineAdapter

import gateway
from gateway import warehouse_path
from ingest.months import Month
from macros.gate import unaccepted_months
from ops import restate
from ops.candidate import candidate
from ops.common import run_sqlmesh, sqlmesh_context, sqlmesh_in_process


def unchecked_months() -> list[tuple[str, dt.date, int]]:
    """(raw table, month, rows) of landed raw months whose current content no passing scan has accepted."""
    if gateway.engine() == "spark":
        with sqlmesh_context(load=False) as context:
            return unaccepted_months(context.engine_adapter)
    adapter = DuckDBEngineAdapter(lambda: duckdb.connect(str(warehouse_path()), read_only=True))
    try:
        return unaccepted_months(adapter)
    finally:
        adapter.close()


def sqlmesh_run(data: Path) -> bool:
    """`sqlmesh run` of prod with the data folder `data`; True when every due batch ran and passed its audits.

    On DuckDB it runs in this process, which has SQLMesh loaded already (as the restatement's plan does): `sqlmesh
    run` as a child would import it and load the project again (0.5 s of a one-day `make run` at scale 1). It stops
    where it is on TERM, HUP or Ctrl-C. On Spark it stays a child process, as every Spark step is (ops/common.py)."""
    if gateway.engine() != "duckdb":
        return run_sqlmesh(["run"], data_dir=data) == 0
    return sqlmesh_in_process(lambda context: not context.run("prod").is_failure)


def gated_run(override: str | None = None, step: str = "run") -> int:
    """`sqlmesh run` of prod through the gate (see the module docstring); the caller holds the lock. 0 or 1."""
    unchecked = unchecked_months()
    if not unchecked:
        print(f"[{step}] every landed raw month has passed the checks: sqlmesh run (prod)", flush=True)
        return 0 if sqlmesh_run(gateway.data_dir()) else 1
    months = sorted({Month(month.year, month.month) for _, month, _ in unchecked}, key=lambda m: m.first_day)
    labels = ", ".join(map(str, months))
    for table, month, rows in unchecked:
        print(f"[{step}] new raw month: {table} {month:%Y-%m} ({rows:,} rows), not checked yet", flush=True)
    marts = restate.restated_marts()
    before = restate.prod_counts(marts, months, step)
    with candidate("run", restate.slices(marts, months)) as chosen:
        print(f"[{step}] sqlmesh run (prod) on the candidate", flush=True)
        if not sqlmesh_run(chosen.data_dir):
            print(
                f"[{step}] NOT RUN: `sqlmesh run` failed on the candidate; prod is exactly as it was "
                f"({labels} not shown)."
            )
            return 1
        if not restate.scan(chosen.data_dir, months, override, step=step):
            print(
                f"[{step}] NOT RUN: the checks failed on {labels} (report above); prod is exactly as it was and does "
                f"not show {labels}. Land corrected files (make ingest MONTHS=...), or, for a known event, run with "
                "OVERRIDE=name=value (checks/thresholds.yml)."
            )
            return 1
        with chosen.reader() as reader:
            after = restate.month_counts(reader, marts, months)
        restate.accept(chosen, f"make run {labels}" + (f" OVERRIDE {override}" if override else ""))
        chosen.keep()
    print(f"[{step}] RAN {labels} into prod (checks passed):\n{restate.count_report(before, after)}", flush=True)
    return 0
