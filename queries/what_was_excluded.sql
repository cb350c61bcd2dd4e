-- What the marts leave out, and why: raw rows per source and month by outcome ('in_fact' or the exclusion reason).
SELECT
  strftime(source_month, '%Y-%m') AS month,
  service_type,
  outcome,
  rows,
  round(100.0 * rows / sum(rows) OVER (PARTITION BY source_month, service_type), 2) AS percent_of_raw_rows
FROM marts.agg_row_accounting_by_month
ORDER BY month, service_type, rows DESC;
