"""Open-Meteo archive responses (v1/archive/YYYY-MM.json), labelled the way the real API labels them.

The ingest asks for one month padded by a day on each side (`start_date` the day before the month, `end_date`
the day after it, `timezone=America/New_York`) and keeps the hours whose true New York time falls in the month.
The real API labels `hourly.time` with ONE fixed `utc_offset_seconds` per response, the offset valid when the
request is made, not per hour: the real 2023 archive says -14400 ("GMT-4") for the whole year, January too.
So a body here covers the padded local dates at that fixed offset, one entry per true UTC hour, labelled
`UTC instant + offset`. The offset of a month's body is New York's offset at noon on the 15th of the following
month, as if each month were requested two weeks after it ended: March to September bodies say -14400,
October to February bodies -18000. Values are a function of the true hour alone, so the hours two adjacent
bodies share carry identical values.

Trips feel the weather of their hour as they do in New York: in a wet hour Citi Bike loses about half its rides
and taxis gain a tenth to a fifth (weather_factors).
"""

from __future__ import annotations

import calendar
import json
import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from ingest.sample.common import FileEntry, Month, atomic_path, file_seed

NEW_YORK = ZoneInfo("America/New_York")
WEATHER_LAT, WEATHER_LON, WEATHER_ELEVATION = 40.710335, -73.99307, 32.0  # the grid cell the API answers
MONTHLY_WET_DAYS = (0.35, 0.33, 0.36, 0.36, 0.37, 0.33, 0.33, 0.31, 0.28, 0.27, 0.31, 0.34)
MEAN_C, SEASON_C, COLDEST_DAY = 12.75, 12.25, 20  # yearly mean, half the summer-winter swing, Jan 20
ANOMALY_MEMORY, ANOMALY_DAYS = 0.7, 40  # a day's anomaly carries 0.7 of the day before's, 40 days back
HEAVY_RAIN_MM = 1.0  # an hour with this much precipitation or more is `rain`, less is `light rain`
# Demand in an hour of each condition, relative to a dry one: bikes stay home in the rain, riders take a cab.
BIKE_WEATHER_FACTORS = {"dry": 1.0, "light rain": 0.6, "rain": 0.4, "snow": 0.3}
TAXI_WEATHER_FACTORS = {"dry": 1.0, "light rain": 1.1, "rain": 1.2, "snow": 1.15}
CONDITIONS = ("dry", "light rain", "rain", "snow")
HOURLY_UNITS = {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm", "rain": "mm",
                "snowfall": "cm", "wind_speed_10m": "km/h", "weather_code": "wmo code"}  # fmt: skip


def body_offset(month: Month) -> int:
    """The fixed UTC offset (seconds) of a month's body: New York's on the 15th of the next month, at noon."""
    following = month.next()
    offset = datetime(following.year, following.month, 15, 12, tzinfo=NEW_YORK).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def body_hours(month: Month) -> tuple[int, int]:
    """(first true UTC hour as epoch hours, number of hours) of the body: the padded local dates at its offset."""
    first_local = calendar.timegm((month.year, month.month, 1, 0, 0, 0)) - 86400
    return (first_local - body_offset(month)) // 3600, (month.days + 2) * 24


def local_hours(month: Month) -> int:
    """Hours whose true New York local time lies in the month (743 in March, 721 in November)."""
    following = month.next()
    start = datetime(month.year, month.month, 1, tzinfo=NEW_YORK).astimezone(UTC)
    end = datetime(following.year, following.month, 1, tzinfo=NEW_YORK).astimezone(UTC)
    return int((end - start).total_seconds()) // 3600  # aware times of one zone subtract as wall clocks


def day_draws(seed: int, day: int) -> np.random.Generator:
    """The generator of one UTC day of weather, the same whichever body the day falls in."""
    return np.random.default_rng([seed, day])


