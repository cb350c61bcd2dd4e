"""The analyst's first hour: every command of the README's analyst section runs as written in a fresh shell after
the demo, and every saved query of queries/ answers with rows on the demo warehouse."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from ops.sql import SCHEMAS
from tests.conftest import ROOT
from tests.workflows.conftest import environment, output

SECTION = "## Analysts: the first hour"
QUERIES = sorted((ROOT / "queries").glob("*.sql"))


def analyst_commands() -> list[str]:
    """The command lines of the README's analyst section (its bash blocks), as a reader would paste them."""
    text = (ROOT / "README.md").read_text()
    assert SECTION in text, f"the README lost its section '{SECTION}'"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def fresh_shell(data: Path) -> dict[str, str]:
    """A new shell's environment: no virtual environment active, nothing of .venv on PATH."""
    variables = environment(data)
    variables.pop("VIRTUAL_ENV", None)
    paths = variables.get("PATH", "").split(os.pathsep)
    variables["PATH"] = os.pathsep.join(path for path in paths if ".venv" not in path)
    return variables


def test_the_readme_has_analyst_commands() -> None:
    commands = analyst_commands()
    assert len(commands) >= 5 and any(command.startswith("make sql") or "| make sql" in command for command in commands)


@pytest.mark.parametrize("command", analyst_commands())
def test_every_readme_analyst_command_runs_as_written(command: str, repository: Path, data: Path) -> None:
    result = shell(repository, data, command)
    assert result.returncode == 0, f"{command}\n{output(result)}"
    assert "Traceback" not in result.stdout + result.stderr, f"{command}\n{output(result)}"
    assert "command not found" not in result.stderr


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_every_saved_query_answers_with_rows(query: Path, promoted: Path) -> None:
    lines = query.read_text().splitlines()
    assert lines[0].startswith("-- "), f"{query.name} starts with a comment line asking its question"
    with duckdb.connect(str(promoted / "warehouse.duckdb"), read_only=True) as connection:
        connection.execute(f"SET search_path = '{SCHEMAS['prod']}'")
        rows = connection.sql(query.read_text()).fetchall()
    assert rows, f"{query.name} returned no rows on the demo warehouse"


def dictionary_examples() -> list[tuple[str, str]]:
    """(mart, SQL) of every example question in docs/data_dictionary.md."""
    text = (ROOT / "docs" / "data_dictionary.md").read_text()
    found = []
    for section in re.split(r"^### ", text, flags=re.MULTILINE):
        sql = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
        if section.startswith("marts.") and sql:
            found.append((section.splitlines()[0], sql.group(1)))
    return found


@pytest.mark.parametrize(("mart", "sql"), dictionary_examples(), ids=[mart for mart, _ in dictionary_examples()])
def test_every_data_dictionary_example_answers_with_rows(mart: str, sql: str, promoted: Path) -> None:
    with duckdb.connect(str(promoted / "warehouse.duckdb"), read_only=True) as connection:
        rows = connection.sql(sql).fetchall()
    assert rows, f"the example of {mart} returned no rows on the demo warehouse"


def shell(repository: Path, data: Path, command: str) -> subprocess.CompletedProcess:
    """A command line run by bash in a fresh shell in the project, no input."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=repository,
        env=fresh_shell(data),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_make_query_runs_a_saved_query_and_names_the_ones_there_are(repository: Path, data: Path) -> None:
    ran = shell(repository, data, "make --no-print-directory query Q=airports")
    typo = shell(repository, data, "make --no-print-directory query Q=airprots")

    assert ran.returncode == 0 and "airport_name" in ran.stdout, output(ran)
    assert typo.returncode != 0 and "no saved query named 'airprots'" in typo.stderr, output(typo)
    assert "make query Q=airports" in typo.stderr and "Traceback" not in typo.stderr
