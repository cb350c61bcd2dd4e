"""The DuckDB candidate's undo journal (ops/candidate.py): played back, the warehouse is exactly as before the change;
dropped, the change stays; the gate lets through only the commands that carry the journal's token."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlmesh.core.engine_adapter.duckdb import DuckDBEngineAdapter

from gateway import CANDIDATE_TOKEN, JOURNAL_SCHEMA, has_journal
from macros import gate
from ops.candidate import Slice, journal_step, play_back, write_journal

MART = "sqlmesh__marts.fct"
OCTOBER = "day >= DATE '2024-10-01' AND day < DATE '2024-11-01'"
TABLES = ("sqlmesh__marts.fct", "sqlmesh._intervals", "gate.accepted_months")


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse with a mart of two months, SQLMesh's intervals and the gate's accepted months."""
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("sqlmesh__marts", "sqlmesh", "gate"):
        connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(f"CREATE TABLE {MART} AS SELECT DATE '2024-09-30' + i::INT AS day, i AS n FROM range(20) t(i)")
    connection.execute("CREATE TABLE sqlmesh._intervals AS SELECT 'fct' AS name, DATE '2024-09-30' AS start_day")
    connection.execute("CREATE TABLE gate.accepted_months AS SELECT DATE '2024-09-01' AS source_month")
    yield connection
    connection.close()


def contents(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {table: connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in TABLES}


def change_october(connection: duckdb.DuckDBPyConnection) -> None:
    """What a restatement of October does: the month's rows rewritten, the state and the gate's tables changed."""
    connection.execute(f"DELETE FROM {MART} WHERE {OCTOBER}")
    connection.execute(f"INSERT INTO {MART} SELECT DATE '2024-10-01' + i::INT, 100 + i FROM range(31) t(i)")
    connection.execute("INSERT INTO sqlmesh._intervals VALUES ('fct', DATE '2024-10-01')")
    connection.execute("DELETE FROM gate.accepted_months")
    connection.execute("CREATE TABLE gate.pending_restatements AS SELECT DATE '2024-10-01' AS source_month")


def test_played_back_the_warehouse_is_as_before(warehouse: duckdb.DuckDBPyConnection) -> None:
    before = contents(warehouse)
    write_journal(warehouse, "restate", "t0ken", [Slice(MART, OCTOBER)])
    change_october(warehouse)
    assert contents(warehouse) != before

    play_back(warehouse)

    assert contents(warehouse) == before
    assert not has_journal(warehouse)
    assert journal_step(warehouse) is None
    tables = warehouse.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'gate'").fetchall()
    assert tables == [("accepted_months",)], "a table the change created stays behind"


def test_the_journal_saves_the_months_not_the_warehouse(warehouse: duckdb.DuckDBPyConnection) -> None:
    write_journal(warehouse, "restate", "t0ken", [Slice(MART, OCTOBER)])

    saved = warehouse.execute(f"SELECT saved FROM {JOURNAL_SCHEMA}.entries WHERE target = '{MART}'").fetchone()[0]
    assert warehouse.execute(f"SELECT count(*) FROM {saved}").fetchone()[0] == 19  # October's days, not September's
    assert journal_step(warehouse) == "restate"


def test_only_the_journals_own_commands_pass_the_gate(
    warehouse: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = DuckDBEngineAdapter(lambda: warehouse)
    monkeypatch.setenv(CANDIDATE_TOKEN, "t0ken")
    assert not gate.is_candidate(adapter), "no journal: not a candidate, whatever the environment says"

    write_journal(warehouse, "run", "t0ken", [Slice(MART, OCTOBER)])

    assert gate.is_candidate(adapter)
    monkeypatch.setenv(CANDIDATE_TOKEN, "another")
    assert not gate.is_candidate(adapter)
    monkeypatch.delenv(CANDIDATE_TOKEN)
    assert not gate.is_candidate(adapter)


def test_the_gate_and_the_readers_name_the_same_journal() -> None:
    assert (gate.JOURNAL_SCHEMA, gate.CANDIDATE_TOKEN) == (JOURNAL_SCHEMA, CANDIDATE_TOKEN)
