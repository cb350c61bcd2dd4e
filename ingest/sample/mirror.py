"""The command line: which months, at what scale, where; writes every file and the manifest."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path

from gateway import faults, own_data_dir
from ingest.sample.citibike import make_stations, write_citibike
from ingest.sample.common import FileEntry, Month, atomic_path
from ingest.sample.tlc import write_taxi
from ingest.sample.weather import write_weather
from ingest.sample.zones import write_zones

FIRST_MONTH = (2021, 2)  # Citi Bike's 13-column schema starts here; older months are refused
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DESCRIPTION = "Deterministic sample mirror of the upstream NYC mobility sources, as dirty as the real ones."


def parse_month(text: str) -> Month:
    """Parses YYYY-MM, refusing other forms and months before Citi Bike's current schema."""
    match = MONTH_RE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month: write YYYY-MM, for example 2024-09")
    month = Month(int(match.group(1)), int(match.group(2)))
    if month.key < FIRST_MONTH:
        raise argparse.ArgumentTypeError(f"{month.label} is too early: the sample starts at 2021-02")
    return month


def parse_months(spec: str) -> list[Month]:
    """Parses YYYY-MM or an inclusive range YYYY-MM:YYYY-MM."""
    parts = spec.split(":")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(f"'{spec}' has more than one ':': write YYYY-MM or YYYY-MM:YYYY-MM")
    first, last = parse_month(parts[0]), parse_month(parts[-1])
    if last.key < first.key:
        raise argparse.ArgumentTypeError(f"'{spec}' ends before it starts: write the earlier month first")
    months = [first]
    while months[-1] != last:
        months.append(months[-1].next())
    return months


def parse_scale(text: str) -> float:
    """Parses a finite scale > 0."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(scale) or scale <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number > 0 (1 = real volume)")
    return scale


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ingest.sample", description=DESCRIPTION)
    parser.add_argument("--months", required=True, type=parse_months, help="YYYY-MM or YYYY-MM:YYYY-MM")
    parser.add_argument("--scale", type=parse_scale, default=0.01, help="1 = real volume (default 0.01)")
    parser.add_argument("--out", type=Path, default=Path("data/mirror"), help="mirror folder (data/mirror)")
    parser.add_argument("--seed", type=int, default=42, help="base seed (default 42)")
    return parser


def generate(out: Path, months: list[Month], scale: float, seed: int) -> dict:
    """Writes every file of the mirror and its manifest; returns the manifest."""
    stations = make_stations()
    entries = [report(out, write_zones(out))]
    for month in months:
        entries.append(report(out, write_taxi(out, "yellow", month, scale, seed)))
        entries.append(report(out, write_taxi(out, "green", month, scale, seed)))
        entries.append(report(out, write_citibike(out, month, scale, seed, stations)))
        entries.append(report(out, write_weather(out, month, seed)))
    manifest = {
        "generator": "ingest.sample",
        "seed": seed,
        "scale": scale,
        "months": [month.label for month in months],
        "files": {entry.path: entry.as_json() for entry in entries},
    }
    part = atomic_path(out / "manifest.json")
    part.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(part, out / "manifest.json")
    print(f"{out / 'manifest.json'}\t{len(entries)} files", flush=True)
    return manifest


def report(out: Path, entry: FileEntry) -> FileEntry:
    """Prints the summary line of a written file."""
    print(f"{out / entry.path}\t{entry.rows} rows", flush=True)
    return entry


@faults.reported("Writing the sample mirror")
def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m ingest.sample`."""
    args = build_parser().parse_args(argv)
    own_data_dir(inside=Path(args.out))
    generate(args.out, args.months, args.scale, args.seed)
    return 0
