"""`python -m ops.readiness`: which months each model can build, and which wait for which raw table.

Reads the models' `raw_months_landed` signals (signals/landed.py) from the project and the landed months from the
warehouse, read-only. A month that has landed in some raw table but not in every table a model waits for is listed
as waiting, naming the missing tables: an empty mart for such a month is waiting, not failing. `make plan` and
`make promote` print this before they build, once per raw table waited for (not once per model and month).

`python -m ops.readiness --plan-start ENV` prints the `--start` option `make plan` passes to `sqlmesh plan ENV`: the
first day of the first landed month. The models start early (config.yaml model_defaults.start) and the signals skip
days before any raw data, but a plan from that early start would still list those never-landed years as "Models
needing backfill" for every model, each "None ready". Nothing is printed for prod (SQLMesh refuses a start on a prod
plan without restatements), on Spark, or before anything has landed: the plan then runs as before.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

import gateway
from gateway import warehouse_path
from ops.common import MONTHLY_RAW_TABLES, PROJECT_DIR

if TYPE_CHECKING:
    from sqlmesh import Context


def model_inputs(context: Context) -> dict[str, tuple[list[str], str]]:
    """Each model with a raw_months_landed signal: its raw tables and whether it needs all or any of them."""
    inputs = {}
    for model in context.models.values():
        for name, arguments in model.signals:
            if name != "raw_months_landed":
                continue
            tables = arguments["tables"]
            listed = tables.expressions if isinstance(tables, exp.Array) else [tables]
            landed_in = arguments.get("landed_in")
            inputs[model.name] = ([table.name for table in listed], landed_in.name if landed_in else "all")
    return inputs


def landed_months(path: Path) -> dict[str, set[str]]:
    """The months (YYYY-MM) each monthly raw table holds; nothing for a table that does not exist."""
    months: dict[str, set[str]] = {table: set() for table in MONTHLY_RAW_TABLES}
    if not path.exists():
        return months
    with duckdb.connect(str(path), read_only=True) as connection:
        existing = {
            f"{schema}.{name}"
            for schema, name in connection.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        for table in MONTHLY_RAW_TABLES:
            if table in existing:
                rows = connection.execute(f"SELECT DISTINCT strftime(source_month, '%Y-%m') FROM {table}").fetchall()
                months[table] = {row[0] for row in rows if row[0]}
    return months


def waiting(inputs: dict[str, tuple[list[str], str]], landed: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """Month -> model -> the raw tables it still waits for, for every month any raw table holds."""
    every_month = set().union(*landed.values())
    result: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for month in sorted(every_month):
        for model, (tables, landed_in) in sorted(inputs.items()):
            missing = [table for table in tables if month not in landed.get(table, set())]
            ready = not missing if landed_in == "all" else len(missing) < len(tables)
            if not ready:
                result[month][model] = missing
    return result


def month_runs(months: list[str]) -> str:
    """YYYY-MM months as runs of consecutive months: `2024-01..2024-03, 2024-05`."""
    runs: list[list[str]] = []
    for month in sorted(months):
        year, number = int(month[:4]), int(month[5:7])
        previous = f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"
        if runs and runs[-1][-1] == previous:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)


def waiting_lines(waits: dict[str, dict[str, list[str]]]) -> list[str]:
    """One line per raw table something waits for: the months it has not landed and the models waiting for it."""
    months: dict[str, set[str]] = defaultdict(set)
    models: dict[str, set[str]] = defaultdict(set)
    for month, waiting_models in waits.items():
        for model, missing in waiting_models.items():
            for table in missing:
                months[table].add(month)
                models[table].add(model)
    return [
        f"  Waiting for {table} ({month_runs(sorted(months[table]))}): {', '.join(sorted(models[table]))}"
        for table in sorted(months, key=lambda table: (min(months[table]), table))
    ]


def report(path: Path | None = None) -> str:
    """The readiness report as text."""
    from sqlmesh import Context  # here, not at the top: the scan imports month_runs and must start without SQLMesh

    path = path or warehouse_path()
    context = Context(paths=str(PROJECT_DIR), load=True)
    try:
        inputs = model_inputs(context)
    finally:
        context.close()
    landed = landed_months(path)
    lines = ["Landed months: " + "; ".join(f"{table} {','.join(sorted(m)) or '-'}" for table, m in landed.items())]
    waits = waiting(inputs, landed)
    if not waits:
        lines.append("Every model can build every landed month.")
    lines.extend(waiting_lines(waits))
    return "\n".join(lines)


def plan_start(env: str, path: Path | None = None) -> str:
    """`--start YYYY-MM-01`, the first landed month, for a plan of a development environment; '' when none applies."""
    if env == "prod" or gateway.engine() != "duckdb":
        return ""
    try:
        landed = set().union(*landed_months(path or warehouse_path()).values())
    except duckdb.Error:
        return ""  # busy or unreadable: the plan runs from the models' start, as without this option
    return f"--start {min(landed)}-01" if landed else ""


def main(argv: list[str] | None = None) -> int:
    """Prints the report (or the plan's start option); never fails a command over it."""
    parser = argparse.ArgumentParser(prog="python -m ops.readiness", description=__doc__.splitlines()[0])
    parser.add_argument("--plan-start", metavar="ENV", help="print the --start option of `sqlmesh plan ENV` only")
    args = parser.parse_args(argv)
    if args.plan_start:
        print(plan_start(args.plan_start))
        return 0
    if gateway.engine() != "duckdb":
        return 0  # it reads the DuckDB file; on Spark the plan's own signal checks say what waits
    try:
        print(report())
    except duckdb.IOException as error:
        print(f"Readiness not shown: the warehouse is busy ({error}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
