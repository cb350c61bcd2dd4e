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


def damaged_files(folder) -> dict[str, object]:  # noqa: ANN001
    """A real warehouse, then three damaged copies of it: truncated, its tail overwritten, not DuckDB at all."""
    import duckdb

    good = folder / "good.duckdb"
    with duckdb.connect(str(good)) as connection:
        connection.execute("CREATE TABLE t AS SELECT range AS i FROM range(200000)")
    size = good.stat().st_size
    truncated, overwritten, garbage = (folder / f"{name}.duckdb" for name in ("truncated", "overwritten", "garbage"))
    truncated.write_bytes(good.read_bytes()[: size // 2])
    content = bytearray(good.read_bytes())
    content[size // 2 : size // 2 + 100_000] = bytes(range(256)) * 390 + bytes(160)
    overwritten.write_bytes(bytes(content))
    garbage.write_bytes(b"not a database" * 1000)
    return {"truncated": truncated, "overwritten": overwritten, "garbage": garbage}


@pytest.mark.parametrize("kind", ["truncated", "overwritten", "garbage"])
def test_a_damaged_warehouse_is_named_damaged_at_once_not_busy(kind: str, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from gateway.lock import warehouse_lock

    data = tmp_path / "data"
    data.mkdir()
    damaged_files(tmp_path)[kind].rename(data / "warehouse.duckdb")
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(data))
    monkeypatch.setenv("MOBILITY_LOCK_TIMEOUT", "3")  # a lock wait ends in WarehouseBusy: the test fails
    with pytest.raises(gateway.WarehouseDamaged, match="damaged") as caught:
        with warehouse_lock("test"):
            pass
    assert "in use by" not in str(caught.value)
    with pytest.raises(gateway.WarehouseDamaged):
        gateway.open_read_only("make answers")


def test_a_lock_held_by_another_process_is_still_a_lock(tmp_path) -> None:  # noqa: ANN001
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)):
        pass
    holder = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", holder, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException) as caught:
            duckdb.connect(str(path))
        assert gateway.is_lock_conflict(caught.value)
    finally:
        process.kill()
        process.wait()


def test_an_ingest_refused_as_busy_exits_75_and_says_who_holds_the_warehouse(tmp_path) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    data, mirror = tmp_path / "data", tmp_path / "mirror"
    mirror.mkdir()
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "MOBILITY_LOCK_TIMEOUT": "1"}
    environment.pop("MOBILITY_GATEWAY", None)
    holder = subprocess.Popen(
        [sys.executable, "-m", "gateway.lock", "--purpose", "a long job", "--", sys.executable, "-c",
         "print('held', flush=True); import time; time.sleep(60)"],
        cwd=root, env=environment, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        ingest = subprocess.run(
            [sys.executable, "-m", "ingest", "--sources", "zones", "--months", "2024-09", "--mirror", str(mirror)],
            cwd=root, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        holder.terminate()
        holder.wait()
    assert ingest.returncode == 75, ingest.stderr
    assert "a long job" in ingest.stderr and "Nothing was written" in ingest.stderr


def test_the_data_folder_is_marked_only_when_it_holds_nothing_but_the_projects_files(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    made, cached, theirs = tmp_path / "new", tmp_path / "cached", tmp_path / "theirs"
    (cached / ".sqlmesh_cache").mkdir(parents=True)  # what any sqlmesh command leaves, `make test` included
    theirs.mkdir()
    (theirs / "warehouse.duckdb").touch()
    (theirs / "thesis.tex").touch()
    for folder in (made, cached, theirs):
        monkeypatch.setenv("MOBILITY_DATA_DIR", str(folder))
        gateway.own_data_dir()
    assert (made / gateway.MARKER).exists() and (cached / gateway.MARKER).exists()
    assert not (theirs / gateway.MARKER).exists()
