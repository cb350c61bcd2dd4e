/* Hourly New York weather classified for analysis (dry / rain / snow, temperature band), one row per UTC hour. */
MODEL (
  name intermediate.int_weather_hours_classified,
  kind VIEW,
  owner analytics,
  grain weather_at_utc,
  audits (
    unique_values(columns := [weather_at_utc]),
    not_null(columns := [weather_at_utc, weather_at, precipitation_type, temperature_band]),
    accepted_values("column" := precipitation_type, is_in := ('dry', 'rain', 'snow'))
  )
);

WITH hours AS (
  SELECT
    weather_at_utc,
    weather_at,
    temperature_c,
    precipitation_mm,
    rain_mm,
    snowfall_cm
  FROM staging.stg_weather__hourly
)
SELECT
  CASE
    WHEN COALESCE(snowfall_cm, 0) > 0
    THEN 'snow'
    WHEN COALESCE(rain_mm, 0) > 0 OR COALESCE(precipitation_mm, 0) > 0
    THEN 'rain'
    ELSE 'dry'
  END AS precipitation_type, /* snow if any snowfall, else rain if any precipitation, else dry */
  CASE
    WHEN temperature_c IS NULL
    THEN 'unknown'
    WHEN temperature_c < 0
    THEN 'freezing (<0C)'
    WHEN temperature_c < 10
    THEN 'cold (0-10C)'
    WHEN temperature_c < 20
    THEN 'mild (10-20C)'
    WHEN temperature_c < 28
    THEN 'warm (20-28C)'
    ELSE 'hot (>=28C)'
  END AS temperature_band, /* temperature band */
  temperature_c, /* air temperature, deg C */
  COALESCE(precipitation_mm, rain_mm + snowfall_cm * 10 / 7) AS precipitation_mm, /* water in the hour, mm (7 cm snow = 10 mm) */
  snowfall_cm, /* snowfall in the hour, cm */
  COALESCE(precipitation_mm, 0) > 0 OR COALESCE(snowfall_cm, 0) > 0 AS is_wet, /* any precipitation */
  weather_at_utc, /* start of the hour, UTC */
  weather_at /* start of the hour, local New York time */
FROM hours
