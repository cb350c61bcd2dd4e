"""ops/diff.py: a metadata change is reviewed as the prod text beside the working tree's, field by field."""

from __future__ import annotations

from sqlmesh.core import dialect
from sqlmesh.core.model import Model, load_sql_based_model

from ops import diff

PROD = """
/* Taxi trips, one row per trip. */
MODEL (
  name marts.fct_trips,
  kind FULL,
  owner analytics,
  grain trip_id,
  audits (not_null(columns := (trip_id)))
);

SELECT
  1 AS trip_id, /* stable hash of the source row */
  2.5 AS trip_distance_miles /* taximeter distance in miles */
"""


def model(text: str) -> Model:
    """A SQL model from its text, as the project loads it."""
    return load_sql_based_model(dialect.parse(text, default_dialect="duckdb"), dialect="duckdb")


def test_a_changed_column_description_shows_the_old_and_the_new_text() -> None:
    working = PROD.replace("taximeter distance in miles", "distance the taximeter recorded, in miles")
    assert diff.metadata_changes(model(PROD), model(working)) == [
        ("column `trip_distance_miles`", "taximeter distance in miles", "distance the taximeter recorded, in miles")
    ]


def test_description_owner_tags_and_audits_show_both_sides() -> None:
    working = (
        PROD.replace("Taxi trips, one row per trip.", "Yellow and green taxi trips, one row per trip.")
        .replace("owner analytics,", "owner mobility,\n  tags (taxi),")
        .replace("not_null(columns := (trip_id))", "not_null(columns := (trip_id, trip_distance_miles))")
    )
    changes = {field: (before, after) for field, before, after in diff.metadata_changes(model(PROD), model(working))}
    assert changes["description"] == ("Taxi trips, one row per trip.", "Yellow and green taxi trips, one row per trip.")
    assert changes["owner"] == ("analytics", "mobility")
    assert changes["tags"] == ("-", "taxi")
    assert changes["audits"] == (
        "not_null(columns := (trip_id))",
        "not_null(columns := (trip_id, trip_distance_miles))",
    )
    assert set(changes) == {"description", "owner", "tags", "audits"}


def test_an_unchanged_model_has_no_metadata_changes() -> None:
    assert diff.metadata_changes(model(PROD), model(PROD)) == []
