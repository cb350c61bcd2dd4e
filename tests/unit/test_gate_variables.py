"""The gate's scan variables are pinned: the process environment never changes what Soda scans or decides.

Soda resolves `${name}` from os.environ before a scan's own variables. These tests set the names the gate uses as
environment variables and check that the rendered check files, Soda's own resolution during a scan and the verdict
of a real (tiny) scan stay exactly as the gate set them; the one way to change a threshold is an explicit override.
Each runs in well under a second, without a build.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from checks import scan
from checks.soda_core import PinnedScan, Scan

HOSTILE_ENVIRONMENT = {
    "marts_schema": "marts",
    "staging_schema": "staging",
    "intermediate_schema": "intermediate",
    "check_start_month": "2099-01-01",
    "check_end_month": "2099-01-01",
    "raw_volume_drop_fail_pct": "100000",
    "revenue_tolerance_dollars": "1000000000",
}


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment of `marts_schema=marts check_start_month=2099-01-01 ... make promote`."""
    for name, value in HOSTILE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return HOSTILE_ENVIRONMENT


def gate_variables() -> dict[str, str]:
    """What the gate scans for `--env dev` with the repository's thresholds and no override."""
    thresholds = scan.load_thresholds(scan.CHECKS_DIR / scan.THRESHOLDS_FILE)
    return scan.scan_variables("dev", None, None, thresholds, {})


