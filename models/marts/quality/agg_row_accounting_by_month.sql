/* Where every raw row and dollar went, one row per service, month of the source file and outcome: `in_fact` for
   the rows in marts.fct_taxi_trips / marts.fct_bike_trips, else the rule of docs/validity_policy.md that left the
   row out. For each service and month the rows add up to the raw table's rows and the amounts to its total_amount. */
MODEL (
  name marts.agg_row_accounting_by_month,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column source_month,
    batch_size 31
  ),
  owner analytics,
  grain (service_type, source_month, outcome),
  signals (
    raw_months_landed(
      tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips', 'raw_citibike.trips'],
      landed_in := 'any'
    )
  ),
  audits (
    unique_combination_of_columns(columns := [service_type, source_month, outcome]),
    not_null(columns := [service_type, source_month, outcome, rows]),
    accepted_values("column" := service_type, is_in := ('yellow', 'green', 'citibike'))
  )
);

WITH yellow_rows AS (
  SELECT
    invalid_reason,
    total_amount,
    source_month
  FROM staging.stg_tlc__yellow_trips
  WHERE
    source_month BETWEEN @start_ds AND @end_ds
), green_rows AS (
  SELECT
    invalid_reason,
    total_amount,
    source_month
  FROM staging.stg_tlc__green_trips
  WHERE
    source_month BETWEEN @start_ds AND @end_ds
), bike_rows AS (
  SELECT
    invalid_reason,
    source_month
  FROM staging.stg_citibike__trips
  WHERE
    source_month BETWEEN @start_ds AND @end_ds
), all_rows AS (
  SELECT
    'yellow' AS service_type,
    invalid_reason,
    total_amount,
    source_month
  FROM yellow_rows
  UNION ALL
  SELECT
    'green' AS service_type,
    invalid_reason,
    total_amount,
    source_month
  FROM green_rows
  UNION ALL
  SELECT
    'citibike' AS service_type,
    invalid_reason,
    NULL AS total_amount,
    source_month
  FROM bike_rows
)
SELECT
  service_type, /* yellow, green or citibike */
  COALESCE(invalid_reason, 'in_fact') AS outcome, /* in_fact, or the rule that left the rows out of the fact */
  COUNT(*)::BIGINT AS rows, /* raw rows */
  SUM(total_amount)::DOUBLE AS total_amount, /* their raw total_amount in dollars; NULL for bikes */
  source_month /* first day of the month of the source file */
FROM all_rows
GROUP BY
  service_type,
  COALESCE(invalid_reason, 'in_fact'),
  source_month
