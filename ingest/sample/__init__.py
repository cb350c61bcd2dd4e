"""Deterministic sample mirror of the upstream NYC mobility sources, as dirty as the real ones.

`python -m ingest.sample --months 2024-09:2024-11 --scale 0.01 --out data/mirror [--seed 42]` writes a
folder laid out like the upstream paths (docs/raw_layer.md), so that ingest reads it through the same code
path as the real sources (`MIRROR=data/mirror`):

    trip-data/yellow_tripdata_YYYY-MM.parquet   column names and Arrow types of the file's era   (tlc.py)
    trip-data/green_tripdata_YYYY-MM.parquet    (int64 ids before 2023-02, cbd fee from 2025-01)
    misc/taxi_zone_lookup.csv                   the TLC's 265 zones, CRLF, quoted as upstream   (zones.py)
    YYYYMM-citibike-tripdata.zip                2+ fully quoted CSV members and a __MACOSX/ entry (citibike.py)
    v1/archive/YYYY-MM.json                     the Open-Meteo archive body for one padded month (weather.py)
    manifest.json                               rows, strays, excluded and kept rows by kind    (mirror.py)

SCALE=1 is the real volume of a month. Trip files hold stray rows outside the file's month and special rows
at the shares measured in real upstream files, each with exactly one defect, so that the manifest's counts
are exact (docs/sample_mirror.md). Taxis start and end in the real zones (taxi_zones.csv) at the shares measured
in real files, and every trip source follows the weather of its hour in the generated weather files: fewer bike
rides and more taxi trips in wet hours. The same arguments always give byte-identical files: each file draws from
a seed derived from (seed, source, month), so the monthly files are written in parallel worker processes. Files are
generated and written in chunks of CHUNK_ROWS rows with numpy, so SCALE=1 fits in about 1 GB per worker.
"""

from ingest.sample.mirror import generate, main

__all__ = ["generate", "main"]