def test_environment_does_not_change_the_rendered_check_files(
    hostile: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """raw.yml, marts.yml and reconciliation.yml render the same with the hostile environment as without it."""
    with_hostile = scan.render_checks(scan.CHECKS_DIR, gate_variables())
    for name in hostile:
        monkeypatch.delenv(name)
    assert with_hostile == scan.render_checks(scan.CHECKS_DIR, gate_variables())
    text = "\n".join(with_hostile.values())
    assert "marts__dev." in text and "2099" not in text and "100000" not in text
    assert not scan.referenced_relations([text], scan.schema_variables("prod")), "dev's scan reads prod's views"


def test_soda_resolution_during_a_scan_ignores_the_environment(hostile: dict[str, str]) -> None:
    """Queries and names Soda renders while it scans take the gate's values, where Soda's own Scan takes the env's."""
    template = (
        "SELECT * FROM ${marts_schema}.t WHERE month >= '${check_start_month}' AND x > ${raw_volume_drop_fail_pct}"
    )
    variables = gate_variables()
    pinned, stock = PinnedScan(), Scan()
    for soda_scan in (pinned, stock):
        soda_scan.add_variables(variables)
    assert stock.jinja_resolve(template) == "SELECT * FROM marts.t WHERE month >= '2099-01-01' AND x > 100000"
    assert pinned.jinja_resolve(template) == (
        f"SELECT * FROM marts__dev.t WHERE month >= '{variables['check_start_month']}' AND x > 50"
    )
    assert pinned.get_variable("marts_schema") == "marts__dev"


def test_check_file_name_the_gate_does_not_define_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `${name}` the gate does not set is refused, naming file and variable, even when the environment has it."""
    monkeypatch.setenv("rows_min", "1")
    (tmp_path / "marts.yml").write_text("checks for ${marts_schema}.t:\n  - row_count >= ${rows_min}\n")
    with pytest.raises(scan.ScanSetupError, match=r"marts\.yml uses rows_min, which the gate does not define"):
        scan.render_template(tmp_path / "marts.yml", scan.schema_variables("dev"))


def test_data_source_configuration_reads_only_the_warehouse_folder(tmp_path: Path) -> None:
    """configuration.yml renders with the scanned warehouse's folder; any other env_var() is refused."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    assert f"path: {warehouse}\n" in scan.render_configuration(scan.CHECKS_DIR, warehouse)
    (tmp_path / "configuration.yml").write_text("data_source warehouse:\n  path: ${ env_var('HOME') }/w.duckdb\n")
    with pytest.raises(scan.ScanSetupError, match=r"configuration\.yml reads env_var\('HOME'\)"):
        scan.render_configuration(tmp_path, warehouse)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("raw_volume_fail_pc=100", "'raw_volume_fail_pc' is not a threshold of checks/thresholds.yml"),
        ("marts_schema=marts", "'marts_schema' is not a threshold"),
        ("check_start_month=2099-01-01", "'check_start_month' is not a threshold"),
        ("raw_volume_drop_fail_pct", "is not NAME=VALUE"),
        ("raw_volume_drop_fail_pct=100) OR (1=1", "is not a number"),
        ("raw_volume_drop_fail_pct=100,raw_volume_drop_fail_pct=90", "twice"),
    ],
)
def test_override_of_anything_but_a_threshold_number_is_refused(spec: str, message: str) -> None:
    thresholds = scan.load_thresholds(scan.CHECKS_DIR / scan.THRESHOLDS_FILE)
    with pytest.raises(scan.ScanSetupError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scan.parse_overrides(spec, thresholds)


def test_override_sets_only_the_named_thresholds() -> None:
    thresholds = scan.load_thresholds(scan.CHECKS_DIR / scan.THRESHOLDS_FILE)
    overrides = scan.parse_overrides("raw_volume_drop_fail_pct=100, revenue_tolerance_dollars=0.5", thresholds)
    assert overrides == {"raw_volume_drop_fail_pct": "100", "revenue_tolerance_dollars": "0.5"}
    variables = scan.scan_variables("dev", None, None, thresholds, overrides)
    assert {name: variables[name] for name in thresholds if variables[name] != thresholds[name]} == overrides
    assert scan.parse_overrides(None, thresholds) == scan.parse_overrides("", thresholds) == {}


# A whole scan on a tiny warehouse: dev holds one row in the checked month, prod (marts) none.
TINY_CHECKS = {
    "raw.yml": "checks for ${marts_schema}.trips:\n  - row_count >= ${rows_min}\n",
    "marts.yml": (
        "checks for ${marts_schema}.trips:\n"
        "  - rows_in_months >= ${rows_min}:\n"
        "      rows_in_months query: |\n"
        "        SELECT count(*) FROM ${marts_schema}.trips\n"
        "        WHERE trip_month BETWEEN DATE '${check_start_month}' AND DATE '${check_end_month}'\n"
    ),
    "reconciliation.yml": "checks for ${marts_schema}.trips:\n  - missing_count(trip_id) = 0\n",
    "thresholds.yml": "rows_min: 1\n",
}


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checks folder of TINY_CHECKS (with the real configuration.yml) and a warehouse in MOBILITY_DATA_DIR."""
    checks = tmp_path / "checks"
    checks.mkdir()
    for name, text in TINY_CHECKS.items():
        (checks / name).write_text(text)
    (checks / "configuration.yml").write_text((scan.CHECKS_DIR / "configuration.yml").read_text())
    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect(str(data / "warehouse.duckdb")) as connection:
        for schema in ("staging", "intermediate", "marts", "staging__dev", "intermediate__dev", "marts__dev"):
            connection.execute(f"CREATE SCHEMA {schema}")
            connection.execute(f"CREATE TABLE {schema}.trips (trip_id INT, trip_month DATE)")
        connection.execute("INSERT INTO marts__dev.trips VALUES (1, DATE '2024-09-01')")
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(data))
    return checks


def test_scan_verdict_ignores_the_environment(tiny: Path, hostile: dict[str, str], monkeypatch) -> None:
    """dev passes; neither prod's schema, a far month nor a threshold from the environment changes that."""
    monkeypatch.setenv("rows_min", "1000")
    report = scan.run_scan("dev", start_month="2024-09", end_month="2024-09", checks_dir=tiny)
    assert report.errors == [] and report.verdict == "PASS", report.render()
    assert {result.value for result in report.results} == {1, 0}
    assert report.variables["marts_schema"] == "marts__dev" and report.variables["rows_min"] == "1"
    assert "OVERRIDE" not in report.render()
    assert scan.run_scan("prod", checks_dir=tiny).verdict == "FAIL", "prod (no rows) must fail the same checks"


def test_scan_override_is_applied_and_shown(tiny: Path) -> None:
    """`--override rows_min=2` makes dev's one row fail, and the report's header and summary say so."""
    report = scan.run_scan("dev", checks_dir=tiny, overrides={"rows_min": "2"})
    assert report.verdict == "FAIL"
    rendered = report.render()
    assert "OVERRIDE rows_min=2 for this run (checks/thresholds.yml: 1)" in rendered.splitlines()[1]
    assert report.summary().endswith("with OVERRIDE rows_min=2")
    assert (
        scan.run_scan("dev", checks_dir=tiny, overrides={"rows_max": "2"})
        .errors[0]
        .startswith("OVERRIDE 'rows_max' is not a threshold")
    )


def test_scan_command_refuses_an_unknown_override(capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(tmp_path))
    assert scan.main(["--env", "dev", "--override", "marts_schema=marts"]) == 2
    assert "'marts_schema' is not a threshold of checks/thresholds.yml" in capsys.readouterr().err
