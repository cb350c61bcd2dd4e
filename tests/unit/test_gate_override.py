"""OVERRIDE= is the one way to change a threshold for a gate: refused unless it names thresholds, printed, recorded.

The approval record is written through SQLMesh's DuckDB engine adapter on a scratch file, as checks/promote.py
writes it, including over a table written before the `overrides` column existed. No build, no SQLMesh project.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from sqlmesh.core.engine_adapter import create_engine_adapter

from checks import promote
from checks.approvals import APPROVALS_TABLE, record_approval
from checks.scan import ScanReport

OLD_DDL = f"""
CREATE TABLE {APPROVALS_TABLE} (
  approval_id VARCHAR NOT NULL, name VARCHAR NOT NULL, identifier VARCHAR NOT NULL, version VARCHAR NOT NULL,
  environment VARCHAR NOT NULL, approved_at TIMESTAMP NOT NULL, checks_summary VARCHAR NOT NULL
)
"""


def snapshot(name: str) -> SimpleNamespace:
    """What record_approval reads of a SQLMesh SnapshotTableInfo."""
    return SimpleNamespace(name=name, identifier=f"id-{name}", version=f"v-{name}")


@pytest.mark.parametrize("spec", ["raw_volume_fail_pc=100", "marts_schema=marts", "raw_volume_drop_fail_pct=lots"])
def test_promote_refuses_a_bad_override_before_anything_runs(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Exit 2 with the reason, before the lock, the build or the warehouse: nothing is created in the data folder."""
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(promote, "run_gate", lambda gate: pytest.fail("the gate ran with a refused override"))
    assert promote.main(["--env", "dev", "--override", spec]) == 2
    error = capsys.readouterr().err
    assert f"OVERRIDE '{spec.split('=')[0]}' is not a threshold" in error or "is not a number" in error
    assert "Nothing was built or promoted" in error
    assert list(tmp_path.iterdir()) == []


def test_promote_passes_the_override_to_the_scan_and_prints_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The gate carries exactly the OVERRIDE given on the command line; the closing summary shows it."""
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("raw_volume_drop_fail_pct", "100000")  # an environment variable is no override
    seen = []
    monkeypatch.setattr(promote, "run_gate", lambda gate: seen.append(gate.overrides) or 0)
    assert promote.main(["--env", "dev", "--override", "raw_volume_drop_fail_pct=100"]) == 0
    assert promote.main(["--env", "dev"]) == 0
    assert seen == [{"raw_volume_drop_fail_pct": "100"}, {}]
    summaries = capsys.readouterr().out.split("=== promotion gate")
    assert "OVERRIDE raw_volume_drop_fail_pct=100" in summaries[1] and "OVERRIDE" not in summaries[2]


def test_checks_summary_records_the_override_with_its_default() -> None:
    report = ScanReport(env="dev", warehouse=Path("w"), variables={}, overrides={"raw_volume_drop_fail_pct": "100"})
    report.defaults = {"raw_volume_drop_fail_pct": "70"}
    summary = promote.checks_summary(report)
    assert summary["verdict"] == "PASS"
    assert summary["overrides"] == {"raw_volume_drop_fail_pct": {"value": "100", "default": "70"}}


def test_approval_records_the_override_and_old_records_stay_readable(tmp_path: Path) -> None:
    """An approval table from before the column gains `overrides`; old rows read NULL, new rows the override."""
    path = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(path) as connection:
        connection.execute("CREATE SCHEMA gate")
        connection.execute(OLD_DDL)
        connection.execute(f"INSERT INTO {APPROVALS_TABLE} VALUES ('old', 'm', 'i', 'v', 'dev', now(), '{{}}')")
    adapter = create_engine_adapter(lambda: duckdb.connect(path), "duckdb")
    context = SimpleNamespace(engine_adapter=adapter)
    with_override = record_approval(
        context, "dev", [snapshot("a"), snapshot("b")], {}, {"raw_volume_drop_fail_pct": "100"}
    )
    without = record_approval(context, "dev", [snapshot("a")], {})
    adapter.close()
    with duckdb.connect(path, read_only=True) as connection:
        rows = connection.execute(
            f"SELECT approval_id, name, overrides FROM {APPROVALS_TABLE} ORDER BY approved_at, approval_id, name"
        ).fetchall()
        # what macros/gate.py reads at every prod plan still reads
        assert connection.execute(f"SELECT approval_id, name, identifier FROM {APPROVALS_TABLE}").fetchall()
    assert rows[0] == ("old", "m", None)
    assert [(name, json.loads(overrides)) for approval, name, overrides in rows if approval == with_override] == [
        ("a", {"raw_volume_drop_fail_pct": "100"}),
        ("b", {"raw_volume_drop_fail_pct": "100"}),
    ]
    assert [json.loads(overrides) for approval, _, overrides in rows if approval == without] == [{}]


@pytest.mark.parametrize("how", ["command line", "environment"])
def test_make_passes_override_only_from_its_command_line(how: str) -> None:
    """`make promote/check OVERRIDE=...` pass it on; an OVERRIDE exported in the shell does not."""
    root = Path(__file__).resolve().parents[2]
    for target in ("promote", "check"):
        command = ["make", "--no-print-directory", "-n", target]
        extra = {"OVERRIDE": "raw_volume_drop_fail_pct=100"}
        if how == "command line":
            command.append("OVERRIDE=raw_volume_drop_fail_pct=100")
            extra = {}
        result = subprocess.run(command, cwd=root, env={**os.environ, **extra}, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        passed = "--override 'raw_volume_drop_fail_pct=100'" in result.stdout
        assert passed == (how == "command line"), result.stdout
