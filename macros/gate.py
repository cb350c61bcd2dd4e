"""The promotion gate inside SQLMesh: prod only serves approved snapshots over raw months the checks accepted.

`make promote` (python -m checks.promote) builds an environment, runs the audits and the Soda checks on it and, when
all pass, records the environment's snapshots as one approval in `gate.approved_snapshots` and the raw content it
checked (rows and newest dlt load of every landed month) in `gate.accepted_months`; `make run` and `make restate`
record the raw months they checked the same way. The project-level `before_all` in config.yaml calls
`@gate_prod_approval()`, which SQLMesh renders at the start of every `sqlmesh plan` and `sqlmesh run`, before any
table or view changes. In prod it renders `SELECT error(...)` unless

- one approval covers every snapshot prod is about to serve, and
- every landed raw month is accepted as it is now: a month landed or re-landed since the last passing scan would
  reach prod unchecked through a bare `sqlmesh run` or `sqlmesh plan prod --restate-model ...`.

Anywhere else it is a no-op, and so is it on a candidate (ops/candidate.py): `make run` and `make restate` compute
months in the DuckDB warehouse after committing an undo journal of them, or on Spark's local folders after putting
a copy of them aside, check them and keep the result only when the checks pass.
"""

from __future__ import annotations

import functools
import os
import typing as t
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator
from sqlmesh.utils.errors import SQLMeshError

if t.TYPE_CHECKING:
    from sqlmesh.core.engine_adapter import EngineAdapter

APPROVALS_TABLE = "gate.approved_snapshots"
STATE_MOVED_TABLE = "state_moved"  # gate.state_moved: written by `make state-to-postgres` (ops/state.py)
ACCEPTED_TABLE = "gate.accepted_months"  # gateway.ACCEPTED_TABLE
# What a passing scan accepts of each landed raw month (gate.accepted_months also records when and by whom).
ACCEPTED_KEY = ("raw_table", "source_month", "landed_rows", "load_id")
MONTHLY_RAW_TABLES = ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips", "raw_weather.hourly")
SPARK_CANDIDATE_MARKER = ".candidate"  # in spark/: names the copy ops/candidate.py put aside
JOURNAL_SCHEMA = "candidate_undo"  # ops/candidate.py's undo journal in the DuckDB warehouse (gateway.JOURNAL_SCHEMA)
CANDIDATE_TOKEN = "MOBILITY_CANDIDATE_TOKEN"  # the journal's token, in the environment of the commands it covers
SHOWN_NAMES = 8


def sql(text: str) -> exp.Expression:
    """SQL written in DuckDB's dialect, as an expression each engine adapter renders in its own (DuckDB or Spark)."""
    return sqlglot.parse_one(text, read="duckdb")


def _short_name(fqn: str) -> str:
    """`"warehouse"."marts"."fct_taxi_trips"` as `marts.fct_taxi_trips`."""
    return ".".join(part.strip('"') for part in fqn.split(".")[-2:])


def _approved_sets(evaluator: MacroEvaluator, identifiers: list[str]) -> dict[str, set[tuple[str, str]]]:
    """The recorded approvals, by approval id, restricted to the given snapshot identifiers."""
    adapter = evaluator.engine_adapter
    if not identifiers or not adapter.table_exists(APPROVALS_TABLE):
        return {}
    rows = adapter.fetchall(
        exp.select("approval_id", "name", "identifier")
        .from_(exp.to_table(APPROVALS_TABLE))
        .where(exp.column("identifier").isin(*map(exp.Literal.string, identifiers)))
    )
    approvals: dict[str, set[tuple[str, str]]] = {}
    for approval_id, name, identifier in rows:
        approvals.setdefault(approval_id, set()).add((name, identifier))
    return approvals


def unapproved_snapshots(evaluator: MacroEvaluator) -> list[str]:
    """Names of the snapshots this plan or run would serve that the closest single approval does not cover."""
    deployed = {(snapshot.name, snapshot.identifier) for snapshot in evaluator.snapshots.values()}
    approvals = _approved_sets(evaluator, sorted({identifier for _, identifier in deployed}))
    closest = max(approvals.values(), key=lambda approved: len(deployed & approved), default=set())
    return sorted(_short_name(name) for name, _ in deployed - closest)


def _refusal(names: list[str]) -> str:
    """The one-paragraph error a refused prod plan or run shows."""
    more = len(names) - SHOWN_NAMES
    shown = ", ".join(names[:SHOWN_NAMES]) + (f" and {more} more" if more > 0 else "")
    return (
        f"Promotion gate: prod would serve {len(names)} model version(s) that have not passed the gate together: "
        f"{shown}. Nothing in prod was changed. Run make promote (python -m checks.promote --env dev): it builds "
        "dev, runs the audits and the Soda checks, and promotes to prod only when they pass."
    )


def landed_content(tables: list[str]) -> exp.Query:
    """Rows and newest dlt load id per (raw table, month): the content a passing scan accepts."""
    per_table = [
        exp.select(
            exp.Literal.string(table).as_("raw_table"),
            "source_month",
            exp.Count(this=exp.Star()).as_("landed_rows"),
            exp.Max(this=exp.column("_dlt_load_id")).as_("load_id"),
        )
        .from_(exp.to_table(table))
        .group_by("source_month")
        for table in tables
    ]
    return functools.reduce(lambda content, more: exp.union(content, more, distinct=False), per_table)


