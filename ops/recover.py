"""Before anything touches prod: finish a promotion a killed process left half done, and say what awaits restating.

SQLMesh switches prod in steps: it records the new environment (its snapshots, not yet finalized), then replaces
prod's views one model at a time, then finalizes the record. A process killed between the first and the last step
leaves prod's views split between two versions, and `sqlmesh run` then waits up to its configured limit for a
plan that will never finish. Every promotion of this project holds the warehouse lock, so a prod record that is
not finalized while we hold the lock belongs to a process that died.

`finish_promotion` completes it exactly as SQLMesh would have: every view of the recorded environment points at its
snapshot's table, views of models it no longer has are dropped, its snapshots are unpaused, the record is
finalized, and gate.promotions records the approval it serves (the before_all gate admitted the plan, so it is one).
Rolling forward is always possible here, because the new tables were complete before the record changed; the
previous versions may already be expired. `preflight` first puts back the Spark folders a killed run or
restatement had put aside (ops/candidate.py), then runs it, then reports the months awaiting restatement
(gateway/pending.py); promote, run and restate call it under the lock, and `make check` through `python -m
ops.recover` (which takes the lock only when there is something to finish).
"""

from __future__ import annotations

import sys

import duckdb
from sqlmesh.core.snapshot import DeployabilityIndex
from sqlmesh.core.snapshot.definition import to_view_mapping
from sqlmesh.utils.date import now

import gateway
from checks.approvals import approval_serving, prod_keys, record_promotion
from gateway import pending, warehouse_path
from gateway.lock import WarehouseBusy, warehouse_lock
from ops import candidate
from ops.common import EXIT_BUSY, WorkflowError, pin_data_dir, sqlmesh_context

STATE_ENVIRONMENTS = "sqlmesh._environments"


def finish_promotion(step: str) -> str | None:
    """Completes prod's unfinished update, if there is one; the one line saying what was done, or None."""
    with sqlmesh_context(load=False) as context:
        state = context.state_sync
        stored = state.get_environment("prod")
        if stored is None or stored.finalized_ts:
            return None
        keys = prod_keys(context)
        approval = approval_serving(context, keys)
        if approval is None:
            raise WorkflowError(
                f"prod was left mid-update by plan {stored.plan_id}, and its snapshots are not one approval of the "
                "gate: it was not switched by `make promote`. Inspect it with `sqlmesh info`, then promote an "
                "approved environment (make promote) to replace it."
            )
        promoted = state.get_snapshots(stored.promoted_snapshots)
        every = state.get_snapshots(stored.snapshots)
        evaluator = context.snapshot_evaluator
        dialect = evaluator.adapter.dialect
        mapping = to_view_mapping(every.values(), stored.naming_info, context.default_catalog, dialect=dialect)
        evaluator.promote(
            list(promoted.values()),
            stored.naming_info,
            deployability_index=DeployabilityIndex.all_deployable(),
            start=stored.start_at,
            end=stored.end_at,
            execution_time=now(),
            snapshots=every,
            table_mapping=mapping,
        )
        kept = {snapshot.name for snapshot in stored.promoted_snapshots}
        dropped = [info for info in stored.previous_finalized_snapshots or [] if info.name not in kept]
        if dropped:
            evaluator.demote(list(state.get_snapshots(dropped).values()), stored.naming_info)
        state.unpause_snapshots(list(promoted.values()), now())
        state.finalize(stored)
        record_promotion(context, approval, f"{step}, completing an interrupted promotion")
    return (
        f"[{step}] prod was left mid-update by a promotion that did not finish (plan {stored.plan_id}); completed it: "
        f"prod now serves approval {approval} ({len(promoted)} views), as the gate approved"
    )


def preflight(step: str) -> None:
    """What every command that touches prod does first, under the lock: finish, then report pending restatements."""
    if not gateway.exists():
        return
    restored = candidate.restore_leftovers(step)
    if restored:
        print(restored, flush=True)
    finished = finish_promotion(step)
    if finished:
        print(finished, flush=True)
    awaiting = pending.describe()
    if awaiting:
        print(f"[{step}] {awaiting}", flush=True)


def unfinished_at_rest() -> bool:
    """True when the warehouse file's prod record is not finalized, or it holds the undo journal of a restatement
    that did not finish (read-only; False when it cannot be read)."""
    try:
        with duckdb.connect(str(warehouse_path()), read_only=True) as connection:
            if gateway.has_journal(connection):
                return True
            row = connection.execute(
                f"SELECT finalized_ts IS NULL FROM {STATE_ENVIRONMENTS} WHERE name = 'prod'"
            ).fetchone()
    except duckdb.Error:
        return False  # not built, held by a writer, or the state lives elsewhere: the next command says which
    return bool(row and row[0])


def main(argv: list[str]) -> int:
    """`python -m ops.recover [STEP]`: before a read-only command (make check), finish what a killed one left."""
    step = argv[0] if argv else "check"
    pin_data_dir()
    try:
        if gateway.engine() == "duckdb" and not unfinished_at_rest():
            awaiting = pending.describe()
            if awaiting:
                print(f"[{step}] {awaiting}", flush=True)
            return 0
        with warehouse_lock(f"make {step}: completing an interrupted promotion or restatement"):
            preflight(step)
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (WorkflowError, gateway.GatewayError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
