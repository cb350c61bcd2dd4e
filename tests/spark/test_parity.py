"""`make parity` at a small scale: the same sample built on DuckDB and on Spark gives every mart equal.

The one Spark test `make test` runs (about five minutes on two cores); the longer ones are marked `spark`
(make test-spark). Skipped where no Java runtime is installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import needs_spark

ROOT = Path(__file__).resolve().parents[2]

pytestmark = needs_spark


def test_every_mart_is_equal_on_duckdb_and_spark(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ops.parity", "--scale", "0.002", "--months", "2024-09:2024-10", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout[result.stdout.index("mart ") :]
    marts = [line for line in table.splitlines() if line.startswith("marts.")]
    expected = len(list((ROOT / "models" / "marts").glob("*/*.sql")))  # every mart the project has
    assert len(marts) == expected, table
    assert all(line.endswith("equal") for line in marts), table
    assert f"{expected} of {expected} marts equal on DuckDB and Spark." in table
