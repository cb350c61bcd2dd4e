"""The promotion gate inside SQLMesh: prod only ever serves a set of snapshots that `make promote` approved.

`make promote` (python -m checks.promote) builds an environment, runs the audits and the Soda checks on it and, when
all pass, records the environment's snapshots as one approval in `gate.approved_snapshots`. The project-level
`before_all` in config.yaml calls `@gate_prod_approval()`, which SQLMesh renders at the start of every
`sqlmesh plan` and `sqlmesh run`, before any table or view changes. In prod it renders `SELECT error(...)` unless
one approval covers every snapshot prod is about to serve; anywhere else it is a no-op. A scheduled `sqlmesh run`
of the snapshots already in prod passes, because they are the approved set.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

APPROVALS_TABLE = "gate.approved_snapshots"
SHOWN_NAMES = 8


def _short_name(fqn: str) -> str:
    """`"warehouse"."marts"."fct_taxi_trips"` as `marts.fct_taxi_trips`."""
    return ".".join(part.strip('"') for part in fqn.split(".")[-2:])


def _approved_sets(evaluator: MacroEvaluator, identifiers: list[str]) -> dict[str, set[tuple[str, str]]]:
    """The recorded approvals, by approval id, restricted to the given snapshot identifiers."""
    adapter = evaluator.engine_adapter
    if not identifiers or not adapter.table_exists(APPROVALS_TABLE):
        return {}
    listed = ", ".join(exp.Literal.string(identifier).sql() for identifier in identifiers)
    rows = adapter.fetchall(
        f"SELECT approval_id, name, identifier FROM {APPROVALS_TABLE} WHERE identifier IN ({listed})"
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


@macro()
def gate_prod_approval(evaluator: MacroEvaluator) -> exp.Expression:
    """In prod: SELECT error(...) naming the unapproved models, else a no-op SELECT; always a no-op elsewhere."""
    if evaluator.runtime_stage == "loading" or evaluator.this_env != "prod":
        return exp.select(exp.Literal.string("promotion gate: not prod").as_("gate"))
    names = unapproved_snapshots(evaluator)
    if names:
        return exp.select(exp.func("error", exp.Literal.string(_refusal(names))))
    return exp.select(exp.Literal.string("promotion gate: every prod snapshot approved").as_("gate"))
