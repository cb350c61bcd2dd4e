/* Taxi zones, one row per TLC zone (264 Unknown and 265 Outside of NYC included, as trips use them) plus a member
   -1 for zone ids a trip carries that the lookup does not have (or none). */
MODEL (
  name marts.dim_zones,
  kind FULL,
  owner analytics,
  grain zone_id,
  audits (
    unique_values(columns := [zone_id]),
    not_null(columns := [zone_id, zone_name, borough, service_zone]),
    number_of_rows(threshold := 2, blocking := FALSE) /* 1 until the zone lookup has landed */
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
    'Not in the zone lookup' AS zone_name,
    'Unknown' AS borough,
    'Unknown' AS service_zone,
    FALSE AS is_airport,
    FALSE AS is_known_zone
)
SELECT
  zone_id, /* TLC LocationID; -1 for ids not in the lookup */
  COALESCE(zone_name, 'Unknown') AS zone_name, /* zone name, e.g. JFK Airport */
  COALESCE(borough, 'Unknown') AS borough, /* Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR or Unknown */
  COALESCE(service_zone, 'Unknown') AS service_zone, /* Yellow Zone, Boro Zone, Airports, EWR or Unknown */
  is_airport, /* Newark (1), JFK (132) or LaGuardia (138) */
  is_known_zone /* a place in the city (1..263); FALSE for 264, 265 and -1 */
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
