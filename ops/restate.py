"""`make restate MONTH=YYYY-MM[:YYYY-MM]`: recompute months of prod from the raw data, through the gate.

SQLMesh restates prod in place: prod and every dev environment that uses the same model versions read the same
physical tables, and a restatement planned in a dev environment skips each model whose version prod uses. So the
restatement cannot be tried in dev first; instead it runs on a candidate (ops/candidate.py) that prod keeps only
when the checks pass. On DuckDB that is the warehouse itself after an undo journal of the months is committed in
it, so the cost is the months', not the warehouse's; on Spark the local folders after a copy is put aside:

1. journal the rows of the restated months of the table behind every restated mart, and SQLMesh's state and the
           gate's tables (small), saved in the warehouse's `candidate_undo` schema (Spark: `spark-before-restate/`);
2. restate `sqlmesh plan --restate-model <each incremental mart> --start <first day> --end <last day>` for
           prod (on DuckDB SQLMesh's `Context.plan` in this process; on Spark the command as a child): every
           incremental model downstream of the monthly raw tables recomputes exactly those months, with its blocking
           audits (the views between raw and marts are left as they are); the before_all gate lets the journal's
           own commands through (they carry its token) and refuses any other;
3. gate    `python -m checks.scan --env prod --start-month M --end-month M` (Soda, read-only);
4. keep    the journal is dropped (on Spark the copy put aside is deleted), or played back in one transaction (on
           Spark the copy is put back): prod is exactly as before.

Everything runs under the warehouse lock, and while the journal exists the project's readers refuse to read
(gateway.open_read_only, the dashboard), so nobody sees months that have not passed the checks; a process killed in
between leaves the journal to the next command that touches prod, which plays it back first. `--changed-months`
restates the months awaiting restatement (gate.pending_restatements, written by the ingest before it re-lands a
month: gateway/pending.py), when prod exists; their rows are deleted just before the journal is dropped, so they
stay pending until a restatement of them is in prod.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlmesh import Context
from sqlmesh.core.dialect import normalize_model_name
from sqlmesh.utils.dag import DAG

import gateway
from checks.approvals import record_accepted_months
from gateway import GatewayError, faults, pending
from gateway.children import Interrupted, call
from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ingest.months import IngestError, Month, parse_months
from ops import recover
from ops.candidate import Candidate, Reader, Slice, candidate
from ops.common import (
    EXIT_USAGE,
    MONTHLY_RAW_TABLES,
    PROJECT_DIR,
    WorkflowError,
    pin_data_dir,
    prod_exists,
    run_sqlmesh,
    sqlmesh_context,
    sqlmesh_in_process,
)

EXIT_FAILED = 1


@dataclass(frozen=True)
class Mart:
    """An incremental model the restatement recomputes: its prod view, time column and the table behind the view."""

    view: str
    time_column: str
    table: str = ""

    def window(self, first: Month, last: Month) -> str:
        """The rows of months first..last, as a DuckDB condition."""
        return f"{self.time_column} >= DATE '{first.first_day}' AND {self.time_column} < DATE '{last.next().first_day}'"


def month_runs(months: list[Month]) -> list[tuple[Month, Month]]:
    """Consecutive months grouped into (first, last) runs, one restatement plan each."""
    runs: list[tuple[Month, Month]] = []
    for month in sorted(set(months), key=lambda m: m.first_day):
        if runs and runs[-1][1].next() == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return runs


def changed_months() -> list[Month]:
    """The months awaiting restatement (gateway/pending.py), none when no landing changed a built month."""
    return [Month(month.year, month.month) for month in pending.months()]


def restated_marts() -> list[Mart]:
    """The incremental models prod serves downstream of the monthly raw tables, with their views and time columns.

    Read from prod's snapshots in SQLMesh's state, not from the project's files: what is restated is what prod serves,
    and the project's models need not be loaded (seconds at every `make run` and `make restate`)."""
    with sqlmesh_context(load=False) as context:
        require_state_in_candidate(context)
        prod = context.state_reader.get_environment("prod")
        if prod is None:
            raise WorkflowError("There is no prod environment yet: nothing to restate (make demo builds one).")
        served = list(context.state_reader.get_snapshots(prod.snapshots).values())
        raw = {
            normalize_model_name(table, default_catalog=context.default_catalog, dialect=context.default_dialect)
            for table in MONTHLY_RAW_TABLES
        }
    dag = DAG({snapshot.name: snapshot.model.depends_on for snapshot in served if snapshot.is_model})
    marts = []
    for snapshot in served:
        if snapshot.is_model and snapshot.model.kind.is_incremental_by_time_range and raw & dag.upstream(snapshot.name):
            model = snapshot.model
            marts.append(Mart(model.name, model.time_column.column.sql(dialect=model.dialect), snapshot.table_name()))
    return sorted(marts, key=lambda mart: mart.view)