def hourly_values(first_hour: int, hours: int, seed: int) -> dict[str, list]:
    """Weather of consecutive true UTC hours, each a function of its hour alone."""
    first_day, last_day = first_hour // 24, (first_hour + hours - 1) // 24
    days = np.arange(first_day - 1, last_day + 1)  # one day before, for wet spells running past midnight
    anomaly_days = np.arange(days[0] - ANOMALY_DAYS, days[-1] + 1)
    shocks = np.array([day_draws(seed, int(day)).normal(0, 2.2) for day in anomaly_days])
    weights = ANOMALY_MEMORY ** np.arange(ANOMALY_DAYS + 1)
    anomaly = np.convolve(shocks, weights)[ANOMALY_DAYS : ANOMALY_DAYS + days.size]
    noise, amounts, dry_codes, winds = (np.empty((days.size, 24)) for _ in range(4))
    wet = np.zeros(days.size * 24 + 24, dtype=bool)
    for index, day in enumerate(days):
        rng = day_draws(seed, int(day))
        rng.normal(0, 2.2)  # the day's anomaly shock, drawn above
        month_index = datetime.fromtimestamp(int(day) * 86400, UTC).month - 1
        noise[index], amounts[index] = rng.normal(0, 0.4, 24), rng.exponential(1.3, 24)
        dry_codes[index] = rng.choice([0, 1, 2, 3], size=24, p=[0.35, 0.25, 0.2, 0.2])
        winds[index] = rng.gamma(3.0, 4.5, 24)
        first, length = index * 24 + rng.integers(0, 24), rng.integers(2, 13)
        if rng.random() < MONTHLY_WET_DAYS[month_index]:
            wet[first : first + length] = True
    skip = (first_hour - days[0] * 24, first_hour - days[0] * 24 + hours)
    hour = np.arange(first_hour, first_hour + hours)
    day_of_year = (hour / 24) % 365.25  # epoch day 0 is 1970-01-01; close enough to the calendar's day
    climate = MEAN_C - SEASON_C * np.cos(2 * np.pi * (day_of_year - COLDEST_DAY) / 365.25)
    diurnal = -4.5 * np.cos(2 * np.pi * ((hour - 5) % 24 - 4) / 24)  # coldest at 4 am New York standard time
    daily = np.repeat(anomaly, 24)[skip[0] : skip[1]]
    temperature = np.round(climate + daily + diurnal + noise.ravel()[skip[0] : skip[1]], 1)
    wet = wet[skip[0] : skip[1]]
    precipitation = np.where(wet, np.maximum(np.round(amounts.ravel()[skip[0] : skip[1]], 1), 0.1), 0.0)
    snowy = wet & (temperature <= 0.5)
    rain = np.where(snowy, 0.0, precipitation)
    snowfall = np.where(snowy, np.round(precipitation * 0.7, 2), 0.0)
    rain_code = np.select([rain < 0.3, rain < 0.6, rain < 1.5, rain < 4.0], [51, 53, 61, 63], 65)
    snow_code = np.select([snowfall < 0.5, snowfall < 1.5], [71, 73], 75)
    code = np.where(snowy, snow_code, np.where(wet, rain_code, dry_codes.ravel()[skip[0] : skip[1]]))
    wind = np.round(winds.ravel()[skip[0] : skip[1]], 1)
    return {"temperature_2m": temperature.tolist(), "precipitation": precipitation.tolist(), "rain": rain.tolist(),
            "snowfall": snowfall.tolist(), "wind_speed_10m": wind.tolist(),
            "weather_code": code.astype(int).tolist()}  # fmt: skip


def weather_body(month: Month, seed: int) -> dict:
    """The Open-Meteo archive response for one month of hourly New York weather, padded by a day each side."""
    offset = body_offset(month)
    first_hour, hours = body_hours(month)
    labels = datetime(1970, 1, 1) + timedelta(seconds=first_hour * 3600 + offset)
    times = [(labels + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M") for i in range(hours)]
    return {
        "latitude": WEATHER_LAT,
        "longitude": WEATHER_LON,
        "generationtime_ms": 0.5,
        "utc_offset_seconds": offset,
        "timezone": "America/New_York",
        "timezone_abbreviation": f"GMT{offset // 3600:+d}",
        "elevation": WEATHER_ELEVATION,
        "hourly_units": HOURLY_UNITS,
        "hourly": {"time": times, **hourly_values(first_hour, hours, file_seed(seed, "weather", None))},
    }


def write_weather(out: Path, month: Month, seed: int) -> FileEntry:
    """Writes v1/archive/YYYY-MM.json, compact JSON as the API sends it."""
    rel = f"v1/archive/{month}.json"
    body = weather_body(month, seed)
    part = atomic_path(out / rel)
    part.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(part, out / rel)
    hours = len(body["hourly"]["time"])
    return FileEntry(rel, "weather", str(month), local_hours(month), hours_in_body=hours)


def true_hour(wall: datetime) -> int:
    """Epoch hour of a New York wall-clock hour, placed as the marts place trips: the skipped spring-forward hour
    as the hour after it, the repeated fall-back hour as the second (standard-time) one."""
    later = wall.replace(tzinfo=NEW_YORK, fold=1)
    if later.astimezone(UTC).astimezone(NEW_YORK).replace(tzinfo=None) != wall:  # the hour the clocks skip
        later = wall.replace(tzinfo=NEW_YORK, fold=0)
    return int(later.timestamp()) // 3600


@lru_cache(maxsize=64)
def month_conditions(month: Month, seed: int) -> np.ndarray:
    """Index in CONDITIONS of the weather of each local hour of the month, from the bodies' own values."""
    first = datetime(month.year, month.month, 1)
    hours = np.array([true_hour(first + timedelta(hours=slot)) for slot in range(month.days * 24)])
    values = hourly_values(int(hours.min()), int(hours.max() - hours.min()) + 1, file_seed(seed, "weather", None))
    precipitation = np.array(values["precipitation"])[hours - hours.min()]
    snowfall = np.array(values["snowfall"])[hours - hours.min()]
    wet = np.where(precipitation >= HEAVY_RAIN_MM, 2, np.where(precipitation > 0, 1, 0))
    return np.where(snowfall > 0, 3, wet)


def weather_factors(month: Month, seed: int, factors: dict[str, float]) -> np.ndarray:
    """Demand of each local hour of the month relative to a dry hour (`seed` is the mirror's base seed)."""
    return np.array([factors[name] for name in CONDITIONS])[month_conditions(month, seed)]
