/* TLC technology vendors (LPEP/TPEP providers) from the data dictionary, one row per vendor code. */
MODEL (
  name staging.seed_tlc__vendors,
  kind SEED (
    path '../../../seeds/vendors.csv'
  ),
  owner analytics,
  grain vendor_id,
  columns (
    vendor_id INT,
    vendor_name TEXT
  ),
  audits (
    unique_values(columns := [vendor_id]),
    not_null(columns := [vendor_id, vendor_name])
  ),
  ignored_rules (
    nomissingunittest
  )
)
