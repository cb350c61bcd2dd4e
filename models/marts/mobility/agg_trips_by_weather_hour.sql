/* Taxi trips and bike rides per hour against the weather, one row per UTC hour of weather data. Trips are placed
   by their local New York hour: at spring-forward the skipped 02:00 hour's trips count in 03:00; at fall-back the
   repeated 01:00 hour's trips count once, in the second (standard-time) 01:00 row. */
MODEL (
  name marts.agg_trips_by_weather_hour,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column weather_at,
    partition_by_time_column FALSE, /* a timestamp: a partition per value (Spark's metastore refuses it) */
    batch_size 31
  ),
  partitioned_by weather_date, /* Spark overwrites a batch's days (dynamic partition overwrite) */
  owner analytics,
  grain weather_at_utc,
  signals (
    raw_months_landed(
      tables := [
        'raw_tlc.yellow_trips',
        'raw_tlc.green_trips',
        'raw_citibike.trips',
        'raw_weather.hourly'
      ]
    ),
    raw_hours_landed("table" := 'raw_weather.hourly', "column" := 'time_utc')
  ),
  audits (
    unique_values(columns := [weather_at_utc]),
    not_null(
      columns := [
        weather_at_utc,
        weather_at,
        precipitation_type,
        temperature_band,
        taxi_trips,
        bike_trips
      ]
    ),
    accepted_values("column" := precipitation_type, is_in := ('dry', 'rain', 'snow'))
  )
);

WITH weather AS (
  SELECT
    precipitation_type,
    temperature_band,
    temperature_c,
    precipitation_mm,
    weather_at_utc,
    weather_at
  FROM intermediate.int_weather_hours_classified
  WHERE
    weather_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
), trips_by_local_hour AS (
  SELECT
    DATE_TRUNC('HOUR', pickup_at) AS local_hour_at,
    'taxi' AS mode,
    COUNT(*) AS trips
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
  GROUP BY
    1
  UNION ALL
  SELECT
    DATE_TRUNC('HOUR', started_at) AS local_hour_at,
    'bike' AS mode,
    COUNT(*) AS trips
  FROM marts.fct_bike_trips
  WHERE
    started_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
  GROUP BY
    1
), trips_by_hour AS (
  SELECT
    @local_hour_as_utc(local_hour_at) AS hour_at_utc, /* converted once per local hour, not once per trip */
    SUM(CASE WHEN mode = 'taxi' THEN trips ELSE 0 END)::BIGINT AS taxi_trips,
    SUM(CASE WHEN mode = 'bike' THEN trips ELSE 0 END)::BIGINT AS bike_trips
  FROM trips_by_local_hour
  GROUP BY
    1
)
SELECT
  weather.precipitation_type, /* dry, rain or snow */
  weather.temperature_band, /* e.g. mild (10-20C) */
  COALESCE(trips_by_hour.taxi_trips, 0) AS taxi_trips, /* taxi pickups in the hour */
  COALESCE(trips_by_hour.bike_trips, 0) AS bike_trips, /* Citi Bike ride starts in the hour */
  weather.temperature_c, /* air temperature, deg C */
  weather.precipitation_mm, /* precipitation in the hour, mm */
  weather.weather_at_utc, /* start of the hour, UTC */
  weather.weather_at, /* start of the hour, local New York time (01:00 twice on a fall-back day) */
  weather.weather_at::DATE AS weather_date /* local date of the hour */
FROM weather
LEFT JOIN trips_by_hour
  ON weather.weather_at_utc = trips_by_hour.hour_at_utc
