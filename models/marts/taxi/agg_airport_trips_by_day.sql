/* Airport taxi trips and fees by airport and day, one row per airport zone of marts.dim_zones and date with at least
   one trip. Airports are named one way in every mart: airport_code (EWR, JFK, LGA) and airport_name, the TLC zone
   name (Newark Airport, JFK Airport, LaGuardia Airport). */
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
    not_null(columns := [airport_zone_id, airport_code, airport_name, pickup_date, trips]),
    accepted_values("column" := airport_code, is_in := ('EWR', 'JFK', 'LGA')),
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
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP AND is_airport_trip
), airports AS (
  SELECT
    zone_id,
    zone_name,
    airport_code
  FROM marts.dim_zones
  WHERE
    is_airport
)
SELECT
  airports.zone_id AS airport_zone_id, /* airport zone, references marts.dim_zones */
  airports.airport_code, /* IATA code: EWR, JFK or LGA */
  airports.zone_name AS airport_name, /* the TLC zone name: Newark Airport, JFK Airport or LaGuardia Airport */
  COUNT(*)::BIGINT AS trips, /* trips starting or ending at the airport */
  COUNT(*) FILTER(WHERE
    trips.pickup_zone_id = airports.zone_id)::BIGINT AS pickups, /* trips starting there */
  COUNT(*) FILTER(WHERE
    trips.dropoff_zone_id = airports.zone_id)::BIGINT AS dropoffs, /* trips ending there */
  SUM(trips.airport_fee_amount) AS airport_fee_amount, /* airport pickup fees in dollars */
  SUM(trips.fees_amount) AS fees_amount, /* all surcharges, taxes and fees in dollars */
  SUM(trips.total_amount) AS revenue_amount, /* total charged in dollars */
  trips.pickup_date /* local pickup date */
FROM trips
JOIN airports
  ON airports.zone_id IN (trips.pickup_zone_id, trips.dropoff_zone_id)
GROUP BY
  airports.zone_id,
  airports.airport_code,
  airports.zone_name,
  trips.pickup_date
