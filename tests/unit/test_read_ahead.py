"""read_ahead reads the next files on threads but hands out their items file by file, in order, and stops cleanly."""

from __future__ import annotations

import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.citibike import read_ride_batches
from ingest.common import read_ahead
from ingest.months import IngestError, Month


def counting(name: str, rows: int, pause: float = 0.0) -> Iterator[tuple[str, int]]:
    for row in range(rows):
        time.sleep(pause)
        yield name, row


def read_ahead_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("read-ahead-")]


def test_items_come_reader_by_reader_in_order_whatever_finishes_first() -> None:
    # the first reader is the slowest: the later ones finish long before it, yet come after it
    readers = [lambda: counting("a", 5, 0.02), lambda: counting("b", 3), lambda: counting("c", 4), lambda: iter(())]
    out = list(read_ahead(readers, workers=3, depth=1))
    assert out == [*counting("a", 5), *counting("b", 3), *counting("c", 4)]
    assert read_ahead_threads() == []


def test_the_next_reader_runs_while_the_first_is_still_read() -> None:
    second_started = threading.Event()

    def first() -> Iterator[bool]:
        yield second_started.wait(timeout=10)

    def second() -> Iterator[bool]:
        second_started.set()
        yield True

    assert list(read_ahead([first, second], workers=2)) == [True, True]


def test_a_readers_error_comes_where_its_items_would_have_and_stops_the_rest() -> None:
    def failing() -> Iterator[tuple[str, int]]:
        yield "b", 0
        raise ValueError("row 1 of b is malformed")

    readers = [lambda: counting("a", 2), failing, lambda: counting("c", 10_000)]
    out = []
    with pytest.raises(ValueError, match="row 1 of b is malformed"):
        for item in read_ahead(readers, workers=3, depth=1):
            out.append(item)
    assert out == [("a", 0), ("a", 1), ("b", 0)]
    assert read_ahead_threads() == []


def test_closing_early_stops_readers_that_would_never_end() -> None:
    def endless() -> Iterator[int]:
        row = 0
        while True:
            yield row
            row += 1

    items = read_ahead([endless, endless], workers=2, depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert read_ahead_threads() == []


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
    assert read_ahead_threads() == []
