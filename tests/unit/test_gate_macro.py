"""How the gate's before_all stops a refused prod plan or run on each engine (macros/gate.py)."""

from __future__ import annotations

import pytest
from sqlmesh.core.macros import MacroEvaluator
from sqlmesh.utils.errors import SQLMeshError

from macros.gate import _error

MESSAGE = "Promotion gate: 1 landed raw month(s) have not passed the checks"


def test_duckdb_fails_the_statement_it_runs() -> None:
    statement = _error(MacroEvaluator(dialect="duckdb"), MESSAGE)
    assert statement.sql("duckdb") == f"SELECT ERROR('{MESSAGE}')"


def test_spark_refuses_while_rendering_as_its_statements_run_lazily() -> None:
    # SQLMesh's Spark cursor only builds a DataFrame for a statement: SELECT raise_error(...) would never fire.
    with pytest.raises(SQLMeshError, match="have not passed the checks"):
        _error(MacroEvaluator(dialect="spark"), MESSAGE)


def test_the_macros_own_copies_of_the_projects_names_match_them() -> None:
    # macros/gate.py is evaluated by SQLMesh and keeps its own copies of these names; the rest of the project reads
    # them from gateway and ops.common. A rename on one side only would make the gate read a table nobody writes.
    import gateway
    from macros import gate
    from ops.common import MONTHLY_RAW_TABLES

    assert (gate.ACCEPTED_TABLE, gate.JOURNAL_SCHEMA, gate.CANDIDATE_TOKEN) == (
        gateway.ACCEPTED_TABLE,
        gateway.JOURNAL_SCHEMA,
        gateway.CANDIDATE_TOKEN,
    )
    assert gate.MONTHLY_RAW_TABLES == MONTHLY_RAW_TABLES
