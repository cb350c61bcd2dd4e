"""The check files on Spark: checks/scan.py renders their DuckDB SQL for Spark (no Spark needed here)."""

from __future__ import annotations

import yaml

from checks.scan import (
    CHECKS_DIR,
    NO_ACCEPTED_MONTHS,
    THRESHOLDS_FILE,
    for_engine,
    load_thresholds,
    month_variables,
    render_checks,
    schema_variables,
)
from gateway.spark import SPARK_COLUMNS_VIEW


def rendered_checks() -> dict[str, str]:
    variables = {
        **load_thresholds(CHECKS_DIR / THRESHOLDS_FILE),
        **schema_variables("dev"),
        **month_variables(None, None),
        "accepted_months": NO_ACCEPTED_MONTHS,
    }
    return render_checks(CHECKS_DIR, variables)


def checks(text: str) -> list[object]:
    """Every check of a SodaCL file (`checks:` and `checks for <dataset>:` sections)."""
    return [check for section in yaml.safe_load(text).values() if isinstance(section, list) for check in section]


def queries(text: str) -> list[str]:
    return [value for check in checks(text) if isinstance(check, dict)
            for spec in check.values() if isinstance(spec, dict)
            for key, value in spec.items() if key in ("fail query", "fail condition")]  # fmt: skip


def test_duckdb_gets_the_files_as_written() -> None:
    for text in rendered_checks().values():
        assert for_engine(text, "duckdb") == text


def test_every_query_renders_for_spark_and_keeps_every_check() -> None:
    for name, text in rendered_checks().items():
        spark = for_engine(text, "spark")
        assert len(queries(spark)) == len(queries(text)), name
        assert len(checks(spark)) == len(checks(text)), name


def test_time_zones_and_information_schema_take_their_spark_forms() -> None:
    spark = "\n".join(query for text in rendered_checks().values() for query in queries(for_engine(text, "spark")))
    assert "CONVERT_TIMEZONE('America/New_York', 'UTC'" in spark  # the models' local-hour rule
    assert "TO_UTC_TIMESTAMP(" in spark  # the weather month's hours
    assert "FROM_UTC_TIMESTAMP" not in spark  # SQLGlot's own rendering of AT TIME ZONE converts the other way
    assert f"FROM {SPARK_COLUMNS_VIEW} " in spark and "information_schema." not in spark
