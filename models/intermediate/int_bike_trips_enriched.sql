/* Citi Bike rides with duration, straight-line distance and rider type, one row per raw ride row. */
MODEL (
  name intermediate.int_bike_trips_enriched,
  kind VIEW,
  owner analytics,
  grain bike_trip_id,
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, is_valid])
  )
);

WITH rides AS (
  SELECT
    bike_trip_id,
    ride_id,
    start_station_id,
    end_station_id,
    bike_type,
    rider_type,
    start_latitude,
    start_longitude,
    end_latitude,
    end_longitude,
    is_valid,
    source_month,
    started_at,
    ended_at
  FROM staging.stg_citibike__trips
)
SELECT
  bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id (text) at the start */
  end_station_id, /* station id (text) at the end */
  bike_type, /* classic_bike or electric_bike */
  rider_type, /* member or casual */
  DATE_DIFF('SECOND', started_at, ended_at) AS duration_seconds, /* ended_at minus started_at */
  2 * 3958.8 * ASIN(
    SQRT(
      POWER(SIN(RADIANS(end_latitude - start_latitude) / 2), 2) + COS(RADIANS(start_latitude)) * COS(RADIANS(end_latitude)) * POWER(SIN(RADIANS(end_longitude - start_longitude) / 2), 2)
    )
  ) AS straight_line_miles, /* great-circle distance start to end in miles */
  rider_type = 'member' AS is_member, /* annual member rather than casual rider */
  bike_type = 'electric_bike' AS is_electric, /* e-bike */
  is_valid, /* passes every staging rule */
  source_month, /* first day of the month of the source file */
  started_at, /* ride start, local time */
  ended_at /* ride end, local time */
FROM rides
