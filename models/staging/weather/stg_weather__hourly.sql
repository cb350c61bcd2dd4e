/* Hourly weather in New York from the Open-Meteo archive, one row per local hour, typed and renamed. */
MODEL (
  name staging.stg_weather__hourly,
  kind VIEW,
  owner analytics,
  grain weather_at,
  audits (
    unique_values(columns := [weather_at]),
    not_null(columns := [weather_at]),
    accepted_range("column" := temperature_c, min_v := -40, max_v := 50)
  )
);

SELECT
  weather_code::INT AS weather_code, /* WMO weather code */
  temperature_2m AS temperature_c, /* air temperature at 2 m, deg C */
  temperature_2m * 9 / 5 + 32 AS temperature_f, /* air temperature at 2 m, deg F */
  precipitation AS precipitation_mm, /* rain plus snow water equivalent in the hour, mm */
  rain AS rain_mm, /* rain in the hour, mm */
  snowfall AS snowfall_cm, /* snowfall in the hour, cm */
  wind_speed_10m AS wind_speed_kmh, /* wind speed at 10 m, km/h */
  wind_speed_10m / 1.609344 AS wind_speed_mph, /* wind speed at 10 m, mph */
  source_request, /* the archive request (or mirror path) the row came from */
  source_month, /* first day of the month requested */
  time AS weather_at, /* start of the local hour, New York time */
  _dlt_load_id AS load_id /* dlt load that landed the row */
FROM raw_weather.hourly
