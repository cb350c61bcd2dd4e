"""The nyc-mobility dashboard: one question per page, a chart first and the numbers under it, from prod's marts.

Started by `make dashboard` (ops/dashboard.py). It reads the warehouse read-only, one connection per query, closed
at once, so it never holds the file. Answers are cached keyed on the prod snapshot (the definitions of prod's views),
so a promotion refreshes them. While a writer holds the file the pages show the last answers they had, with a note
saying since when the warehouse is busy and how old the answers are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

PROJECT_DIR = Path(__file__).resolve().parent.parent
WAREHOUSE = Path(os.environ.get("MOBILITY_DATA_DIR") or PROJECT_DIR / "data") / "warehouse.duckdb"
PROD_VERSION = "SELECT string_agg(sql, ';' ORDER BY view_name) FROM duckdb_views() WHERE schema_name = 'marts'"


class Busy(Exception):
    """A writer holds the warehouse and nothing was read before."""


@st.cache_resource
def last_answers() -> dict:
    """What each query answered last (with when), and since when the warehouse has been busy; shared by sessions."""
    return {"answers": {}, "busy_since": None}


def read(sql: str) -> pd.DataFrame:
    """One read-only query on the warehouse, the connection closed at once."""
    with duckdb.connect(str(WAREHOUSE), read_only=True) as connection:
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
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
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


def months_filter() -> tuple[str, str]:
    """The month range in the sidebar, over the months prod serves."""
    months = query("SELECT DISTINCT strftime(pickup_date, '%Y-%m') AS month FROM marts.fct_taxi_trips ORDER BY 1")
    choices = months["month"].tolist() or ["-"]
    if len(choices) == 1:
        return choices[0], choices[0]
    first, last = st.sidebar.select_slider("Months", options=choices, value=(choices[0], choices[-1]))
    return first, last


def between(column: str, months: tuple[str, str]) -> str:
    """A WHERE condition: the date column within the chosen months."""
    return f"strftime({column}, '%Y-%m') BETWEEN '{months[0]}' AND '{months[1]}'"


def chart(spec: alt.Chart) -> None:
    st.altair_chart(spec, use_container_width=True)


def month_at_a_glance(months: tuple[str, str]) -> None:
    st.header("The month at a glance")
    taxi = query(
        "SELECT strftime(pickup_date, '%Y-%m') AS month, sum(trips) AS trips, sum(revenue_amount)::DOUBLE AS revenue,"
        " sum(tip_amount)::DOUBLE / nullif(sum(fare_amount)::DOUBLE, 0) AS tip_rate"
        f" FROM marts.agg_taxi_revenue_by_payment_day WHERE {between('pickup_date', months)} GROUP BY 1 ORDER BY 1"
    )
    bike = query(
        "SELECT strftime(trip_date, '%Y-%m') AS month, sum(taxi_trips) AS taxi_trips, sum(bike_trips) AS bike_trips"
        f" FROM marts.agg_taxi_vs_bike_by_day WHERE {between('trip_date', months)} GROUP BY 1 ORDER BY 1"
    )
    frame = taxi.merge(bike, on="month", how="outer").sort_values("month")
    frame["bike_share"] = frame["bike_trips"] / (frame["bike_trips"] + frame["taxi_trips"])
    if frame.empty:
        st.info("Prod serves no trips in these months.")
        return
    latest = frame.iloc[-1]
    previous = frame.iloc[-2] if len(frame) > 1 else None

    def delta(column: str, percent: bool = False) -> str | None:
        if previous is None or pd.isna(previous[column]):
            return None
        change = latest[column] - previous[column]
        return f"{change * 100:+.1f} pp" if percent else f"{change / previous[column]:+.1%}"

    st.subheader(f"{latest['month']}")
    columns = st.columns(4)
    columns[0].metric("Taxi trips", f"{int(latest['trips']):,}", delta("trips"))
    columns[1].metric("Taxi revenue", f"${latest['revenue']:,.0f}", delta("revenue"))
    columns[2].metric("Tip rate (tips / fares)", f"{latest['tip_rate']:.1%}", delta("tip_rate", percent=True))
    columns[3].metric("Bike share of trips", f"{latest['bike_share']:.1%}", delta("bike_share", percent=True))
    long = frame.melt(id_vars="month", value_vars=["taxi_trips", "bike_trips"], var_name="mode", value_name="n")
    chart(
        alt.Chart(long)
        .mark_bar()
        .encode(x="month:O", y=alt.Y("n:Q", title="trips"), color="mode:N", xOffset="mode:N", tooltip=list(long))
    )
    st.dataframe(frame, hide_index=True)


def demand_by_zone_and_hour(months: tuple[str, str]) -> None:
    st.header("Demand by zone and hour")
    frame = query(
        "WITH demand AS (SELECT zones.zone_name AS zone, zones.borough, hour(pickup_hour_at) AS hour,"
        " sum(trips) AS trips FROM marts.agg_taxi_demand_by_zone_hour AS d"
        " JOIN marts.dim_zones AS zones ON zones.zone_id = d.pickup_zone_id"
        f" WHERE {between('pickup_hour_at', months)} GROUP BY ALL),"
        " top AS (SELECT zone FROM demand GROUP BY zone ORDER BY sum(trips) DESC, zone LIMIT 15)"
        " SELECT demand.* FROM demand JOIN top USING (zone) ORDER BY zone, hour"
    )
    chart(
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x="hour:O",
            y=alt.Y("zone:N", sort="-color"),
            color=alt.Color("trips:Q", scale=alt.Scale(scheme="blues")),
            tooltip=list(frame),
        )
    )
    top = frame.groupby(["zone", "borough"], as_index=False)["trips"].sum().sort_values("trips", ascending=False)
    st.dataframe(top, hide_index=True)


def revenue_by_payment(months: tuple[str, str]) -> None:
    st.header("Revenue and tips by payment type")
    frame = query(
        "SELECT strftime(pickup_date, '%Y-%m') AS month, payment_type_name AS payment_type, sum(trips) AS trips,"
        " sum(revenue_amount)::DOUBLE AS revenue, sum(tip_amount)::DOUBLE AS tips,"
        " sum(tip_amount)::DOUBLE / nullif(sum(fare_amount)::DOUBLE, 0) AS tip_rate"
        f" FROM marts.agg_taxi_revenue_by_payment_day WHERE {between('pickup_date', months)}"
        " GROUP BY ALL ORDER BY month, revenue DESC"
    )
    chart(
        alt.Chart(frame)
        .mark_bar()
        .encode(x="month:O", y=alt.Y("revenue:Q", title="revenue ($)"), color="payment_type:N", tooltip=list(frame))
    )
    st.dataframe(frame, hide_index=True)


def airports(months: tuple[str, str]) -> None:
    st.header("Airports")
    frame = query(
        "SELECT pickup_date AS day, airport_name AS airport, sum(trips) AS trips, sum(fees_amount)::DOUBLE AS fees"
        f" FROM marts.agg_airport_trips_by_day WHERE {between('pickup_date', months)} GROUP BY ALL ORDER BY 1, 2"
    )
    chart(alt.Chart(frame).mark_line().encode(x="day:T", y="trips:Q", color="airport:N", tooltip=list(frame)))
    st.dataframe(frame, hide_index=True)


def congestion_fee(months: tuple[str, str]) -> None:
    st.header("The CBD congestion fee (since 2025-01-05)")
    frame = query(
        "SELECT pickup_date AS day, trips, trips_charged, cbd_congestion_fee_amount::DOUBLE AS fees"
        f" FROM marts.agg_cbd_congestion_fees_by_day WHERE {between('pickup_date', months)} ORDER BY 1"
    )
    if frame.empty or frame["trips_charged"].sum() == 0:
        st.info("No trip in these months was charged the congestion fee (it started on 2025-01-05).")
    chart(alt.Chart(frame).mark_area().encode(x="day:T", y=alt.Y("fees:Q", title="fees ($)"), tooltip=list(frame)))
    st.dataframe(frame, hide_index=True)


def taxi_vs_bike(months: tuple[str, str]) -> None:
    st.header("Taxi vs bike by day and borough")
    frame = query(
        "SELECT trip_date AS day, bike_trips, taxi_trips_manhattan AS manhattan, taxi_trips_brooklyn AS brooklyn,"
        " taxi_trips_queens AS queens, taxi_trips_bronx AS bronx, taxi_trips_staten_island AS staten_island"
        f" FROM marts.agg_taxi_vs_bike_by_day WHERE {between('trip_date', months)} ORDER BY 1"
    )
    long = frame.melt(id_vars="day", var_name="series", value_name="trips")
    chart(alt.Chart(long).mark_line().encode(x="day:T", y="trips:Q", color="series:N", tooltip=list(long)))
    st.dataframe(frame, hide_index=True)


def weather(months: tuple[str, str]) -> None:
    st.header("Weather: trips per hour by precipitation and temperature")
    frame = query(
        "SELECT precipitation_type, temperature_band, count(*) AS hours,"
        " avg(taxi_trips) AS taxi_trips_per_hour, avg(bike_trips) AS bike_trips_per_hour"
        f" FROM marts.agg_trips_by_weather_hour WHERE {between('weather_at', months)} GROUP BY ALL ORDER BY 1, 2"
    )
    long = frame.melt(
        id_vars=["precipitation_type", "temperature_band"],
        value_vars=["taxi_trips_per_hour", "bike_trips_per_hour"],
        var_name="mode",
        value_name="trips_per_hour",
    )
    chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x="temperature_band:N",
            y="trips_per_hour:Q",
            color="mode:N",
            xOffset="mode:N",
            column="precipitation_type:N",
            tooltip=list(long),
        )
    )
    st.dataframe(frame, hide_index=True)


def data_quality(months: tuple[str, str]) -> None:
    st.header("Data quality: every raw row accounted for")
    frame = query(
        "SELECT strftime(source_month, '%Y-%m') AS month, service_type AS service, outcome, sum(rows) AS rows,"
        " sum(total_amount) AS total_amount"
        f" FROM marts.agg_row_accounting_by_month WHERE {between('source_month', months)} GROUP BY ALL ORDER BY 1, 2, 3"
    )
    left = frame[frame["outcome"] != "in_fact"]
    chart(
        alt.Chart(left)
        .mark_bar()
        .encode(
            x="month:O", y=alt.Y("rows:Q", title="rows left out of the facts"), color="outcome:N", tooltip=list(left)
        )
    )
    st.dataframe(frame, hide_index=True)
    st.subheader("The gate's approvals")
    approvals = query(
        "SELECT approval_id, environment, min(approved_at) AS approved_at, count(*) AS snapshots,"
        " any_value(json_extract_string(checks_summary, '$.verdict')) AS verdict,"
        " any_value(json_extract(checks_summary, '$.warnings')::VARCHAR) AS warnings, any_value(overrides) AS overrides"
        " FROM gate.approved_snapshots GROUP BY ALL ORDER BY approved_at DESC LIMIT 20"
    )
    st.dataframe(approvals, hide_index=True)


PAGES = {
    "The month at a glance": month_at_a_glance,
    "Demand by zone and hour": demand_by_zone_and_hour,
    "Revenue and tips by payment type": revenue_by_payment,
    "Airports": airports,
    "The CBD congestion fee": congestion_fee,
    "Taxi vs bike by day and borough": taxi_vs_bike,
    "Weather": weather,
    "Data quality": data_quality,
}


def main() -> None:
    st.set_page_config(page_title="nyc-mobility", layout="wide")
    st.sidebar.title("nyc-mobility")
    page = st.sidebar.radio("Question", list(PAGES))
    note = st.empty()  # the busy-warehouse note, above the page
    st.session_state.pop("stale_as_of", None)
    try:
        months = months_filter()
        PAGES[page](months)
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
