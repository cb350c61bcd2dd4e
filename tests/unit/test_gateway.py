"""The gateway in use and its engine, read from MOBILITY_GATEWAY as config.yaml reads it."""

from __future__ import annotations

import pytest

import gateway


@pytest.mark.parametrize(
    ("value", "name", "engine"),
    [
        (None, "local", "duckdb"),
        ("", "local", "duckdb"),
        ("postgres", "postgres", "duckdb"),
        ("spark", "spark", "spark"),
    ],
)
def test_gateway_and_engine(value: str | None, name: str, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("MOBILITY_GATEWAY", raising=False)
    else:
        monkeypatch.setenv("MOBILITY_GATEWAY", value)
    assert gateway.name() == name and gateway.engine() == engine


def test_unknown_gateway_names_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_GATEWAY", "trino")
    with pytest.raises(gateway.GatewayError, match="trino is not a gateway: choose one of local, postgres, spark"):
        gateway.engine()
