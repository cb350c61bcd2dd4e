"""SQLMesh's state in Postgres (gateway `postgres`): a real local server, an existing warehouse's state moved into it
with `make state-to-postgres`, then a review and a promotion through the gate with MOBILITY_GATEWAY=postgres.

The server is started from the image's Postgres binaries (initdb into a temporary folder, 127.0.0.1, a free port; as
the `postgres` user when the tests run as root); the test is skipped where they are not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import query as read
from tests.workflows.conftest import environment, free_port, git, make, output, python
from tests.workflows.test_review import NEW_COLUMN, PROD_VIEWS, change

pytestmark = pytest.mark.slow

POSTGRES_BIN = next(
    (Path(folder) for folder in ("/usr/lib/postgresql/15/bin", "/usr/local/bin") if (Path(folder) / "initdb").exists()),
    None,
)


def as_server_user(command: list[str]) -> list[str]:
    """Postgres refuses to run as root: the `postgres` user runs it then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture
def postgres() -> Iterator[dict[str, str]]:
    """A Postgres server of its own with an empty database `sqlmesh_state`; the gateway's variables for it."""
    if POSTGRES_BIN is None or (os.geteuid() == 0 and not _has_user("postgres")):
        pytest.skip("Postgres binaries (initdb, pg_ctl) are not installed")
    # Its own folder outside pytest's (which only root may enter), given to the server's user.
    folder, port = Path(tempfile.mkdtemp(prefix="nyc-mobility-postgres-")), str(free_port())
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres")
    run = lambda *args: subprocess.run(as_server_user(list(args)), check=True, capture_output=True, text=True)  # noqa: E731
    run(str(POSTGRES_BIN / "initdb"), "-D", str(folder / "db"), "-U", "sqlmesh", "--auth=trust", "-E", "UTF8")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(folder / "db"), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        run(str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", port, "-U", "sqlmesh", "sqlmesh_state")
        yield {"MOBILITY_STATE_HOST": "127.0.0.1", "MOBILITY_STATE_PORT": port, "MOBILITY_STATE_USER": "sqlmesh"}
    finally:
        run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(folder / "db"), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def postgres_environments(server: dict[str, str]) -> list[str]:
    """The environments the state in Postgres holds."""
    with (
        psycopg2.connect(
            host="127.0.0.1", port=server["MOBILITY_STATE_PORT"], user="sqlmesh", dbname="sqlmesh_state"
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT name FROM sqlmesh._environments ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


def state_tables_in_warehouse(data: Path) -> int:
    return read(data, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'sqlmesh'")[0][0]


def sqlmesh(clone: Path, data: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`sqlmesh ARGS` in the clone against a data folder."""
    return subprocess.run(
        [str(clone / ".venv" / "bin" / "sqlmesh"), *args],
        cwd=clone,
        env=environment(data, **extra),
        capture_output=True,
        text=True,
        timeout=900,
    )


def environments_in_warehouse(data: Path) -> int:
    if not state_tables_in_warehouse(data):
        return 0
    return read(data, "SELECT count(*) FROM sqlmesh._environments")[0][0]


def test_state_in_postgres_reviews_and_promotes_prod_as_it_is(
    clone: Path, data: Path, tmp_path: Path, postgres: dict[str, str]
) -> None:
    views = read(data, PROD_VIEWS)
    assert state_tables_in_warehouse(data) > 0

    moved = make(clone, data, "state-to-postgres", **postgres)

    assert moved.returncode == 0, output(moved)
    assert "the same on both sides" in moved.stdout, output(moved)
    assert postgres_environments(postgres) == ["dev", "prod"]
    assert state_tables_in_warehouse(data) == 0 and (data / "state-export.json").exists()
    gateway = {**postgres, "MOBILITY_GATEWAY": "postgres"}

    # The state in the file is gone: a command that forgets the gateway is refused before it changes anything.
    forgot = make(clone, data, "plan", **postgres)
    assert forgot.returncode != 0 and "Run it again with MOBILITY_GATEWAY=postgres" in forgot.stdout + forgot.stderr
    assert read(data, PROD_VIEWS) == views

    # A review against the Postgres state sees prod as it is: one model changed, nothing to initialize.
    change(clone, *NEW_COLUMN)
    review = make(clone, data, "diff", "BASE=main", **gateway)
    assert review.returncode == 0, output(review)
    assert "marts.dim_date" in review.stdout and "initialized" not in review.stdout + review.stderr, output(review)
    assert "marts.fct_taxi_trips" not in review.stdout, output(review)  # unchanged, so not in the review
    assert read(data, PROD_VIEWS) == views

    # The CI review works on a copy of the warehouse with a copy of the state: Postgres never hears of pr_7.
    copy = tmp_path / "review"
    copied = python(clone, data, "-m", "ops.review", "--out", str(copy), **gateway)
    assert copied.returncode == 0 and "copied the state from Postgres" in copied.stdout, output(copied)
    on_copy = {"MOBILITY_GATEWAY": "local"}
    built = sqlmesh(clone, copy, "plan", "pr_7", "--auto-apply", "--no-prompts", **on_copy)
    assert built.returncode == 0, output(built)
    assert read(copy, "SELECT day_of_year FROM marts__pr_7.dim_date WHERE calendar_date = DATE '2024-02-01'") == [(32,)]
    assert postgres_environments(postgres) == ["dev", "prod"]

    # The change goes through the gate and prod serves it; the state stays in Postgres.
    git(clone, "checkout", "--quiet", "main")
    git(clone, "merge", "--quiet", "--ff-only", "feature")
    promoted = make(clone, data, "promote", "ENV=dev", **gateway)
    assert promoted.returncode == 0 and "PROMOTED" in promoted.stdout, output(promoted)
    assert read(data, "SELECT day_of_year FROM marts.dim_date WHERE calendar_date = DATE '2024-02-01'") == [(32,)]
    assert environments_in_warehouse(data) == 0  # (the refused command left an empty state there, nothing more)
    assert "prod" in postgres_environments(postgres)


def test_the_move_refuses_a_warehouse_without_prod(tmp_path: Path, clone: Path, postgres: dict[str, str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    moved = make(clone, empty, "state-to-postgres", **postgres)
    assert moved.returncode != 0 and f"No warehouse at {empty}" in moved.stderr, output(moved)
