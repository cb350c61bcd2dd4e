"""The nyc-mobility dashboard: one question per page, a chart first and the numbers under it, from prod's marts.

Started by `make dashboard` (ops/dashboard.py). It reads the warehouse read-only, one connection per query, closed
at once, so it never holds the file. Answers are cached keyed on the prod snapshot (the definitions of prod's views),
so a promotion refreshes them. While a writer holds the file the pages show the last answers they had, with a note
saying since when the warehouse is busy and how old the answers are; so they do while a restatement holds months of
prod that have not passed their checks yet (gateway.has_journal).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from dashboard.pages import BOROUGHS, MONTHS, PAGES, SERVICES, Filters
from gateway import has_journal, warehouse_path

WAREHOUSE = warehouse_path()
PROD_VERSION = "SELECT string_agg(sql, ';' ORDER BY view_name) FROM duckdb_views() WHERE schema_name = 'marts'"


class Busy(Exception):
    """A writer holds the warehouse and nothing was read before."""


class Restating(Exception):
    """Prod's tables hold restated months whose checks have not passed yet: read as if a writer held the file."""


@st.cache_resource
def last_answers() -> dict:
    """What each query answered last (with when), and since when the warehouse has been busy; shared by sessions."""
    return {"answers": {}, "busy_since": None}


def read(sql: str) -> pd.DataFrame:
    """One read-only query on the warehouse, the connection closed at once."""
    with duckdb.connect(str(WAREHOUSE), read_only=True) as connection:
        if has_journal(connection):
            raise Restating
        return connection.execute(sql).df()


@st.cache_data(show_spinner=False, max_entries=256)
def cached(sql: str, prod_version: str) -> pd.DataFrame:
    """A query's answer for one prod snapshot."""
    return read(sql)


def query(sql: str) -> pd.DataFrame:
    """The answer from prod, or the last one while a writer holds the warehouse (with a note on the page)."""
    memory = last_answers()
    try:
        version = hashlib.sha256(str(read(PROD_VERSION).iat[0, 0]).encode()).hexdigest()
        frame = cached(sql, version)
    except (duckdb.IOException, Restating) as error:
        if isinstance(error, duckdb.IOException) and "lock" not in str(error).lower():
            raise
        memory["busy_since"] = memory["busy_since"] or dt.datetime.now()
        if sql not in memory["answers"]:
            raise Busy from None
        frame, as_of = memory["answers"][sql]
        st.session_state["stale_as_of"] = min(as_of, st.session_state.get("stale_as_of", as_of))
        return frame
    memory["busy_since"] = None
    memory["answers"][sql] = (frame, dt.datetime.now())
    return frame


class StreamlitView:
    """The pages drawn by Streamlit."""

    query = staticmethod(query)
    header = staticmethod(st.header)
    subheader = staticmethod(st.subheader)
    info = staticmethod(st.info)

    @staticmethod
    def metrics(items: list[tuple[str, str, str | None]]) -> None:
        for column, (label, value, delta) in zip(st.columns(len(items)), items, strict=True):
            column.metric(label, value, delta)

    @staticmethod
    def chart(chart: alt.TopLevelMixin) -> None:
        st.altair_chart(chart, use_container_width=True)

    @staticmethod
    def table(frame: pd.DataFrame) -> None:
        st.dataframe(frame, hide_index=True)


def sidebar_filters() -> Filters:
    """The month range, services and borough in the sidebar, over what prod serves."""
    choices = query(MONTHS)["month"].tolist() or ["-"]
    months = (choices[0], choices[-1])
    if len(choices) > 1:
        months = st.sidebar.select_slider("Months", options=choices, value=months)
    services = st.sidebar.multiselect("Services", SERVICES, default=list(SERVICES))
    boroughs = ["Every borough", *query(BOROUGHS)["borough"].tolist()]
    borough = st.sidebar.selectbox("Borough", boroughs)
    return Filters(months, tuple(services), None if borough == boroughs[0] else borough)


def main() -> None:
    st.set_page_config(page_title="nyc-mobility", layout="wide")
    st.sidebar.title("nyc-mobility")
    page = st.sidebar.radio("Question", list(PAGES))
    note = st.empty()  # the busy-warehouse note, above the page
    st.session_state.pop("stale_as_of", None)
    try:
        PAGES[page](StreamlitView(), sidebar_filters())
    except Busy:
        st.info(f"The warehouse {WAREHOUSE} is held by a writer and nothing was read before; reload when it is done.")
    busy_since = last_answers()["busy_since"]
    if busy_since and "stale_as_of" in st.session_state:
        note.warning(
            f"Warehouse busy since {busy_since:%Y-%m-%d %H:%M:%S} (a writer holds it): "
            f"showing data as of {st.session_state['stale_as_of']:%Y-%m-%d %H:%M:%S}."
        )
    st.caption(f"Every number is read from prod's marts in {WAREHOUSE}, read-only.")


if __name__ == "__main__":  # streamlit runs the script as __main__
    main()
