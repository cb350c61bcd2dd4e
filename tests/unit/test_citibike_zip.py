"""A monthly Citi Bike zip of several CSVs (recent months split a month over `_1.csv`, `_2.csv`, ...) lands CSV by CSV,
in order, each with its own row numbers, and a malformed CSV is named with the row where reading stopped."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.citibike import read_ride_batches
from ingest.months import IngestError, Month


def test_a_zip_of_several_csvs_reads_each_csv_in_order_with_its_own_row_numbers(tmp_path: Path) -> None:
    header = "ride_id,rideable_type,started_at,ended_at,start_station_name,start_station_id,end_station_name,"
    header += "end_station_id,start_lat,start_lng,end_lat,end_lng,member_casual\n"
    rest_of_row = "classic_bike,2024-09-01 00:00:00,2024-09-01 00:10:00,A,1,B,2,40.7,-74.0,40.7,-74.0,member"
    zip_path = tmp_path / "202409-citibike-tripdata.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, rides in ((1, 3000), (2, 5), (3, 2000)):
            rows = [f"R{part}-{number},{rest_of_row}" for number in range(rides)]
            archive.writestr(f"202409-citibike-tripdata_{part}.csv", header + "\n".join(rows) + "\n")
    tables = list(read_ride_batches(str(zip_path), zip_path.name, Month(2024, 9)))
    ride_ids = [ride for table in tables for ride in table.column("ride_id").to_pylist()]
    lineage = [
        (file.rsplit("_", 1)[1], row)
        for table in tables
        for file, row in zip(
            table.column("source_file").to_pylist(), table.column("source_row").to_pylist(), strict=True
        )
    ]
    expected = [(part, ride) for part, rides in ((1, 3000), (2, 5), (3, 2000)) for ride in range(rides)]
    assert ride_ids == [f"R{part}-{ride}" for part, ride in expected]
    assert lineage == [(f"{part}.csv", ride) for part, ride in expected]


def test_a_malformed_csv_in_a_zip_names_the_csv_and_the_row(tmp_path: Path) -> None:
    zip_path = tmp_path / "202409-citibike-tripdata.zip"
    good = "ride_id,rideable_type,started_at\nR1,classic_bike,2024-09-01 00:00:00\n"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("202409-citibike-tripdata_1.csv", good)
        archive.writestr("202409-citibike-tripdata_2.csv", good + "R2,classic_bike,2024-09-01 00:00:00,extra\n")
    with pytest.raises(IngestError, match=r"tripdata_2\.csv: reading failed after row 0"):
        list(read_ride_batches(str(zip_path), zip_path.name, Month(2024, 9)))