def require_state_in_candidate(context: Context) -> None:
    """A WorkflowError unless SQLMesh's state is part of what the candidate copies: the DuckDB warehouse file, or
    on Spark a DuckDB file under the Spark folder (ops/candidate.py)."""
    state = context.config.get_state_connection(context.selected_gateway)
    database = getattr(state, "database", None) if state is not None else None
    if gateway.engine() == "duckdb":
        inside = state is None or database == context.connection_config.database
    else:
        inside = database is not None and Path(database).resolve().is_relative_to(gateway.spark_dir().resolve())
    if not inside:
        raise WorkflowError(
            "SQLMesh state is not in the warehouse's own files (a separate state_connection is configured): a "
            "restatement on a candidate would change the shared state before the checks. Restate on the machine "
            "that holds the state with the warehouse, or run `sqlmesh plan --restate-model` directly."
        )


def restate_runs(data: Path, marts: list[Mart], runs: list[tuple[Month, Month]]) -> bool:
    """Plans and applies one prod restatement per run of months on the candidate; False when one fails.

    The restated models are the incremental marts themselves, not the raw tables above them: restating a raw table
    would also recreate every view between it and the marts and run those views' audits over all their months.

    On DuckDB the plans run in this process, which has SQLMesh loaded already: `sqlmesh plan` as a child would import
    it and load the project again, about two seconds of every restatement. On Spark the plan stays a child process,
    as every Spark step is (ops/common.py): the embedded metastore admits one session at a time."""
    if gateway.engine() != "duckdb":
        return all(plan_in_child(data, marts, first, last) for first, last in runs)

    def plans(context: Context) -> bool:
        for first, last in runs:
            print(f"[restate] {first}..{last}: recomputing prod on the candidate", flush=True)
            context.plan(
                restate_models=[mart.view for mart in marts],
                start=first.first_day,
                end=last.last_day,
                auto_apply=True,
                no_prompts=True,
                skip_tests=True,
                skip_linter=True,
            )
        return True

    return sqlmesh_in_process(plans)


def plan_in_child(data: Path, marts: list[Mart], first: Month, last: Month) -> bool:
    """`sqlmesh plan --restate-model ...` of months first..last as a child process on the candidate; True when done."""
    print(f"[restate] {first}..{last}: recomputing prod on the candidate", flush=True)
    restate = [argument for mart in marts for argument in ("--restate-model", mart.view)]
    window = ["--start", str(first.first_day), "--end", str(last.last_day)]
    flags = ["--auto-apply", "--no-prompts", "--skip-tests", "--skip-linter"]
    return run_sqlmesh(["plan", *restate, *window, *flags], data_dir=data) == 0


def scan(data: Path, months: list[Month], override: str | None = None, step: str = "restate") -> bool:
    """The gate's Soda checks on the candidate's prod (data folder `data`), reconciled over the given months; True
    when they pass.

    `override` is the make command line's OVERRIDE (NAME=VALUE,...), printed and applied by the scan for this run.
    """
    first, last = min(months, key=lambda m: m.first_day), max(months, key=lambda m: m.first_day)
    command = [sys.executable, "-m", "checks.scan", "--env", "prod", "--start-month", str(first)]
    command += ["--end-month", str(last), *(["--override", override] if override else [])]
    print(f"[{step}] gate: {' '.join(command[1:])} on the candidate", flush=True)
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data)}
    return call(command, cwd=PROJECT_DIR, env=environment) == 0


def month_counts(reader: Reader, marts: list[Mart], months: list[Month]) -> dict[tuple[str, str], int]:
    """Rows per (mart, month) of prod, read through `reader` (DuckDB or gateway.spark.SparkReader)."""
    counts = {}
    for mart in marts:
        for month in months:
            row = reader.execute(f"SELECT count(*) FROM {mart.view} WHERE {mart.window(month, month)}").fetchone()
            counts[(mart.view, str(month))] = row[0]
    return counts


