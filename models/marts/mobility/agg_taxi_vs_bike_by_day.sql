/* Taxi trips versus Citi Bike rides by day, one row per date; taxi trips also split by pickup borough. */
MODEL (
  name marts.agg_taxi_vs_bike_by_day,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column trip_date,
    batch_size 31
  ),
  owner analytics,
  grain trip_date,
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips', 'raw_citibike.trips'])
  ),
  audits (
    unique_values(columns := [trip_date]),
    not_null(columns := [trip_date, taxi_trips, bike_trips]),
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
), taxi_by_day AS (
  SELECT
    taxi_trips.pickup_date AS trip_date,
    COUNT(*) AS trips,
    COUNT(*) FILTER(WHERE
      zones.borough = 'Manhattan') AS manhattan_trips,
    COUNT(*) FILTER(WHERE
      zones.borough = 'Brooklyn') AS brooklyn_trips,
    COUNT(*) FILTER(WHERE
      zones.borough = 'Queens') AS queens_trips,
    COUNT(*) FILTER(WHERE
      zones.borough = 'Bronx') AS bronx_trips,
    COUNT(*) FILTER(WHERE
      zones.borough = 'Staten Island') AS staten_island_trips
  FROM taxi_trips
  LEFT JOIN zones
    ON taxi_trips.pickup_zone_id = zones.zone_id
  GROUP BY
    taxi_trips.pickup_date
), bike_by_day AS (
  SELECT
    started_date AS trip_date,
    COUNT(*) AS trips
  FROM bike_trips
  GROUP BY
    started_date
)
SELECT
  COALESCE(taxi_by_day.trips, 0) AS taxi_trips, /* valid taxi trips (yellow and green) */
  COALESCE(bike_by_day.trips, 0) AS bike_trips, /* valid Citi Bike rides (Citi Bike publishes no borough) */
  COALESCE(bike_by_day.trips, 0) / (
    COALESCE(taxi_by_day.trips, 0) + COALESCE(bike_by_day.trips, 0)
  ) AS bike_share_of_trips, /* bike rides as a share of taxi trips plus bike rides */
  COALESCE(taxi_by_day.manhattan_trips, 0) AS taxi_trips_manhattan, /* taxi pickups in Manhattan */
  COALESCE(taxi_by_day.brooklyn_trips, 0) AS taxi_trips_brooklyn, /* taxi pickups in Brooklyn */
  COALESCE(taxi_by_day.queens_trips, 0) AS taxi_trips_queens, /* taxi pickups in Queens */
  COALESCE(taxi_by_day.bronx_trips, 0) AS taxi_trips_bronx, /* taxi pickups in the Bronx */
  COALESCE(taxi_by_day.staten_island_trips, 0) AS taxi_trips_staten_island, /* taxi pickups in Staten Island */
  COALESCE(taxi_by_day.trip_date, bike_by_day.trip_date) AS trip_date /* local date of pickup or ride start */
FROM taxi_by_day
FULL OUTER JOIN bike_by_day
  ON taxi_by_day.trip_date = bike_by_day.trip_date
