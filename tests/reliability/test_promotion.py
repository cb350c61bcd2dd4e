"""A `make promote` killed in the middle of prod's virtual update, and the next command that touches prod.

The kill is placed in the window itself (after the second prod view is switched, tests/reliability/inject), not
after a sleep, so every run leaves prod split between old and new versions with SQLMesh's record of prod not
finalized. The next `make run` must say so in one line and complete the approved promotion at once (not wait for
SQLMesh's six hours), so that prod serves the whole approved set, as dev does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import query as read
from tests.workflows.conftest import make, output

pytestmark = pytest.mark.slow

INJECT = Path(__file__).resolve().parent / "inject"
FACT = "models/marts/taxi/fct_taxi_trips.sql"
VIEWS = "SELECT view_name, sql FROM duckdb_views() WHERE schema_name = '{schema}' ORDER BY view_name"
TABLE = re.compile(r"sqlmesh__marts\.\"?([a-z0-9_]+__\d+)")


def served(data: Path, schema: str) -> dict[str, str]:
    """The physical table each view of a schema selects from."""
    return {name: TABLE.search(sql).group(1) for name, sql in read(data, VIEWS.format(schema=schema))}


def test_a_promotion_killed_mid_switch_is_completed_by_the_next_run(
    clone: Path, data: Path, sample_mirror: Path
) -> None:
    fact = clone / FACT
    text = fact.read_text()
    assert "WHERE\n  is_valid\n" in text
    fact.write_text(text.replace("WHERE\n  is_valid\n", "WHERE\n  is_valid = TRUE\n", 1))  # same rows, new version
    before = served(data, "marts")

    killed = make(
        clone,
        data,
        "promote",
        FAULT_KILL_AFTER_PROD_VIEWS="2",
        PYTHONPATH=os.pathsep.join(filter(None, [str(INJECT), os.environ.get("PYTHONPATH")])),
    )

    assert killed.returncode != 0, output(killed)
    assert "left prod mid-switch to this approval: the next make promote, run, restate or check" in killed.stdout
    split = served(data, "marts")
    dev = served(data, "marts__dev")
    moved = {view for view in split if split[view] != before[view]}
    assert moved and {view for view in dev if dev[view] != split[view]}, "the kill left prod on one version"
    assert read(data, "SELECT finalized_ts IS NULL FROM sqlmesh._environments WHERE name = 'prod'") == [(True,)]

    ran = make(clone, data, "run", "MONTHS=2024-10", "SOURCES=zones", f"MIRROR={sample_mirror}", timeout=300)

    assert ran.returncode == 0, output(ran)
    assert ran.stdout.count("prod was left mid-update by a promotion that did not finish") == 1, output(ran)
    assert "Environment 'prod' is being updated" not in ran.stdout + ran.stderr
    assert served(data, "marts") == dev  # the whole approved set, as the gate approved it in dev
    assert read(data, "SELECT finalized_ts IS NOT NULL FROM sqlmesh._environments WHERE name = 'prod'") == [(True,)]
    switches = read(data, "SELECT promoted_by FROM gate.promotions ORDER BY promoted_at")
    assert "run, completing an interrupted promotion" in switches[-1][0]
    unknown = (
        "SELECT count(*) FROM gate.promotions "
        "WHERE approval_id NOT IN (SELECT approval_id FROM gate.approved_snapshots)"
    )
    assert read(data, unknown) == [(0,)]  # every switch names the approval prod was switched to
    checked = make(clone, data, "check", "ENV=prod")
    assert checked.returncode == 0, output(checked)
