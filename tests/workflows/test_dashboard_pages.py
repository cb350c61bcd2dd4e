"""The dashboard's pages (dashboard/pages.py) over a promoted warehouse, through a view that records what they show:
every page shows a chart and a table from prod's marts, and the filters narrow what they can and say what they cannot.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import pytest

from dashboard.pages import MONTHS, PAGES, SERVICES, Filters

pytestmark = pytest.mark.slow


class RecordingView:
    """A view that runs the pages' queries read-only and keeps what they show."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self.shown: list[tuple[str, object]] = []

    def query(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def header(self, text: str) -> None:
        self.shown.append(("header", text))

    def subheader(self, text: str) -> None:
        self.shown.append(("subheader", text))

    def info(self, text: str) -> None:
        self.shown.append(("info", text))

    def metrics(self, items: list[tuple[str, str, str | None]]) -> None:
        self.shown.append(("metrics", items))

    def chart(self, chart: alt.TopLevelMixin) -> None:
        self.shown.append(("chart", chart.to_dict()))

    def table(self, frame: pd.DataFrame) -> None:
        self.shown.append(("table", frame))

    def all(self, kind: str) -> list:
        return [value for shown_kind, value in self.shown if shown_kind == kind]


def show(promoted: Path, name: str, **choices: object) -> RecordingView:
    with duckdb.connect(str(promoted / "warehouse.duckdb"), read_only=True) as connection:
        months = connection.execute(MONTHS).df()["month"].tolist()
        view = RecordingView(connection)
        PAGES[name](view, Filters((months[0], months[-1]), **choices))
    return view


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_shows_a_chart_and_its_numbers(promoted: Path, name: str) -> None:
    view = show(promoted, name)
    assert view.all("header") and len(view.all("chart")) == 1
    assert view.all("table") and not view.all("table")[0].empty
    assert not view.all("info") or name == "The CBD congestion fee"  # no fee before 2025-01-05


def test_the_borough_filter_narrows_the_zones_and_the_boroughs(promoted: Path) -> None:
    demand = show(promoted, "Demand by zone and hour", borough="Queens").all("table")[0]
    assert set(demand["borough"]) == {"Queens"}
    every = show(promoted, "Demand by zone and hour").all("table")[0]
    assert len(set(every["borough"])) > 1
    columns = list(show(promoted, "Taxi vs bike by day and borough", borough="Queens").all("table")[0])
    assert columns == ["day", "bike (all boroughs)", "taxi Queens"]


def test_the_service_filter_narrows_the_row_accounting(promoted: Path) -> None:
    rows = show(promoted, "Data quality", services=("green",)).all("table")[0]
    assert set(rows["service"]) == {"green"}
    assert set(show(promoted, "Data quality").all("table")[0]["service"]) == set(SERVICES)


def test_a_filter_a_page_cannot_apply_is_said(promoted: Path) -> None:
    notes = show(promoted, "Airports", borough="Queens", services=("green",)).all("info")
    assert notes == [
        "This page's mart has no service or borough breakdown: the service and borough filters do not apply here."
    ]
    assert show(promoted, "Demand by zone and hour", borough="Queens").all("info") == []
