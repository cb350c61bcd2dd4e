"""Each upstream is one dlt source whose base is dlt configuration: a team points one source at its own mirror."""

from __future__ import annotations

import pytest

from ingest import settings
from ingest.__main__ import SOURCES

UPSTREAM = {"tlc": settings.TLC_BASE, "citibike": settings.CITIBIKE_BASE, "weather": settings.OPEN_METEO_BASE}


@pytest.fixture(autouse=True)
def no_configured_bases(monkeypatch: pytest.MonkeyPatch) -> None:
    for section in UPSTREAM:
        monkeypatch.delenv(f"SOURCES__{section.upper()}__BASE", raising=False)


def test_every_source_reads_its_upstream_unless_configured() -> None:
    assert {name: source.base for name, source in SOURCES.items()} == {
        "yellow": settings.TLC_BASE,
        "green": settings.TLC_BASE,
        "zones": settings.TLC_BASE,
        "citibike": settings.CITIBIKE_BASE,
        "weather": settings.OPEN_METEO_BASE,
    }


def test_a_configured_base_moves_only_its_own_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__TLC__BASE", "/srv/mirrors/tlc")
    assert [SOURCES[name].base for name in ("yellow", "green", "zones")] == ["/srv/mirrors/tlc"] * 3
    assert SOURCES["citibike"].base == settings.CITIBIKE_BASE
    assert SOURCES["weather"].base == settings.OPEN_METEO_BASE


def test_each_table_lands_in_the_dataset_its_dlt_source_is_named_after() -> None:
    assert {f"{source.dataset}.{source.table}" for source in SOURCES.values()} == {
        "raw_tlc.yellow_trips",
        "raw_tlc.green_trips",
        "raw_tlc.taxi_zones",
        "raw_citibike.trips",
        "raw_weather.hourly",
    }
