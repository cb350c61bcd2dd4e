"""Months, the unit every source is landed and replaced by, and the ingest's error: without dlt or Arrow, so that the
workflow commands that only name months (make restate, the gate) start without importing them."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from gateway import GatewayError

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class IngestError(GatewayError):
    """A source could not be loaded; the message names the file or request and what to do."""


@dataclass(frozen=True)
class Month:
    """A calendar month, the unit every trip source is loaded and replaced by."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parses YYYY-MM, refusing anything else."""
        match = MONTH_RE.match(text.strip())
        if not match:
            raise IngestError(f"'{text}' is not a month: write it as YYYY-MM, for example 2024-09.")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def key(self) -> tuple[int, int]:
        """(year, month): months compare by it, and so do the eras of the sources (schema changes, fare rules)."""
        return (self.year, self.month)

    @property
    def days(self) -> int:
        """The number of days in the month."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> dt.date:
        """The first day of the month."""
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        """The last day of the month."""
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_months(spec: str) -> list[Month]:
    """Parses `YYYY-MM` or `YYYY-MM:YYYY-MM` (inclusive) into the list of months."""
    parts = spec.split(":")
    if len(parts) > 2:
        raise IngestError(f"MONTHS='{spec}' has more than one ':'; write YYYY-MM or YYYY-MM:YYYY-MM.")
    first, last = Month.parse(parts[0]), Month.parse(parts[-1])
    if last.first_day < first.first_day:
        raise IngestError(f"MONTHS='{spec}' ends before it starts; write the earlier month first.")
    months = [first]
    while months[-1] != last:
        months.append(months[-1].next())
    return months
