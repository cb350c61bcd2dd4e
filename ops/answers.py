"""`make answers` (and the end of `make demo`): what prod answers about New York, in a few aligned lines.

Read-only, from prod's marts only (nothing is recomputed from raw): the busiest pickup zone and hour of the day, the
tip rate by payment type, the bike share of taxi and bike trips, and the wettest hour's trips next to the dry hours
at the same time of day; then the commands to go further.

    python -m ops.answers
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import duckdb

from gateway import open_read_only
from ops.common import exit_code

BUSIEST_ZONE = """
SELECT zones.zone_name, zones.borough, sum(demand.trips) AS trips
FROM marts.agg_taxi_demand_by_zone_hour AS demand
JOIN marts.dim_zones AS zones ON zones.zone_id = demand.pickup_zone_id
WHERE zones.is_known_zone
GROUP BY ALL ORDER BY trips DESC, zones.zone_name LIMIT 1
"""
BUSIEST_HOUR = """
SELECT hour(pickup_hour_at) AS hour_of_day, sum(trips) AS trips, sum(trips) / sum(sum(trips)) OVER () AS share
FROM marts.agg_taxi_demand_by_zone_hour GROUP BY ALL ORDER BY trips DESC, hour_of_day LIMIT 1
"""
TIP_RATES = """
SELECT payment_type_name, sum(trips) AS trips, sum(tip_amount) / nullif(sum(fare_amount), 0) AS tip_rate
FROM marts.agg_taxi_revenue_by_payment_day GROUP BY ALL ORDER BY trips DESC
"""
BIKE_SHARE_OF_TRIPS = """
SELECT sum(taxi_trips) AS taxi, sum(bike_trips) AS bike, sum(bike_trips) / nullif(sum(taxi_trips + bike_trips), 0)
FROM marts.agg_taxi_vs_bike_by_day
"""
WETTEST_HOUR = """
WITH wettest AS (
  SELECT weather_at, precipitation_mm, taxi_trips + bike_trips AS trips
  FROM marts.agg_trips_by_weather_hour WHERE precipitation_mm > 0
  ORDER BY precipitation_mm DESC, weather_at LIMIT 1
)
SELECT wettest.weather_at, wettest.precipitation_mm, wettest.trips, avg(dry.taxi_trips + dry.bike_trips), count(dry.*)
FROM wettest
LEFT JOIN marts.agg_trips_by_weather_hour AS dry
  ON dry.precipitation_type = 'dry' AND hour(dry.weather_at) = hour(wettest.weather_at)
GROUP BY ALL
"""
MONTHS = "SELECT strftime(min(pickup_date), '%Y-%m'), strftime(max(pickup_date), '%Y-%m') FROM marts.fct_taxi_trips"
FURTHER = """Go further:
  make dashboard                            charts of every mart in the browser (http://127.0.0.1:8501)
  make ui                                   the SQLMesh UI: models, lineage, plans (http://127.0.0.1:8000)
  make check ENV=prod                       the gate's Soda checks on what prod serves
  bin/sqlmesh fetchdf "SELECT * FROM marts.agg_taxi_vs_bike_by_day ORDER BY trip_date DESC LIMIT 7"
"""


@dataclass(frozen=True)
class Line:
    label: str
    text: str


def answers(connection: duckdb.DuckDBPyConnection) -> list[Line]:
    """The summary's lines, each from one query over prod's marts."""
    lines = []
    zone = connection.execute(BUSIEST_ZONE).fetchone()
    if zone:
        lines.append(Line("Busiest pickup zone", f"{zone[0]} ({zone[1]}): {zone[2]:,} taxi trips"))
    hour = connection.execute(BUSIEST_HOUR).fetchone()
    if hour:
        lines.append(
            Line("Busiest hour of the day", f"{hour[0]:02d}:00-{hour[0]:02d}:59: {hour[1]:,} trips ({hour[2]:.1%})")
        )
    for name, trips, rate in connection.execute(TIP_RATES).fetchall():
        tip = "no fares" if rate is None else f"tips {float(rate):.1%} of fares"
        lines.append(Line(f"Tip rate, {name}", f"{tip} ({trips:,} trips)"))
    taxi, bike, share = connection.execute(BIKE_SHARE_OF_TRIPS).fetchone()
    if share is not None:
        lines.append(Line("Bike share of all trips", f"{share:.1%} ({bike:,} bike rides, {taxi:,} taxi trips)"))
    wet = connection.execute(WETTEST_HOUR).fetchone()
    if wet and wet[4]:
        change = wet[2] / wet[3] - 1 if wet[3] else 0.0
        lines.append(
            Line(
                "Wettest hour",
                f"{wet[0]:%Y-%m-%d %H:00} ({wet[1]:.1f} mm): {wet[2]:,} trips vs {wet[3]:,.0f} in a dry hour at "
                f"{wet[0]:%H}:00 ({change:+.0%}, {wet[4]} dry hours)",
            )
        )
    return lines


def render(first: str, last: str, lines: list[Line]) -> str:
    width = max(len(line.label) for line in lines)
    body = "\n".join(f"  {line.label:<{width}}  {line.text}" for line in lines)
    return f"\nWhat prod answers (taxi months {first}..{last}, from the marts):\n{body}\n\n{FURTHER}"


def show() -> None:
    """Prints the summary; says so in one line when there is no prod yet."""
    with open_read_only("make answers") as connection:
        try:
            first, last = connection.execute(MONTHS).fetchone()
        except duckdb.CatalogException:
            print("Prod serves no marts yet: `make promote` publishes them.")
            return
        lines = answers(connection)
    print(render(first or "-", last or "-", lines) if lines else "Prod's marts are empty: land a month first.")


def main(argv: list[str]) -> int:
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    return exit_code(show)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
