"""`make diff`: a branch that changes a mart is reviewed against prod, and its review environment is dropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import query as read
from tests.workflows.conftest import git, make, output

pytestmark = pytest.mark.slow

FACT = "models/marts/taxi/fct_taxi_trips.sql"
DOWNSTREAM = (
    "marts.agg_airport_trips_by_day",
    "marts.agg_cbd_congestion_fees_by_day",
    "marts.agg_taxi_demand_by_zone_hour",
    "marts.agg_taxi_revenue_by_payment_day",
    "marts.agg_taxi_vs_bike_by_day",
    "marts.agg_trips_by_weather_hour",
)


def drop_short_trips(project: Path) -> None:
    """The change under review: the fact table drops trips shorter than half a mile (a breaking change)."""
    path = project / FACT
    text = path.read_text()
    assert "WHERE\n  is_valid\n" in text
    path.write_text(text.replace("WHERE\n  is_valid\n", "WHERE\n  is_valid\n  AND trip_distance_miles >= 0.5\n", 1))


def row(review: str, model: str) -> str:
    """The summary table's row for a model."""
    found = re.search(rf"^\| `{re.escape(model)}` \|.*$", review, re.MULTILINE)
    assert found, f"{model} is not in the review:\n{review[:3000]}"
    return found.group(0)


def test_diff_names_the_changed_mart_and_its_downstream(clone: Path, data: Path) -> None:
    git(clone, "checkout", "--quiet", "-b", "feature/short-trips")
    drop_short_trips(clone)
    git(clone, "commit", "--quiet", "--all", "--message", "drop short trips")
    prod_before = read(data, "SELECT count(*) FROM marts.fct_taxi_trips")

    result = make(clone, data, "diff", "BASE=main")

    assert result.returncode == 0, output(result)
    review = result.stdout
    assert review.startswith("# Plan diff: `feature/short-trips` against prod")
    assert f"- `M` {FACT}" in review
    assert "| directly modified | Breaking |" in row(review, "marts.fct_taxi_trips")
    for model in DOWNSTREAM:
        assert "| indirectly modified | Indirect Breaking |" in row(review, model)
    assert "marts.fct_bike_trips" not in review  # not downstream of the change
    assert re.search(r"^\s*\+\s+AND trip_distance_miles >= 0\.5$", review, re.MULTILINE), review  # the SQL diff
    assert re.search(r"\| `marts.fct_taxi_trips` \|.*\| \d+ batch\(es\), 2024-09-01 \.\. 2024-10-31 \|", review)
    # the data diff against prod: the short trips exist only in prod, nothing only in the branch
    fact_diff = review.split("### `marts.fct_taxi_trips`")[1].split("###")[0]
    only_prod = int(re.search(r"\| only in PROD \| (\d+) ", fact_diff).group(1))
    short = read(data, "SELECT count(*) FROM marts.fct_taxi_trips WHERE trip_distance_miles < 0.5")[0][0]
    assert only_prod == short > 0
    assert re.search(r"\| only in PR_FEATURE_SHORT_TRIPS \| 0 ", fact_diff)
    # the review environment is gone and prod is untouched
    schemas = {name for (name,) in read(data, "SELECT schema_name FROM information_schema.schemata")}
    assert not {name for name in schemas if "pr_feature_short_trips" in name}
    environments = {name for (name,) in read(data, "SELECT name FROM sqlmesh._environments")}
    assert "pr_feature_short_trips" not in environments
    assert read(data, "SELECT count(*) FROM marts.fct_taxi_trips") == prod_before


def test_diff_without_model_changes_says_so(clone: Path, data: Path) -> None:
    git(clone, "checkout", "--quiet", "-b", "docs-only")
    (clone / "NOTES.md").write_text("no model change\n")

    result = make(clone, data, "diff")

    assert result.returncode == 0, output(result)
    assert "- `A` NOTES.md" in result.stdout
    assert "**No model changes: the project files match prod.**" in result.stdout


def test_diff_of_a_description_change_shows_the_old_and_the_new_text(clone: Path, data: Path) -> None:
    git(clone, "checkout", "--quiet", "-b", "docs/distance")
    path = clone / FACT
    text = path.read_text()
    old, new = "taximeter distance in miles", "distance the taximeter recorded, in miles"
    assert f"trip_distance_miles, /* {old} */" in text
    path.write_text(text.replace(f"trip_distance_miles, /* {old} */", f"trip_distance_miles, /* {new} */", 1))

    result = make(clone, data, "diff")

    assert result.returncode == 0, output(result)
    review = result.stdout
    assert "| metadata only | Metadata |" in row(review, "marts.fct_taxi_trips")
    metadata = review.split("## Metadata changes")[1].split("\n## ")[0]
    assert "### `marts.fct_taxi_trips`" in metadata
    assert f"| column `trip_distance_miles` | {old} | {new} |" in metadata, review
    assert "### `marts.agg_" not in metadata  # downstream models keep their own metadata
