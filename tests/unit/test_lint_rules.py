"""The project's lint rules (linter/rules.py) on a model that breaks them and on the project's own models."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmesh import Context
from sqlmesh.core.dialect import parse
from sqlmesh.core.model import load_sql_based_model

from linter.rules import NoZonedIntervalFilter

PROJECT_DIR = Path(__file__).resolve().parents[2]


def daily_model(interval_filter: str):  # noqa: ANN201
    return load_sql_based_model(
        parse(
            f"""
            MODEL (name marts.daily, kind INCREMENTAL_BY_TIME_RANGE (time_column pickup_at));
            SELECT pickup_at FROM marts.fct_taxi_trips WHERE {interval_filter}
            """,
            default_dialect="duckdb",
        ),
        dialect="duckdb",
    )


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Context:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOBILITY_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        return Context(paths=str(PROJECT_DIR))


@pytest.mark.parametrize("variables", [("@start_dt", "@end_dt"), ("@start_tstz", "@end_tstz")])
def test_an_interval_filter_on_zoned_timestamps_is_refused(context: Context, variables: tuple[str, str]) -> None:
    model = daily_model(f"pickup_at BETWEEN {variables[0]} AND {variables[1]}")
    violation = NoZonedIntervalFilter(context).check_model(model)
    assert violation is not None
    assert f"filters by {', '.join(sorted(variables))}" in violation.violation_msg
    assert "@start_ts::TIMESTAMP" in violation.violation_msg


def test_a_naive_interval_filter_passes(context: Context) -> None:
    model = daily_model("pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP")
    assert NoZonedIntervalFilter(context).check_model(model) is None


def test_every_model_of_the_project_filters_on_naive_timestamps(context: Context) -> None:
    rule = NoZonedIntervalFilter(context)
    assert [model.name for model in context.models.values() if rule.check_model(model)] == []
    assert "nozonedintervalfilter" in context.config.linter.rules
