"""The TLC taxi zone lookup (misc/taxi_zone_lookup.csv) and where trips start and end."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ingest.sample.common import FileEntry, atomic_path

EWR, JFK, LGA = 1, 132, 138
UNKNOWN_ZONES = (264, 265)
# Real TLC ids of the Manhattan zones; the upper Manhattan ones are Boro Zone, the rest Yellow Zone.
MANHATTAN_ZONE_IDS = (
    4, 12, 13, 24, 41, 42, 43, 45, 48, 50, 68, 74, 75, 79, 87, 88, 90, 100, 103, 104, 105, 107, 113,
    114, 116, 120, 125, 127, 128, 137, 140, 141, 142, 143, 144, 148, 151, 152, 153, 158, 161, 162, 163,
    164, 166, 170, 186, 194, 202, 209, 211, 224, 229, 230, 231, 232, 233, 234, 236, 237, 238, 239, 243,
    244, 246, 249, 261, 262, 263,
)  # fmt: skip
MANHATTAN_BORO_ZONE_IDS = (41, 42, 74, 75, 116, 120, 127, 128, 152, 153, 166, 202, 243, 244)
# The Manhattan zones south of 60th St (Congestion Relief Zone): `cbd_congestion_fee` is charged on trips
# that end in one of them. The ingest and the marts should use this list.
CBD_ZONE_IDS = (
    4, 12, 13, 45, 48, 50, 68, 79, 87, 88, 90, 100, 107, 113, 114, 125, 137, 144, 148, 158, 161, 162,
    163, 164, 170, 186, 209, 211, 224, 229, 230, 231, 232, 233, 234, 246, 249, 261,
)  # fmt: skip
ZONE_NAMES = {
    1: "Newark Airport", 43: "Central Park", 132: "JFK Airport", 138: "LaGuardia Airport",
    161: "Midtown Center", 186: "Penn Station/Madison Sq West", 230: "Times Sq/Theatre District",
    236: "Upper East Side North", 237: "Upper East Side South", 261: "World Trade Center",
    264: "N/A", 265: "Outside of NYC",
}  # fmt: skip
OUTER_BOROUGHS = ("Queens", "Brooklyn", "Bronx", "Queens", "Brooklyn", "Staten Island", "Queens",
                  "Brooklyn", "Bronx", "Queens")  # fmt: skip
HOT_ZONE_IDS = (161, 237, 236, 230, 186, 162, 163, 170, 142, 239, 48, 68, 79, 234, 107, 141, 140, 90)


def zone_rows() -> list[tuple[int, str, str, str]]:
    """(LocationID, Borough, Zone, service_zone) of the 265 zones."""
    manhattan, boro = set(MANHATTAN_ZONE_IDS), set(MANHATTAN_BORO_ZONE_IDS)
    rows, outer = [], 0
    for zone_id in range(1, 266):
        if zone_id == EWR:
            borough, service = "EWR", "EWR"
        elif zone_id in (JFK, LGA):
            borough, service = "Queens", "Airports"
        elif zone_id == 264:
            borough, service = "Unknown", "N/A"
        elif zone_id == 265:
            borough, service = "N/A", "N/A"
        elif zone_id in manhattan:
            borough, service = "Manhattan", "Boro Zone" if zone_id in boro else "Yellow Zone"
        else:
            borough, service = OUTER_BOROUGHS[outer % len(OUTER_BOROUGHS)], "Boro Zone"
            outer += 1
        rows.append((zone_id, borough, ZONE_NAMES.get(zone_id, f"{borough} Zone {zone_id}"), service))
    return rows


def write_zones(out: Path) -> FileEntry:
    """misc/taxi_zone_lookup.csv in the real layout: quoted header and text, bare ids, CRLF."""
    rel = "misc/taxi_zone_lookup.csv"
    lines = ['"LocationID","Borough","Zone","service_zone"']
    lines += [f'{i},"{borough}","{zone}","{service}"' for i, borough, zone, service in zone_rows()]
    part = atomic_path(out / rel)
    part.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    os.replace(part, out / rel)
    return FileEntry(rel, "zones", None, len(lines) - 1)


def zone_weights(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Pickup and dropoff weights over zone ids 0..263 (airports and unknown zones excluded)."""
    popularity = np.random.default_rng(265).lognormal(0.0, 0.8, size=264)
    yellow_zone = np.zeros(264, dtype=bool)
    yellow_zone[[z for z in MANHATTAN_ZONE_IDS if z not in MANHATTAN_BORO_ZONE_IDS]] = True
    boro_manhattan = np.zeros(264, dtype=bool)
    boro_manhattan[list(MANHATTAN_BORO_ZONE_IDS)] = True
    hot = np.zeros(264, dtype=bool)
    hot[list(HOT_ZONE_IDS)] = True
    outer = ~(yellow_zone | boro_manhattan)
    if source == "yellow":
        pickup = popularity * np.where(yellow_zone, 40.0, np.where(boro_manhattan, 3.0, 0.3))
        pickup *= np.where(hot, 2.5, 1)
        dropoff = popularity * np.where(yellow_zone, 30.0, 1.5) * np.where(hot, 2.0, 1)
    else:
        pickup = popularity * np.where(boro_manhattan, 6.0, np.where(outer, 1.0, 0.0))
        dropoff = popularity * np.where(yellow_zone, 1.5, 1.0)
    for weights in (pickup, dropoff):
        weights[[0, EWR, JFK, LGA]] = 0.0
    return pickup / pickup.sum(), dropoff / dropoff.sum()
