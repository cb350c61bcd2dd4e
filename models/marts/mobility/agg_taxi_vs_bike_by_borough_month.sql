/* Taxi trips versus Citi Bike rides by month and borough, one row per month and borough. Taxi trips count in the
   borough of their pickup zone (marts.dim_zones). Citi Bike publishes no borough and no station is mapped to a zone,
   so a month's bike rides sit in one row of their own, borough 'Not published by Citi Bike': summed over boroughs,
   taxi_trips and bike_trips are the month's totals. */
MODEL (
  name marts.agg_taxi_vs_bike_by_borough_month,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column trip_month,
    batch_size 1 /* a month per query */
  ),
  cron '@monthly', /* intervals are whole months: a month is built once, from all of its days */
  owner analytics,
  grain (trip_month, borough),
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips', 'raw_citibike.trips'])
  ),
  audits (
    unique_combination_of_columns(columns := [trip_month, borough]),
    not_null(columns := [trip_month, borough, taxi_trips]),
    accepted_range("column" := bike_share_of_trips, min_v := 0, max_v := 1)
  )
);

WITH taxi_trips AS (
  SELECT
    pickup_zone_id,
    pickup_date
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
), bike_trips AS (
  SELECT
    started_date
  FROM marts.fct_bike_trips
  WHERE
    started_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
), zones AS (
  SELECT
    zone_id,
    borough
  FROM marts.dim_zones
), taxi_by_borough AS (
  SELECT
    DATE_TRUNC('MONTH', taxi_trips.pickup_date)::DATE AS trip_month,
    COALESCE(zones.borough, 'Not in the TLC zone lookup') AS borough,
    COUNT(*)::BIGINT AS trips
  FROM taxi_trips
  LEFT JOIN zones
    ON taxi_trips.pickup_zone_id = zones.zone_id
  GROUP BY
    DATE_TRUNC('MONTH', taxi_trips.pickup_date)::DATE,
    COALESCE(zones.borough, 'Not in the TLC zone lookup')
), bike_by_borough AS (
  SELECT
    DATE_TRUNC('MONTH', started_date)::DATE AS trip_month,
    'Not published by Citi Bike' AS borough, /* the only borough a ride can have until stations map to zones */
    COUNT(*)::BIGINT AS trips
  FROM bike_trips
  GROUP BY
    DATE_TRUNC('MONTH', started_date)::DATE
), combined AS (
  SELECT
    COALESCE(taxi_by_borough.trip_month, bike_by_borough.trip_month) AS trip_month,
    COALESCE(taxi_by_borough.borough, bike_by_borough.borough) AS borough,
    COALESCE(taxi_by_borough.trips, 0)::BIGINT AS taxi_trips,
    bike_by_borough.trips AS bike_trips
  FROM taxi_by_borough
  FULL OUTER JOIN bike_by_borough
    ON taxi_by_borough.trip_month = bike_by_borough.trip_month
    AND taxi_by_borough.borough = bike_by_borough.borough
)
SELECT
  borough, /* taxi pickup borough from marts.dim_zones (Manhattan, ..., EWR, Unknown, Outside of NYC, Not in the TLC zone lookup), or 'Not published by Citi Bike' for the month's bike rides */
  taxi_trips, /* valid taxi trips (yellow and green) picked up in the borough; 0 in the bike rides' row */
  bike_trips, /* valid Citi Bike rides whose borough is known; NULL where it is not: every borough today, as Citi Bike publishes none, so all rides are in the row 'Not published by Citi Bike' */
  CASE
    WHEN taxi_trips > 0
    THEN bike_trips::DOUBLE / (
      taxi_trips + bike_trips
    )
  END AS bike_share_of_trips, /* bike rides / (taxi trips + bike rides) from the month's sums; NULL where the borough's bike rides are not known (every row today) */
  trip_month /* first day of the local month of pickup or ride start */
FROM combined
