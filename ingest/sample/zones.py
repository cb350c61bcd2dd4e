"""The TLC taxi zone lookup (misc/taxi_zone_lookup.csv) and where trips start and end.

The 265 zones, their boroughs and service zones are the TLC's own, carried in taxi_zones.csv next to this module
(a copy of the published lookup). Trips start and end in them at the shares measured in real files: yellow
2025-02 (5,000 random trips) and green 2023-12 (the full month).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ingest.sample.common import FileEntry, atomic_path

ZONES_FILE = Path(__file__).with_name("taxi_zones.csv")
EWR, JFK, LGA = 1, 132, 138
UNKNOWN_ZONES = (264, 265)  # "Unknown"/"N/A" and "N/A"/"Outside of NYC"
# The Manhattan zones south of 60th St (Congestion Relief Zone): `cbd_congestion_fee` is charged on trips
# that end in one of them. The ingest and the marts should use this list.
CBD_ZONE_IDS = (
    4, 12, 13, 45, 48, 50, 68, 79, 87, 88, 90, 100, 107, 113, 114, 125, 137, 144, 148, 158, 161, 162,
    163, 164, 170, 186, 209, 211, 224, 229, 230, 231, 232, 233, 234, 246, 249, 261,
)  # fmt: skip

# Share (%) of a service's pickups in each of its busiest zones, as measured. Yellow: the Upper East and West
# Sides, Midtown, Chelsea and the Villages; green: East and Central Harlem and the Queens and Brooklyn hubs.
BUSY_ZONES_PCT = {
    "yellow": {
        236: 5.0,  # Upper East Side North
        237: 4.5,  # Upper East Side South
        161: 4.5,  # Midtown Center
        186: 3.2,  # Penn Station/Madison Sq West
        234: 3.0,  # Union Sq
        230: 2.9,  # Times Sq/Theatre District
        162: 2.9,  # Midtown East
        68: 2.8,  # East Chelsea
        249: 2.8,  # West Village
        239: 2.7,  # Upper West Side South
        163: 2.7,  # Midtown North
        79: 2.7,  # East Village
        142: 2.6,  # Lincoln Square East
        170: 2.4,  # Murray Hill
        48: 2.4,  # Clinton East
        164: 2.2,  # Midtown South
        141: 2.2,  # Lenox Hill West
        107: 2.2,  # Gramercy
        263: 1.9,  # Yorkville West
        140: 1.8,  # Lenox Hill East
        246: 1.8,  # West Chelsea/Hudson Yards
        90: 1.8,  # Flatiron
        238: 1.7,  # Upper West Side North
        229: 1.6,  # Sutton Place/Turtle Bay North
        100: 1.5,  # Garment District
    },
    "green": {
        74: 21.3,  # East Harlem North
        75: 13.3,  # East Harlem South
        82: 5.1,  # Elmhurst
        41: 5.1,  # Central Harlem
        95: 5.0,  # Forest Hills
        166: 4.7,  # Morningside Heights
        43: 4.3,  # Central Park
        97: 3.3,  # Fort Greene
        65: 2.7,  # Downtown Brooklyn/MetroTech
        130: 2.5,  # Jamaica
        42: 2.4,  # Central Harlem North
        129: 2.4,  # Jackson Heights
        7: 2.3,  # Astoria
        244: 2.0,  # Washington Heights South
        260: 1.7,  # Woodside
    },
}
# Dropoffs are spread wider than pickups: green trips start in Harlem but end all over Manhattan.
BUSY_DROPOFF_FACTOR = {"yellow": 0.9, "green": 0.25}
# Share (%) of trips in each other zone of an area: (yellow pickups, yellow dropoffs, green pickups, green dropoffs).
AREA_ZONE_PCT = {
    "Congestion Relief Zone": (0.8, 1.2, 0.05, 0.6),  # Manhattan south of 60th St (CBD_ZONE_IDS)
    "rest of the Yellow Zone": (0.5, 1.0, 0.05, 0.6),  # the Upper East and West Sides, Central Park, the islands
    "Upper Manhattan": (0.17, 0.35, 0.6, 1.2),  # the Manhattan Boro Zone: Harlem, Washington Heights, Inwood
    "Brooklyn": (0.045, 0.08, 0.15, 0.2),
    "Queens": (0.037, 0.05, 0.2, 0.35),
    "Bronx": (0.02, 0.02, 0.04, 0.08),
    "Staten Island": (0.001, 0.002, 0.001, 0.002),
}
# Airports: share (%) of a service's pickups and dropoffs, and how they split between JFK, LaGuardia and Newark.
AIRPORT_PICKUP_PCT = {"yellow": 6.2, "green": 0.0}
AIRPORT_DROPOFF_PCT = {"yellow": 1.7, "green": 3.9}
AIRPORT_PICKUP_SPLIT = {JFK: 0.57, LGA: 0.43}  # no taxi pickups at Newark
AIRPORT_DROPOFF_SPLIT = {JFK: 0.32, LGA: 0.60, EWR: 0.08}


def zone_rows() -> list[tuple[int, str, str, str]]:
    """(LocationID, Borough, Zone, service_zone) of the 265 zones, as the TLC publishes them."""
    with ZONES_FILE.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        return [(int(row["LocationID"]), row["Borough"], row["Zone"], row["service_zone"]) for row in rows]


ZONES = zone_rows()
MANHATTAN_ZONE_IDS = tuple(zone for zone, borough, _, _ in ZONES if borough == "Manhattan")
# The Yellow Zone: most of Manhattan below Harlem, where green cabs may not pick up street hails.
YELLOW_ZONE_IDS = tuple(zone for zone, _, _, service in ZONES if service == "Yellow Zone")


def write_zones(out: Path) -> FileEntry:
    """misc/taxi_zone_lookup.csv in the real layout: quoted header and text, bare ids, CRLF."""
    rel = "misc/taxi_zone_lookup.csv"

    def quoted(text: str) -> str:
        """Text in double quotes, as every text field of the real file."""
        return '"' + text.replace('"', '""') + '"'

    lines = [",".join(map(quoted, ("LocationID", "Borough", "Zone", "service_zone")))]
    lines += [",".join([str(zone), *map(quoted, texts)]) for zone, *texts in ZONES]
    part = atomic_path(out / rel)
    part.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    os.replace(part, out / rel)
    return FileEntry(rel, "zones", None, len(lines) - 1)


def area(zone: int, borough: str, service: str) -> str | None:
    """The area of AREA_ZONE_PCT a zone belongs to; None for the airports and the unknown zones."""
    if service == "Yellow Zone":
        return "Congestion Relief Zone" if zone in CBD_ZONE_IDS else "rest of the Yellow Zone"
    if service == "Boro Zone":
        return "Upper Manhattan" if borough == "Manhattan" else borough
    return None


def zone_weights(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Pickup and dropoff probabilities over zone ids 0..263, airports and unknown zones excluded."""
    column = {"yellow": 0, "green": 2}[source]
    # Zones of one area differ a little from each other, the same way in every file.
    spread = np.random.default_rng(265).lognormal(0.0, 0.4, size=264)
    pickup, dropoff = np.zeros(264), np.zeros(264)
    for zone, borough, _, service in ZONES:
        name = area(zone, borough, service)
        if name is not None:
            pickup[zone] = AREA_ZONE_PCT[name][column] * spread[zone]
            dropoff[zone] = AREA_ZONE_PCT[name][column + 1] * spread[zone]
    for zone, pct in BUSY_ZONES_PCT[source].items():
        pickup[zone] = pct
        dropoff[zone] = max(dropoff[zone], pct * BUSY_DROPOFF_FACTOR[source])
    return pickup / pickup.sum(), dropoff / dropoff.sum()


def pick_airports(rng: np.random.Generator, n: int, split: dict[int, float]) -> np.ndarray:
    """Airport zone ids drawn at `split`."""
    return rng.choice(list(split), size=n, p=list(split.values()))
