/* Calendar, one row per date from 2013-06-01 (the first Citi Bike month) through 2030-12-31. */
MODEL (
  name marts.dim_date,
  kind FULL,
  owner analytics,
  grain calendar_date,
  audits (
    unique_values(columns := [calendar_date]),
    not_null(columns := [calendar_date, month_start_date, day_of_week])
  )
);

WITH series AS (
  /* UNNEST in the select list: SQLGlot renders it as Spark's EXPLODE(SEQUENCE(...)) */
  SELECT
    UNNEST(
      GENERATE_SERIES(
        @VAR('calendar_start', '2013-06-01')::DATE,
        @VAR('calendar_end', '2030-12-31')::DATE,
        INTERVAL '1' DAY
      )
    ) AS day
), days AS (
  SELECT
    day::DATE AS calendar_date
  FROM series
)
SELECT
  calendar_date, /* the calendar date */
  STRFTIME(calendar_date, '%A') AS day_name, /* Monday .. Sunday */
  STRFTIME(calendar_date, '%B') AS month_name, /* January .. December */
  DATE_DIFF('DAY', '2001-01-01'::DATE, calendar_date) % 7 + 1 AS day_of_week, /* 1 Monday .. 7 Sunday (ISO): days since a Monday; ISODOW does not transpile to Spark */
  DAY(calendar_date) AS day_of_month, /* 1..31 */
  MONTH(calendar_date) AS month_of_year, /* 1..12 */
  QUARTER(calendar_date) AS quarter_of_year, /* 1..4 */
  YEAR(calendar_date) AS year_number, /* calendar year */
  DATE_DIFF('DAY', '2001-01-01'::DATE, calendar_date) % 7 >= 5 AS is_weekend, /* Saturday or Sunday */
  DATE_TRUNC('WEEK', calendar_date)::DATE AS week_start_date, /* Monday of the ISO week */
  DATE_TRUNC('MONTH', calendar_date)::DATE AS month_start_date /* first day of the month */
FROM days
