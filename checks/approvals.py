"""The approval record of the promotion gate, read and written through SQLMesh's own state and engine adapter.

`gate.approved_snapshots` holds one row per snapshot of every environment that passed the gate: the snapshots
that were built, audited and scanned together share an `approval_id`. The `before_all` macro in macros/gate.py
reads it at every prod plan and run; only checks/promote.py writes it, while holding the warehouse lock.
`overrides` records the thresholds a gate ran with by `make promote OVERRIDE=...` (`{}` when none; NULL on rows
written before the column existed, which is added to an older table on the next approval).

`gate.promotions` says whether and when prod was switched to an approval: one row when prod was verified to serve
it, by `make promote` or by the command that completed a promotion a killed process left unfinished
(ops/recover.py). An approval with no row there was never promoted.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from sqlglot import exp
from sqlmesh import Context
from sqlmesh.core.engine_adapter import EngineAdapter
from sqlmesh.core.environment import EnvironmentNamingInfo
from sqlmesh.core.snapshot import DeployabilityIndex, SnapshotTableInfo

from macros.gate import ACCEPTED_TABLE, APPROVALS_TABLE, sql, unaccepted_query

APPROVALS_DDL = f"""
CREATE TABLE IF NOT EXISTS {APPROVALS_TABLE} (
  approval_id VARCHAR NOT NULL,   -- one passed gate: the snapshots built, audited and scanned together
  name VARCHAR NOT NULL,          -- SQLMesh model name, fully qualified as in its state
  identifier VARCHAR NOT NULL,    -- SQLMesh snapshot identifier (the fingerprint's hash)
  version VARCHAR NOT NULL,       -- version of the physical table the snapshot reads and writes
  environment VARCHAR NOT NULL,   -- the environment that was built and scanned
  approved_at TIMESTAMP NOT NULL, -- UTC
  checks_summary VARCHAR NOT NULL, -- JSON: Soda verdict, counts and the warnings shown
  overrides VARCHAR               -- JSON: {{threshold: value}} given by OVERRIDE=, {{}} if none; NULL on older rows
)
"""
ACCEPTED_DDL = f"""
CREATE TABLE IF NOT EXISTS {ACCEPTED_TABLE} (
  raw_table VARCHAR NOT NULL,     -- schema.table of a monthly raw table
  source_month DATE NOT NULL,     -- the landed month
  landed_rows BIGINT NOT NULL,    -- its rows when a passing scan checked it
  load_id VARCHAR,                -- its newest dlt load then: a re-landed month has a newer one
  accepted_at TIMESTAMP NOT NULL, -- UTC
  accepted_by VARCHAR NOT NULL    -- the approval id (make promote) or the workflow (make run, make restate)
)
"""
PROMOTIONS_TABLE = "gate.promotions"
PROMOTIONS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PROMOTIONS_TABLE} (
  approval_id VARCHAR NOT NULL,   -- the approval prod was switched to (gate.approved_snapshots)
  plan_id VARCHAR NOT NULL,       -- SQLMesh's plan that switched it
  promoted_at TIMESTAMP NOT NULL, -- UTC, when prod was verified to serve exactly the approved snapshots
  promoted_by VARCHAR NOT NULL    -- make promote, or the command that completed an interrupted promotion
)
"""
APPROVALS_UPGRADE = f"ALTER TABLE {APPROVALS_TABLE} ADD COLUMN IF NOT EXISTS overrides VARCHAR"
APPROVALS_COLUMNS = (
    "approval_id",
    "name",
    "identifier",
    "version",
    "environment",
    "approved_at",
    "checks_summary",
    "overrides",
)


class GateError(Exception):
    """The gate cannot approve or verify: the message says what is wrong and what to do."""


def environment_snapshots(context: Context, environment: str) -> list[SnapshotTableInfo]:
    """The snapshots an environment serves (all its models, promoted views or not)."""
    stored = context.state_reader.get_environment(environment)
    if stored is None:
        raise GateError(f"SQLMesh has no environment '{environment}': build it with `sqlmesh plan {environment}`.")
    return list(stored.snapshots)


def snapshot_keys(snapshots: list[SnapshotTableInfo]) -> set[tuple[str, str]]:
    """(name, identifier) of each snapshot, the pair the before_all gate compares."""
    return {(snapshot.name, snapshot.identifier) for snapshot in snapshots}


def pending_prod_batches(context: Context, snapshots: list[SnapshotTableInfo]) -> dict[str, int]:
    """Batches a prod plan of these snapshots would run now (signals applied), by model; none in a virtual update."""
    stored = context.state_reader.get_snapshots(snapshots).values()
    scheduler = context.create_scheduler(stored, context.snapshot_evaluator)
    deployability = DeployabilityIndex.all_deployable()
    missing = scheduler.merged_missing_intervals(deployability_index=deployability)
    batches = scheduler.batch_intervals(missing, deployability, EnvironmentNamingInfo(name="prod"))
    return {snapshot.name: len(intervals) for snapshot, intervals in batches.items() if intervals}


def record_approval(
    context: Context,
    environment: str,
    snapshots: list[SnapshotTableInfo],
    summary: dict,
    overrides: dict[str, str] | None = None,
) -> str:
    """Writes one approval row per snapshot, with the thresholds overridden for it, and returns the approval id."""
    approved_at = datetime.now(UTC).replace(tzinfo=None)
    approval_id = f"{approved_at:%Y%m%dT%H%M%S}-{environment}-{uuid.uuid4().hex[:8]}"
    rows = [
        exp.Tuple(
            expressions=[
                exp.Literal.string(value)
                for value in (approval_id, snapshot.name, snapshot.identifier, snapshot.version, environment)
            ]
            + [
                exp.cast(exp.Literal.string(approved_at.isoformat()), "TIMESTAMP"),
                exp.Literal.string(json.dumps(summary)),
                exp.Literal.string(json.dumps(overrides or {})),
            ]
        )
        for snapshot in snapshots
    ]
    adapter = context.engine_adapter
    adapter.create_schema("gate")
    adapter.execute(sql(APPROVALS_DDL))
    if adapter.dialect == "duckdb":  # a table from before the column; a Spark one was always created with it
        adapter.execute(APPROVALS_UPGRADE)
    adapter.execute(exp.insert(exp.Values(expressions=rows), APPROVALS_TABLE, columns=list(APPROVALS_COLUMNS)))
    return approval_id


def record_accepted_months(
    adapter: EngineAdapter, accepted_by: str, months: list[date] | None = None
) -> list[tuple[str, str, int]]:
    """Records the current content of landed raw months not yet accepted (only `months` when given).

    Called only after a scan passed on data built from exactly this content (the caller holds the warehouse lock).
    Returns (raw table, YYYY-MM, rows) of each month recorded.
    """
    adapter.create_schema("gate")
    adapter.execute(sql(ACCEPTED_DDL))
    unaccepted = unaccepted_query(adapter)
    if unaccepted is None:
        return []
    query = exp.select("*").from_(unaccepted.subquery("unaccepted"))
    if months is not None:
        days = [exp.cast(exp.Literal.string(month.isoformat()), exp.DataType.Type.DATE) for month in months]
        query = query.where(exp.column("source_month").isin(*days) if days else exp.false())
    recorded = adapter.fetchall(
        exp.select("raw_table", exp.cast(exp.column("source_month"), exp.DataType.Type.VARCHAR), "landed_rows")
        .from_(query.subquery("recorded"))
        .order_by("1", "2", "3")
    )
    accepted_at = exp.cast(
        exp.Literal.string(datetime.now(UTC).replace(tzinfo=None).isoformat()), exp.DataType.Type.TIMESTAMP
    )
    adapter.execute(
        exp.insert(
            exp.select("*", accepted_at, exp.Literal.string(accepted_by)).from_(query.subquery("recorded")),
            ACCEPTED_TABLE,
        )
    )
    return [(table, month[:7], rows) for table, month, rows in recorded]


def approved_keys(context: Context, approval_id: str) -> set[tuple[str, str]]:
    """(name, identifier) of the snapshots one approval covers."""
    rows = context.engine_adapter.fetchall(
        exp.select("name", "identifier")
        .from_(exp.to_table(APPROVALS_TABLE))
        .where(exp.column("approval_id").eq(exp.Literal.string(approval_id)))
    )
    return {(name, identifier) for name, identifier in rows}


def prod_keys(context: Context) -> set[tuple[str, str]]:
    """(name, identifier) of the snapshots prod serves; empty before the first promotion."""
    stored = context.state_reader.get_environment("prod")
    return snapshot_keys(list(stored.snapshots)) if stored else set()


def record_promotion(context: Context, approval_id: str, promoted_by: str) -> None:
    """Records that prod now serves the approval (the caller verified it), with the plan that switched it."""
    stored = context.state_reader.get_environment("prod")
    adapter = context.engine_adapter
    adapter.create_schema("gate")
    adapter.execute(sql(PROMOTIONS_DDL))
    promoted_at = exp.cast(
        exp.Literal.string(datetime.now(UTC).replace(tzinfo=None).isoformat()), exp.DataType.Type.TIMESTAMP
    )
    row = exp.Tuple(
        expressions=[
            exp.Literal.string(approval_id),
            exp.Literal.string(stored.plan_id if stored else ""),
            promoted_at,
            exp.Literal.string(promoted_by),
        ]
    )
    adapter.execute(exp.insert(exp.Values(expressions=[row]), PROMOTIONS_TABLE))


def approval_serving(context: Context, keys: set[tuple[str, str]]) -> str | None:
    """The newest approval whose snapshots are exactly these (name, identifier) pairs, or None."""
    if not keys or not context.engine_adapter.table_exists(APPROVALS_TABLE):
        return None
    rows = context.engine_adapter.fetchall(
        exp.select("approval_id", "name", "identifier")
        .from_(exp.to_table(APPROVALS_TABLE))
        .order_by(exp.column("approved_at").desc(), "approval_id")
    )
    approvals: dict[str, set[tuple[str, str]]] = {}
    for approval_id, name, identifier in rows:
        approvals.setdefault(approval_id, set()).add((name, identifier))
    return next((approval for approval, approved in approvals.items() if approved == keys), None)
