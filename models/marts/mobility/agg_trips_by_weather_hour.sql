/* Taxi trips and bike rides per hour against the weather, one row per local hour with weather data. */
MODEL (
  name marts.agg_trips_by_weather_hour,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column weather_at,
    batch_size 31
  ),
  owner analytics,
  grain weather_at,
  signals (
    raw_months_landed(
      tables := [
        'raw_tlc.yellow_trips',
        'raw_tlc.green_trips',
        'raw_citibike.trips',
        'raw_weather.hourly'
      ]
    ),
    raw_hours_landed("table" := 'raw_weather.hourly', "column" := 'time')
  ),
  audits (
    unique_values(columns := [weather_at]),
    not_null(
      columns := [weather_at, precipitation_type, temperature_band, taxi_trips, bike_trips]
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
    weather_at
  FROM intermediate.int_weather_hours_classified
  WHERE
    weather_at BETWEEN @start_dt AND @end_dt
), taxi_by_hour AS (
  SELECT
    DATE_TRUNC('HOUR', pickup_at) AS hour_at,
    COUNT(*) AS trips
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_dt AND @end_dt
  GROUP BY
    DATE_TRUNC('HOUR', pickup_at)
), bike_by_hour AS (
  SELECT
    DATE_TRUNC('HOUR', started_at) AS hour_at,
    COUNT(*) AS trips
  FROM marts.fct_bike_trips
  WHERE
    started_at BETWEEN @start_dt AND @end_dt
  GROUP BY
    DATE_TRUNC('HOUR', started_at)
)
SELECT
  weather.precipitation_type, /* dry, rain or snow */
  weather.temperature_band, /* e.g. mild (10-20C) */
  COALESCE(taxi_by_hour.trips, 0) AS taxi_trips, /* taxi pickups in the hour */
  COALESCE(bike_by_hour.trips, 0) AS bike_trips, /* Citi Bike ride starts in the hour */
  weather.temperature_c, /* air temperature, deg C */
  weather.precipitation_mm, /* precipitation in the hour, mm */
  weather.weather_at /* start of the local hour */
FROM weather
LEFT JOIN taxi_by_hour
  ON weather.weather_at = taxi_by_hour.hour_at
LEFT JOIN bike_by_hour
  ON weather.weather_at = bike_by_hour.hour_at