def prod_counts(marts: list[Mart], months: list[Month], step: str) -> dict[tuple[str, str], int]:
    """month_counts of the warehouse as prod serves it now."""
    with gateway.open_read_only(f"make {step}") as reader:
        return month_counts(reader, marts, months)


def count_report(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> str:
    """Rows per mart and month, before and after the restatement."""
    lines = [f"  {'model':<40} {'month':<8} {'before':>10} {'after':>10}"]
    lines += [
        f"  {view:<40} {month:<8} {before[(view, month)]:>10,} {after[(view, month)]:>10,}" for view, month in after
    ]
    return "\n".join(lines)


def accept(chosen: Candidate, accepted_by: str, months: list[Month] | None = None) -> list[tuple[str, str, int]]:
    """Records the candidate's landed raw months (only `months` when given) as accepted: its checks passed."""
    with chosen.adapter() as adapter:
        return record_accepted_months(adapter, accepted_by, [m.first_day for m in months] if months else None)


def slices(marts: list[Mart], months: list[Month]) -> list[Slice]:
    """The rows a restatement of `months` rewrites: those months of the table behind each restated mart.

    A mart prod does not serve yet (no table) is a WorkflowError: prod and the project disagree (make promote)."""
    unserved = [mart.view for mart in marts if not mart.table]
    if unserved:
        raise WorkflowError(f"prod does not serve {', '.join(unserved)} yet: promote first (make promote).")
    return [Slice(mart.table, mart.window(first, last)) for mart in marts for first, last in month_runs(months)]


def restate(months: list[Month], override: str | None = None) -> int:
    """Restates the months of prod through the gate; the caller holds the warehouse lock. Returns the exit code."""
    marts = restated_marts()
    labels = ", ".join(str(month) for month in months)
    before = prod_counts(marts, months, "restate")
    with candidate("restate", slices(marts, months)) as chosen:
        if not restate_runs(chosen.data_dir, marts, month_runs(months)):
            print(f"[restate] NOT RESTATED: the restatement plan for {labels} failed; prod is exactly as it was.")
            return EXIT_FAILED
        if not scan(chosen.data_dir, months, override):
            print(f"[restate] NOT RESTATED: the checks failed on the restated {labels}; prod is exactly as it was.")
            return EXIT_FAILED
        with chosen.reader() as reader:
            after = month_counts(reader, marts, months)
        accept(chosen, f"make restate {labels}" + (f" OVERRIDE {override}" if override else ""), months)
        chosen.keep(restated=[month.first_day for month in months])
    print(f"[restate] RESTATED {labels} in prod (checks passed):\n{count_report(before, after)}")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ops.restate", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", action="append", help="YYYY-MM or YYYY-MM:YYYY-MM (repeatable)")
    which.add_argument("--changed-months", action="store_true", help="the months awaiting restatement (pending)")
    parser.add_argument("--override", metavar="NAME=VALUE,...", help="thresholds of checks/thresholds.yml, this run")
    return parser.parse_args(argv)


@faults.reported("make restate")
def main(argv: list[str]) -> int:
    """Restates under the warehouse lock; 0 restated, 1 prod unchanged (plan or checks failed), 2 usage, 75 busy."""
    args = parse_args(argv)
    pin_data_dir()
    try:
        asked = [] if args.changed_months else [m for spec in args.month for m in parse_months(spec)]
        with warehouse_lock(f"make restate {','.join(map(str, asked)) or 'pending months'}"):
            months = changed_months() if args.changed_months else asked
            if not months:
                print("No landed month awaits restatement: nothing to restate.")
                return 0
            if args.changed_months and not has_prod():
                print(f"Months {', '.join(map(str, months))} changed; there is no prod yet, so nothing to restate.")
                return 0
            recover.preflight("restate")
            return restate(months, args.override)
    except Interrupted as error:
        print(f"[restate] {error}: prod is exactly as it was (the candidate was discarded).", file=sys.stderr)
        return error.exit_code
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (IngestError, WorkflowError, GatewayError) as error:  # GatewayError: a damaged warehouse, its own words
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


def has_prod() -> bool:
    """True when the warehouse has a prod environment (SQLMesh state)."""
    if not gateway.exists():
        return False
    with sqlmesh_context(load=False) as context:
        return prod_exists(context)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
