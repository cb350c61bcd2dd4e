"""What every file of the sample mirror shares: months, seeds, row plans, chunks and the manifest entry."""

from __future__ import annotations

import calendar
import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from ingest.months import Month

VOLUME = {"yellow": 3_000_000, "green": 60_000, "citibike": 4_000_000}  # rows a month at SCALE=1
MIN_ROWS = 60  # enough for one row of every special kind and the strays at tiny scales
CHUNK_ROWS = 500_000  # rows generated at once; one Parquet row group
ZIP_LEVEL = 1  # deflate level of the Citi Bike CSVs: 3.5 times as fast as zlib's default 6, files 25% larger
STRAY_PREV, STRAY_NEXT = -1, -2  # the previous month's last day, the next month's first day
STRAY_FAR = {-3: (2002, 12, 31, 22), -4: (2008, 12, 31, 22), -5: (2009, 1, 1, 0)}  # 2-hour windows

Rng = np.random.Generator


def epoch(month: Month) -> int:
    """Epoch seconds of the month's first midnight (the mirror's naive local times are stored as if UTC)."""
    return calendar.timegm((month.year, month.month, 1, 0, 0, 0))


@dataclass
class FileEntry:
    """One manifest entry: `dirty_rows` are excluded from the facts, `kept_rows` stay in them with a flag."""

    path: str
    source: str
    month: str | None
    rows: int
    stray_rows: int = 0
    dirty_rows: dict[str, int] = field(default_factory=dict)
    kept_rows: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] | None = None
    hours_in_body: int | None = None

    def as_json(self) -> dict:
        """The manifest form of the entry."""
        spec = {"source": self.source, "month": self.month, "rows": self.rows, "stray_rows": self.stray_rows,
                "dirty_rows": self.dirty_rows, "kept_rows": self.kept_rows}  # fmt: skip
        if self.members is not None:
            spec["members"] = self.members
        if self.hours_in_body is not None:
            spec["hours_in_body"] = self.hours_in_body
        return spec


def file_seed(seed: int, source: str, month: Month | None) -> int:
    """A 64-bit seed of one file, derived from the base seed, the source and the month."""
    text = f"{seed}:{source}:{month if month else '-'}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def scaled_rows(source: str, scale: float) -> int:
    """Rows of one monthly file at a scale."""
    return max(MIN_ROWS, round(VOLUME[source] * scale))


def special_counts(rows: int, rates: dict[str, float]) -> dict[str, int]:
    """Rows of each kind at its rate, at least one each (MIN_ROWS leaves room for all of them)."""
    return {kind: max(1, round(rows * rate)) for kind, rate in rates.items()}


def split(count: int, share: float) -> tuple[int, int]:
    """Splits `count` rows of a kind into (rest, variant) at `share`, one of each once there are two rows."""
    variant = min(max(round(count * share), 1 if count >= 2 else 0), count - 1 if count >= 2 else count)
    return count - variant, variant


def plan_rows(rows: int, counts: dict[int, int], rng: Rng) -> np.ndarray:
    """Row codes of a file: 0 clean, the code of the row's variant otherwise (negative for strays)."""
    codes = np.zeros(rows, dtype=np.int8)
    positions = rng.choice(rows, size=sum(counts.values()), replace=False)
    start = 0
    for code, n in counts.items():
        codes[positions[start : start + n]] = code
        start += n
    return codes


def chunks(rows: int, first: int = 0, size: int = CHUNK_ROWS) -> Iterator[tuple[int, int]]:
    """(start, stop) ranges of at most `size` rows."""
    for start in range(first, first + rows, size):
        yield start, min(start + size, first + rows)


def chunk_rng(seed: int, start: int) -> Rng:
    """The generator of the chunk starting at row `start` of a file."""
    return np.random.default_rng([seed, 1, start])


def demand_times(rng: Rng, n: int, month: Month, hours: tuple, weekdays: tuple, weather: np.ndarray) -> np.ndarray:
    """Epoch seconds inside the month, drawn from a daily and hourly demand curve times `weather` (one per hour)."""
    first_weekday = date(month.year, month.month, 1).weekday()
    day_weights = np.array([weekdays[(first_weekday + d) % 7] for d in range(month.days)])
    weights = np.outer(day_weights, np.array(hours)).ravel() * weather
    slots = rng.choice(weights.size, size=n, p=weights / weights.sum())
    return epoch(month) + slots * 3600 + rng.integers(0, 3600, size=n)


def stray_times(rng: Rng, codes: np.ndarray, month: Month) -> np.ndarray:
    """Epoch seconds of stray rows by code (0 where the row is not stray)."""
    times = np.zeros(codes.size, dtype=np.int64)
    offsets = rng.integers(0, 86400, size=codes.size)
    times = np.where(codes == STRAY_PREV, epoch(month) - 86400 + offsets, times)
    times = np.where(codes == STRAY_NEXT, epoch(month.next()) + offsets, times)
    for code, moment in STRAY_FAR.items():
        times = np.where(codes == code, calendar.timegm((*moment, 0, 0)) + offsets % 7200, times)
    return times


def atomic_path(path: Path) -> Path:
    """A temporary sibling of `path`, renamed over it once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.part")


def zip_info(name: str, stamp: tuple) -> zipfile.ZipInfo:
    """A deflated zip entry with a fixed date and Unix attributes, so that archives are byte-identical."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 3, 0o100644 << 16
    info._compresslevel = ZIP_LEVEL  # an entry passed to ZipFile.open keeps its own level, not the archive's
    return info
