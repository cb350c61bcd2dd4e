"""An empty MOBILITY_DATA_DIR is the same as an unset one for every reader: the lock, the ingest, SQLMesh and Soda.

Before, SQLMesh read `''` as the folder and opened `/warehouse.duckdb` while the lock guarded `data/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmesh import Context

from checks import scan
from gateway import data_dir, warehouse_path
from tests.conftest import ROOT


@pytest.mark.parametrize("value", [None, ""])
def test_every_reader_finds_the_same_warehouse(value: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    if value is None:
        monkeypatch.delenv("MOBILITY_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("MOBILITY_DATA_DIR", value)
    expected = ROOT / "data" / "warehouse.duckdb"
    assert warehouse_path() == expected and data_dir() == expected.parent
    assert scan.warehouse_path() == expected
    config = Context(paths=str(ROOT), load=False).config
    assert (ROOT / Path(config.gateways["local"].connection.database)).resolve() == expected
