"""The scheduled run on the spark gateway: `make demo GATEWAY=spark` on an empty data folder, then `make run
GATEWAY=spark` takes the next month into prod through the checks, keeps a month that fails them out of prod, and a
run killed mid-way leaves prod as it was (ops/candidate.py: Spark's folders put aside, put back).

Marked `spark` (make test-spark): about ten minutes on two cores. Skipped where no Java runtime is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_SCALE, needs_spark
from tests.workflows.conftest import make, output, python

pytestmark = [pytest.mark.spark, needs_spark]

SPARK = {"GATEWAY": "spark"}
COUNTS = """
import json
from gateway.spark import SparkReader
with SparkReader() as spark:
    rows = spark.execute(
        "SELECT strftime(pickup_date, '%Y-%m') AS month, count(*), round(sum(total_amount), 2) "
        "FROM marts.fct_taxi_trips GROUP BY 1"
    ).fetchall()
print(json.dumps({month: [trips, float(amount)] for month, trips, amount in rows}))
"""


def sample(out: Path, months: str, scale: str) -> Path:
    """A sample mirror of `months` at `scale`."""
    command = [sys.executable, "-m", "ingest.sample", "--months", months, "--scale", scale, "--out", str(out)]
    subprocess.run(command, cwd=Path(__file__).resolve().parents[2], check=True, capture_output=True)
    return out


def taxi_by_month(repository: Path, data: Path) -> dict[str, list]:
    """Prod's taxi trips and their total amount per month on Spark, read as a consumer would (a Spark session of
    its own)."""
    result = python(repository, data, "-c", COUNTS, MOBILITY_GATEWAY="spark")
    assert result.returncode == 0, output(result)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, repository: Path) -> Path:
    """`make demo GATEWAY=spark` of 2024-09 on an empty data folder: ends PROMOTED."""
    data = tmp_path_factory.mktemp("spark-run") / "data"
    result = make(repository, data, "demo", "MONTHS=2024-09", f"SCALE={SAMPLE_SCALE}", timeout=1500, **SPARK)
    assert result.returncode == 0, output(result)
    assert "PROMOTED to prod" in result.stdout, output(result)
    return data


def test_run_takes_a_month_through_the_checks_and_keeps_a_failing_one_out(
    demo: Path, repository: Path, tmp_path: Path
) -> None:
    before = taxi_by_month(repository, demo)
    assert set(before) == {"2024-09"}

    # A partial publication (85% of the month missing) fails the raw volume check: prod stays as it was.
    shrunken = sample(tmp_path / "shrunken", "2024-10", f"{float(SAMPLE_SCALE) * 0.15:g}")
    refused = make(repository, demo, "run", f"MIRROR={shrunken}", timeout=1500, **SPARK)
    assert refused.returncode != 0, output(refused)
    assert "NOT RUN: the checks failed on 2024-10" in refused.stdout, output(refused)
    assert taxi_by_month(repository, demo) == before
    assert not list(demo.glob("spark-before-*")) and not (demo / "spark" / ".candidate").exists()

    # Nor can the landed month reach prod around the gate: a bare `sqlmesh run` is refused, naming it.
    bare = python(repository, demo, "-m", "gateway.lock", "--", str(repository / ".venv/bin/sqlmesh"), "run",
                  MOBILITY_GATEWAY="spark")  # fmt: skip
    assert bare.returncode != 0, output(bare)
    assert "raw_tlc.yellow_trips 2024-10" in bare.stdout + bare.stderr, output(bare)

    # The month as published in full replaces the partial one (a re-landed month: restated through the checks) and
    # reaches prod; September is untouched.
    full = sample(tmp_path / "full", "2024-10", SAMPLE_SCALE)
    ran = make(repository, demo, "run", f"MIRROR={full}", "MONTHS=2024-10", timeout=1500, **SPARK)
    assert ran.returncode == 0, output(ran)
    assert "RESTATED 2024-10 in prod (checks passed)" in ran.stdout, output(ran)
    after = taxi_by_month(repository, demo)
    assert after["2024-09"] == before["2024-09"] and after["2024-10"][0] > 0
    assert not list(demo.glob("spark-before-*"))


KILLED_RUN = """
import os, shutil
import gateway
from ops.candidate import SparkCandidate
SparkCandidate("run")
shutil.rmtree(gateway.spark_dir() / "warehouse")  # what a run cut short may leave: tables half rewritten
os._exit(9)
"""


def test_a_run_killed_mid_way_is_put_back_by_the_next_command(demo: Path, repository: Path) -> None:
    before = taxi_by_month(repository, demo)

    killed = python(repository, demo, "-c", KILLED_RUN, MOBILITY_GATEWAY="spark")
    assert killed.returncode == 9, output(killed)
    assert (demo / "spark-before-run" / "spark").is_dir() and not (demo / "spark" / "warehouse").exists()

    check = make(repository, demo, "check", "ENV=prod", timeout=900, **SPARK)

    assert check.returncode == 0, output(check)
    assert "put back the copy taken before it: prod is as it was before that command" in check.stdout, output(check)
    assert taxi_by_month(repository, demo) == before
    assert not (demo / "spark-before-run").exists() and not (demo / "spark" / ".candidate").exists()


def test_a_relanded_month_is_restated_through_the_checks(demo: Path, repository: Path, tmp_path: Path) -> None:
    before = taxi_by_month(repository, demo)
    republished = tmp_path / "republished"  # the same month drawn again: other trips, the same volume
    subprocess.run(
        [sys.executable, "-m", "ingest.sample", "--months", "2024-09", "--scale", SAMPLE_SCALE, "--seed", "7",
         "--out", str(republished)],
        cwd=repository, check=True, capture_output=True,
    )  # fmt: skip

    landed = make(repository, demo, "ingest", "MONTHS=2024-09", f"MIRROR={republished}", timeout=1500, **SPARK)

    assert landed.returncode == 0, output(landed)
    assert "RESTATED 2024-09 in prod (checks passed)" in landed.stdout, output(landed)
    after = taxi_by_month(repository, demo)
    assert after["2024-09"] != before["2024-09"]  # prod shows the republished trips
    assert {month: after[month] for month in before if month != "2024-09"} == {
        month: trips for month, trips in before.items() if month != "2024-09"
    }
    assert not list(demo.glob("spark-before-*")) and not (demo / "spark" / ".candidate").exists()
