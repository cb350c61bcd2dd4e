/* Taxi zones, one row per TLC zone plus an Unknown member (zone_id -1) for ids missing from the lookup. */
MODEL (
  name marts.dim_zones,
  kind FULL,
  owner analytics,
  grain zone_id,
  audits (
    unique_values(columns := [zone_id]),
    not_null(columns := [zone_id, zone_name, borough, service_zone]),
    number_of_rows(threshold := 2)
  )
);

WITH zones AS (
  SELECT
    zone_id,
    zone_name,
    borough,
    service_zone,
    is_airport,
    is_known_zone
  FROM staging.stg_tlc__taxi_zones
), unknown_member AS (
  SELECT
    -1 AS zone_id,
    'Unknown' AS zone_name,
    'Unknown' AS borough,
    'Unknown' AS service_zone,
    FALSE AS is_airport,
    FALSE AS is_known_zone
)
SELECT
  zone_id, /* TLC LocationID; -1 is the Unknown member */
  COALESCE(zone_name, 'Unknown') AS zone_name, /* zone name, e.g. JFK Airport */
  COALESCE(borough, 'Unknown') AS borough, /* Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR or Unknown */
  COALESCE(service_zone, 'Unknown') AS service_zone, /* Yellow Zone, Boro Zone, Airports, EWR or Unknown */
  is_airport, /* Newark (1), JFK (132) or LaGuardia (138) */
  is_known_zone /* a real zone (1..263) */
FROM zones
UNION ALL
SELECT
  zone_id,
  zone_name,
  borough,
  service_zone,
  is_airport,
  is_known_zone
FROM unknown_member
