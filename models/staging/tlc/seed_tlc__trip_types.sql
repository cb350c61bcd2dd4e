/* TLC green taxi trip types from the data dictionary, one row per trip type code. */
MODEL (
  name staging.seed_tlc__trip_types,
  kind SEED (
    path '../../../seeds/trip_types.csv'
  ),
  owner analytics,
  grain trip_type_id,
  columns (
    trip_type_id INT,
    trip_type_name TEXT
  ),
  audits (
    unique_values(columns := [trip_type_id]),
    not_null(columns := [trip_type_id, trip_type_name])
  ),
  ignored_rules (
    nomissingunittest
  )
)