def unaccepted_query(adapter: EngineAdapter) -> exp.Query | None:
    """The query of (raw_table, source_month, landed_rows, load_id) landed but not accepted; None before any data."""
    tables = [table for table in MONTHLY_RAW_TABLES if adapter.table_exists(table)]
    if not tables:
        return None
    if adapter.table_exists(ACCEPTED_TABLE):
        accepted = exp.select(*ACCEPTED_KEY).from_(exp.to_table(ACCEPTED_TABLE))
    else:
        accepted = exp.select(*(exp.null() for _ in ACCEPTED_KEY)).where(exp.false())
    return exp.except_(exp.select("*").from_(landed_content(tables).subquery()), accepted)


def unaccepted_months(adapter: EngineAdapter) -> list[tuple[str, object, int]]:
    """(raw table, month, rows) of every landed month whose current content no passing scan accepted."""
    query = unaccepted_query(adapter)
    return sorted((table, month, rows) for table, month, rows, _ in adapter.fetchall(query)) if query else []


def is_candidate(adapter: EngineAdapter) -> bool:
    """True on a candidate, which prod serves only after its checks pass (ops/candidate.py): on DuckDB the
    warehouse while it holds an undo journal whose token this command's environment carries (so a bare command run
    meanwhile is still refused); on Spark the local folders while a copy taken before the change is put aside,
    which the marker file names."""
    if adapter.dialect != "duckdb":
        marker = Path(os.environ.get("MOBILITY_DATA_DIR") or "data") / "spark" / SPARK_CANDIDATE_MARKER
        return marker.exists() and Path(marker.read_text().strip(), "spark").is_dir()
    token = os.environ.get(CANDIDATE_TOKEN)
    if not token or not adapter.table_exists(f"{JOURNAL_SCHEMA}.owner"):
        return False
    return adapter.fetchall(exp.select("token").from_(exp.table_("owner", db=JOURNAL_SCHEMA))) == [(token,)]


def _error(evaluator: MacroEvaluator, message: str) -> exp.Expression:
    """On DuckDB, a SELECT of error(`message`): the plan or run stops before anything changes.

    On Spark, SQLMesh's cursor only builds a DataFrame for a statement and never collects a bare SELECT, so a
    raise_error() in one would never fire: the macro raises SQLMeshError instead, which stops the plan or run while
    the before_all statements render, before anything changes."""
    if evaluator.dialect != "duckdb":
        raise SQLMeshError(message)
    return exp.select(exp.func("error", exp.Literal.string(message)))


def _wrong_state(moved: str | None, gateway: str | None) -> str:
    """The error of a command that runs on the state in the file after the state moved."""
    return (
        f"SQLMesh's state of this warehouse lives in the `{moved}` gateway's state (make state-to-postgres), and "
        f"this command runs on gateway `{gateway}`, whose state does not know what the warehouse holds. Nothing was "
        f"changed. Run it again with MOBILITY_GATEWAY={moved}."
    )


def _unchecked(months: list[tuple[str, object, int]]) -> str:
    """The one-paragraph error a prod plan or run over unchecked raw months shows."""
    more = len(months) - SHOWN_NAMES
    shown = ", ".join(f"{table} {str(month)[:7]} ({rows:,} rows)" for table, month, rows in months[:SHOWN_NAMES])
    shown += f" and {more} more" if more > 0 else ""
    return (
        f"Promotion gate: {len(months)} landed raw month(s) have not passed the checks as they are now: {shown}. "
        "Nothing in prod was changed. Run make run (or make restate MONTH=YYYY-MM for a re-landed month): it "
        "computes them on a copy of the warehouse, runs the Soda checks and replaces prod only when they pass."
    )


def state_moved_to(adapter: EngineAdapter) -> str | None:
    """The gateway whose state this warehouse's state moved to (`make state-to-postgres`), if it moved."""
    if not adapter.table_exists(f"gate.{STATE_MOVED_TABLE}"):
        return None
    return adapter.fetchall(exp.select("gateway").from_(exp.table_(STATE_MOVED_TABLE, db="gate")))[0][0]


@macro()
def gate_prod_approval(evaluator: MacroEvaluator) -> exp.Expression:
    """In prod: SELECT error(...) (on Spark a SQLMeshError raised) naming the unapproved models, else a no-op SELECT;
    always a no-op elsewhere.

    In every environment: an error when the warehouse's state moved to another gateway's state (Postgres) and this
    command runs on the state in the file, which no longer knows what the warehouse holds."""
    if evaluator.runtime_stage == "loading":
        return exp.select(exp.Literal.string("promotion gate: loading").as_("gate"))
    moved = state_moved_to(evaluator.engine_adapter)
    if moved and moved != evaluator.gateway:
        return _error(evaluator, _wrong_state(moved, evaluator.gateway))
    if evaluator.this_env != "prod":
        return exp.select(exp.Literal.string("promotion gate: not prod").as_("gate"))
    names = unapproved_snapshots(evaluator)
    if names:
        return _error(evaluator, _refusal(names))
    adapter = evaluator.engine_adapter
    unchecked = [] if is_candidate(adapter) else unaccepted_months(adapter)
    if unchecked:
        return _error(evaluator, _unchecked(unchecked))
    return exp.select(exp.Literal.string("promotion gate: approved snapshots over accepted raw months").as_("gate"))
