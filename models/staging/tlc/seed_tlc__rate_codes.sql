/* TLC rate codes from the trip record data dictionary, one row per rate code. */
MODEL (
  name staging.seed_tlc__rate_codes,
  kind SEED (
    path '../../../seeds/rate_codes.csv'
  ),
  owner analytics,
  grain rate_code_id,
  columns (
    rate_code_id INT,
    rate_code_name TEXT
  ),
  audits (
    unique_values(columns := [rate_code_id]),
    not_null(columns := [rate_code_id, rate_code_name])
  ),
  ignored_rules (
    nomissingunittest
  )
)
