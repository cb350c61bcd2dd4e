/* TLC taxi zones from the zone lookup, one row per zone (LocationID), with the text N/A turned into NULL. */
MODEL (
  name staging.stg_tlc__taxi_zones,
  kind VIEW,
  owner analytics,
  grain zone_id,
  audits (
    unique_values(columns := [zone_id]),
    not_null(columns := [zone_id]),
    accepted_range("column" := zone_id, min_v := 1, max_v := 265)
  )
);

SELECT
  location_id::INT AS zone_id, /* TLC LocationID, 1..265 */
  NULLIF(zone, 'N/A') AS zone_name, /* zone name, e.g. JFK Airport; NULL for 264 */
  COALESCE(NULLIF(borough, 'N/A'), CASE WHEN location_id::INT = 265 THEN 'Outside of NYC' END) AS borough, /* borough, EWR for Newark, Unknown for 264, Outside of NYC for 265 */
  NULLIF(service_zone, 'N/A') AS service_zone, /* Yellow Zone, Boro Zone, Airports or EWR */
  CASE location_id::INT WHEN 1 THEN 'EWR' WHEN 132 THEN 'JFK' WHEN 138 THEN 'LGA' END AS airport_code, /* IATA code of an airport zone: EWR (1), JFK (132), LGA (138); NULL elsewhere */
  location_id::INT IN (1, 132, 138) AS is_airport, /* Newark (1), JFK (132) or LaGuardia (138) */
  location_id::INT BETWEEN 1 AND 263 AS is_known_zone /* a place in the city; 264 (Unknown) and 265 (Outside of NYC) are zones without one */
FROM raw_tlc.taxi_zones
