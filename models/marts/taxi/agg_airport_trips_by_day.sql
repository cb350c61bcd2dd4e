/* Airport taxi trips and fees by airport and day, one row per airport zone of marts.dim_zones (EWR, JFK, LGA)
   and date with at least one trip. */
MODEL (
  name marts.agg_airport_trips_by_day,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_date,
    batch_size 31
  ),
  owner analytics,
  grain (airport_zone_id, pickup_date),
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_combination_of_columns(columns := [airport_zone_id, pickup_date]),
    not_null(columns := [airport_zone_id, airport_name, pickup_date, trips]),
    assert_references_dim_zones("column" := airport_zone_id),
    accepted_range("column" := airport_fee_amount, min_v := 0, blocking := FALSE)
  )
);

WITH trips AS (
  SELECT
    pickup_zone_id,
    dropoff_zone_id,
    airport_fee_amount,
    fees_amount,
    total_amount,
    pickup_date
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_dt AND @end_dt AND is_airport_trip
), airports AS (
  SELECT
    zone_id,
    zone_name
  FROM marts.dim_zones
  WHERE
    is_airport
)
SELECT
  airports.zone_id AS airport_zone_id, /* airport zone, references marts.dim_zones */
  airports.zone_name AS airport_name, /* the zone's name: Newark Airport, JFK Airport or LaGuardia Airport */
  COUNT(*) AS trips, /* trips starting or ending at the airport */
  COUNT(*) FILTER(WHERE
    trips.pickup_zone_id = airports.zone_id) AS pickups, /* trips starting there */
  COUNT(*) FILTER(WHERE
    trips.dropoff_zone_id = airports.zone_id) AS dropoffs, /* trips ending there */
  SUM(trips.airport_fee_amount) AS airport_fee_amount, /* airport pickup fees in dollars */
  SUM(trips.fees_amount) AS fees_amount, /* all surcharges, taxes and fees in dollars */
  SUM(trips.total_amount) AS revenue_amount, /* total charged in dollars */
  trips.pickup_date /* local pickup date */
FROM trips
JOIN airports
  ON airports.zone_id IN (trips.pickup_zone_id, trips.dropoff_zone_id)
GROUP BY
  airports.zone_id,
  airports.zone_name,
  trips.pickup_date
