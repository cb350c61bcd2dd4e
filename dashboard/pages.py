"""The dashboard's pages, one question each: what to query from prod's marts and how to draw it.

A page speaks to a View (the Streamlit app in dashboard/app.py, the static HTML report in ops/report.py): it asks
the view for query answers and hands it a header, metrics, a chart and the table under it. Every number comes from a
mart; nothing is recomputed from raw here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import altair as alt
import pandas as pd

MONTHS = "SELECT DISTINCT strftime(pickup_date, '%Y-%m') AS month FROM marts.fct_taxi_trips ORDER BY 1"


class View(Protocol):
    """Where a page shows its answers."""

    def query(self, sql: str) -> pd.DataFrame: ...
    def header(self, text: str) -> None: ...
    def subheader(self, text: str) -> None: ...
    def info(self, text: str) -> None: ...
    def metrics(self, items: list[tuple[str, str, str | None]]) -> None: ...
    def chart(self, chart: alt.TopLevelMixin) -> None: ...
    def table(self, frame: pd.DataFrame) -> None: ...


SERVICES = ("yellow", "green", "citibike")
BOROUGHS = "SELECT DISTINCT borough FROM marts.dim_zones WHERE is_known_zone AND borough <> 'EWR' ORDER BY 1"
# agg_taxi_vs_bike_by_day keeps one taxi column per borough.
BOROUGH_COLUMNS = {
    "Manhattan": "taxi_trips_manhattan",
    "Brooklyn": "taxi_trips_brooklyn",
    "Queens": "taxi_trips_queens",
    "Bronx": "taxi_trips_bronx",
    "Staten Island": "taxi_trips_staten_island",
}


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices: a month range, services, one borough or every one."""

    months: tuple[str, str]
    services: tuple[str, ...] = SERVICES
    borough: str | None = None

    def dates(self, column: str) -> str:
        """A WHERE condition: the date column within the chosen months."""
        return f"strftime({column}, '%Y-%m') BETWEEN '{self.months[0]}' AND '{self.months[1]}'"

    def service_in(self, column: str) -> str:
        return f"{column} IN ({', '.join(quoted(service) for service in self.services) or 'NULL'})"

    def unsupported(self, view: View, service: bool, borough: bool) -> None:
        """Says so when a filter is set that this page's mart cannot apply."""
        missing = [
            name
            for name, on, can in (
                ("service", self.services != SERVICES, service),
                ("borough", self.borough is not None, borough),
            )
            if on and not can
        ]
        if missing:
            names = " or ".join(missing)
            verb = "filters do" if len(missing) > 1 else "filter does"
            view.info(f"This page's mart has no {names} breakdown: the {' and '.join(missing)} {verb} not apply here.")


def month_at_a_glance(view: View, filters: Filters) -> None:
    view.header("The month at a glance")
    filters.unsupported(view, service=False, borough=False)
    # The monthly marts: a month's rows (payment and taxi types; boroughs) add up to the month, ratios from sums.
    taxi = view.query(
        "SELECT strftime(pickup_month, '%Y-%m') AS month, sum(trips) AS trips, sum(revenue_amount)::DOUBLE AS revenue,"
        " sum(tip_amount)::DOUBLE / nullif(sum(fare_amount)::DOUBLE, 0) AS tip_rate"
        f" FROM marts.agg_taxi_revenue_by_payment_month WHERE {filters.dates('pickup_month')} GROUP BY 1 ORDER BY 1"
    )
    bike = view.query(
        "SELECT strftime(trip_month, '%Y-%m') AS month, sum(taxi_trips) AS taxi_trips,"
        " coalesce(sum(bike_trips), 0) AS bike_trips"
        f" FROM marts.agg_taxi_vs_bike_by_borough_month WHERE {filters.dates('trip_month')} GROUP BY 1 ORDER BY 1"
    )
    frame = taxi.merge(bike, on="month", how="outer").sort_values("month")
    frame["bike_share_of_trips"] = frame["bike_trips"] / (frame["bike_trips"] + frame["taxi_trips"])
    if frame.empty:
        view.info("Prod serves no trips in these months.")
        return
    latest = frame.iloc[-1]
    previous = frame.iloc[-2] if len(frame) > 1 else None

    def delta(column: str, percent: bool = False) -> str | None:
        if previous is None or pd.isna(previous[column]):
            return None
        change = latest[column] - previous[column]
        return f"{change * 100:+.1f} pp" if percent else f"{change / previous[column]:+.1%}"

    view.subheader(f"{latest['month']}")
    view.metrics(
        [
            ("Taxi trips", f"{int(latest['trips']):,}", delta("trips")),
            ("Taxi revenue", f"${latest['revenue']:,.0f}", delta("revenue")),
            ("Tip rate (tips / fares)", f"{latest['tip_rate']:.1%}", delta("tip_rate", percent=True)),
            ("Bike share of trips", f"{latest['bike_share_of_trips']:.1%}", delta("bike_share_of_trips", percent=True)),
        ]
    )
    long = frame.melt(id_vars="month", value_vars=["taxi_trips", "bike_trips"], var_name="mode", value_name="n")
    view.chart(
        alt.Chart(long)
        .mark_bar()
        .encode(x="month:O", y=alt.Y("n:Q", title="trips"), color="mode:N", xOffset="mode:N", tooltip=list(long))
    )
    view.table(frame)


