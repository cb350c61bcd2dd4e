/* Hourly weather in New York from the Open-Meteo archive, one row per UTC hour, typed and renamed, with the
   local New York hour beside it: a spring-forward day has 23 local hours, a fall-back day 25 (01:00 twice). */
MODEL (
  name staging.stg_weather__hourly,
  kind VIEW,
  owner analytics,
  grain weather_at_utc,
  audits (
    unique_values(columns := [weather_at_utc]),
    not_null(columns := [weather_at_utc, weather_at])
  )
);

WITH renamed AS (
  SELECT
    TRY_CAST(weather_code AS INT) AS weather_code,
    temperature_2m AS temperature_c,
    precipitation AS precipitation_mm,
    rain AS rain_mm,
    snowfall AS snowfall_cm,
    wind_speed_10m AS wind_speed_kmh,
    source_request,
    source_month,
    time_utc AS weather_at_utc,
    _dlt_load_id AS load_id
  FROM raw_weather.hourly
)
SELECT
  weather_code, /* WMO weather code */
  temperature_c, /* air temperature at 2 m, deg C */
  temperature_c * 9 / 5 + 32 AS temperature_f, /* air temperature at 2 m, deg F */
  precipitation_mm, /* rain plus snow water equivalent in the hour, mm */
  rain_mm, /* rain in the hour, mm */
  snowfall_cm, /* snowfall in the hour, cm */
  wind_speed_kmh, /* wind speed at 10 m, km/h */
  wind_speed_kmh / 1.609344 AS wind_speed_mph, /* wind speed at 10 m, mph */
  source_request, /* the archive request (or mirror path) the row came from */
  source_month, /* first day of the local New York month the hour falls in */
  weather_at_utc, /* start of the hour, UTC */
  @utc_to_local(weather_at_utc) AS weather_at, /* start of the hour, local New York time */
  load_id /* dlt load that landed the row */
FROM renamed
