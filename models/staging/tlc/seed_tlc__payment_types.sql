/* TLC payment types from the trip record data dictionary, one row per payment type code. */
MODEL (
  name staging.seed_tlc__payment_types,
  kind SEED (
    path '../../../seeds/payment_types.csv'
  ),
  owner analytics,
  grain payment_type_id,
  columns (
    payment_type_id INT,
    payment_type_name TEXT
  ),
  audits (
    unique_values(columns := [payment_type_id]),
    not_null(columns := [payment_type_id, payment_type_name])
  ),
  ignored_rules (
    nomissingunittest
  )
)