def demand_by_zone_and_hour(view: View, filters: Filters) -> None:
    view.header("Demand by zone and hour")
    filters.unsupported(view, service=False, borough=True)
    borough = f" AND zones.borough = {quoted(filters.borough)}" if filters.borough else ""
    frame = view.query(
        "WITH demand AS (SELECT zones.zone_name AS zone, zones.borough, hour(pickup_hour_at) AS hour,"
        " sum(trips) AS trips FROM marts.agg_taxi_demand_by_zone_hour AS d"
        " JOIN marts.dim_zones AS zones ON zones.zone_id = d.pickup_zone_id"
        f" WHERE {filters.dates('pickup_hour_at')}{borough} GROUP BY ALL),"
        " top AS (SELECT zone FROM demand GROUP BY zone ORDER BY sum(trips) DESC, zone LIMIT 15)"
        " SELECT demand.* FROM demand JOIN top USING (zone) ORDER BY zone, hour"
    )
    view.chart(
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
    view.table(top)


def revenue_by_payment(view: View, filters: Filters) -> None:
    view.header("Revenue and tips by payment type")
    filters.unsupported(view, service=False, borough=False)
    frame = view.query(
        "SELECT strftime(pickup_date, '%Y-%m') AS month, payment_type_name AS payment_type, sum(trips) AS trips,"
        " sum(revenue_amount)::DOUBLE AS revenue, sum(tip_amount)::DOUBLE AS tips,"
        " sum(tip_amount)::DOUBLE / nullif(sum(fare_amount)::DOUBLE, 0) AS tip_rate"
        f" FROM marts.agg_taxi_revenue_by_payment_day WHERE {filters.dates('pickup_date')}"
        " GROUP BY ALL ORDER BY month, revenue DESC"
    )
    view.chart(
        alt.Chart(frame)
        .mark_bar()
        .encode(x="month:O", y=alt.Y("revenue:Q", title="revenue ($)"), color="payment_type:N", tooltip=list(frame))
    )
    view.table(frame)


def airports(view: View, filters: Filters) -> None:
    view.header("Airports")
    filters.unsupported(view, service=False, borough=False)
    frame = view.query(
        "SELECT pickup_date AS day, airport_name AS airport, sum(trips) AS trips, sum(fees_amount)::DOUBLE AS fees"
        f" FROM marts.agg_airport_trips_by_day WHERE {filters.dates('pickup_date')} GROUP BY ALL ORDER BY 1, 2"
    )
    view.chart(alt.Chart(frame).mark_line().encode(x="day:T", y="trips:Q", color="airport:N", tooltip=list(frame)))
    view.table(frame)


def congestion_fee(view: View, filters: Filters) -> None:
    view.header("The CBD congestion fee (since 2025-01-05)")
    filters.unsupported(view, service=True, borough=False)
    fees = " + ".join(
        f"{service}_cbd_congestion_fee_amount" for service in ("yellow", "green") if service in filters.services
    )
    frame = view.query(
        f"SELECT pickup_date AS day, trips, trips_charged, ({fees or '0'})::DOUBLE AS fees"
        f" FROM marts.agg_cbd_congestion_fees_by_day WHERE {filters.dates('pickup_date')} ORDER BY 1"
    )
    if frame.empty or frame["trips_charged"].sum() == 0:
        view.info("No trip in these months was charged the congestion fee (it started on 2025-01-05).")
    view.chart(alt.Chart(frame).mark_area().encode(x="day:T", y=alt.Y("fees:Q", title="fees ($)"), tooltip=list(frame)))
    view.table(frame)


def taxi_vs_bike(view: View, filters: Filters) -> None:
    view.header("Taxi vs bike by day and borough")
    filters.unsupported(view, service=False, borough=True)
    boroughs = [filters.borough] if filters.borough in BOROUGH_COLUMNS else list(BOROUGH_COLUMNS)
    columns = ", ".join(f'{BOROUGH_COLUMNS[name]} AS "taxi {name}"' for name in boroughs)
    frame = view.query(
        f'SELECT trip_date AS day, bike_trips AS "bike (all boroughs)", {columns}'
        f" FROM marts.agg_taxi_vs_bike_by_day WHERE {filters.dates('trip_date')} ORDER BY 1"
    )
    long = frame.melt(id_vars="day", var_name="series", value_name="trips")
    view.chart(alt.Chart(long).mark_line().encode(x="day:T", y="trips:Q", color="series:N", tooltip=list(long)))
    view.table(frame)


def weather(view: View, filters: Filters) -> None:
    view.header("Weather: trips per hour by precipitation and temperature")
    filters.unsupported(view, service=False, borough=False)
    frame = view.query(
        "SELECT precipitation_type, temperature_band, count(*) AS hours,"
        " avg(taxi_trips) AS taxi_trips_per_hour, avg(bike_trips) AS bike_trips_per_hour"
        f" FROM marts.agg_trips_by_weather_hour WHERE {filters.dates('weather_at')} GROUP BY ALL ORDER BY 1, 2"
    )
    long = frame.melt(
        id_vars=["precipitation_type", "temperature_band"],
        value_vars=["taxi_trips_per_hour", "bike_trips_per_hour"],
        var_name="mode",
        value_name="trips_per_hour",
    )
    view.chart(
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
    view.table(frame)


def data_quality(view: View, filters: Filters) -> None:
    view.header("Data quality: every raw row accounted for")
    filters.unsupported(view, service=True, borough=False)
    frame = view.query(
        "SELECT strftime(source_month, '%Y-%m') AS month, service_type AS service, outcome, sum(rows) AS rows,"
        " sum(total_amount) AS total_amount"
        f" FROM marts.agg_row_accounting_by_month WHERE {filters.dates('source_month')}"
        f" AND {filters.service_in('service_type')} GROUP BY ALL ORDER BY 1, 2, 3"
    )
    left = frame[frame["outcome"] != "in_fact"]
    view.chart(
        alt.Chart(left)
        .mark_bar()
        .encode(
            x="month:O", y=alt.Y("rows:Q", title="rows left out of the facts"), color="outcome:N", tooltip=list(left)
        )
    )
    view.table(frame)
    view.subheader("The gate's approvals")
    approvals = view.query(
        "SELECT approval_id, environment, min(approved_at) AS approved_at, count(*) AS snapshots,"
        " any_value(json_extract_string(checks_summary, '$.verdict')) AS verdict,"
        " any_value(json_extract(checks_summary, '$.warnings')::VARCHAR) AS warnings, any_value(overrides) AS overrides"
        " FROM gate.approved_snapshots GROUP BY ALL ORDER BY approved_at DESC LIMIT 20"
    )
    view.table(approvals)


PAGES: dict[str, Callable[[View, Filters], None]] = {
    "The month at a glance": month_at_a_glance,
    "Demand by zone and hour": demand_by_zone_and_hour,
    "Revenue and tips by payment type": revenue_by_payment,
    "Airports": airports,
    "The CBD congestion fee": congestion_fee,
    "Taxi vs bike by day and borough": taxi_vs_bike,
    "Weather": weather,
    "Data quality": data_quality,
}
