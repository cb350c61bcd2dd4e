"""Paths are data, never code: every target takes a data folder and a mirror whose names hold spaces and accents,
and `make clean` deletes exactly the data folder the project created, nothing beside it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import copy_project
from tests.workflows.conftest import make, output

MONTH = "2024-09"


def test_every_target_takes_paths_with_spaces_and_accents(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "data").mkdir()
    (project / "data" / "keep.txt").write_text("the project's own ./data is not the data folder here")
    parent = tmp_path / "New York"
    data = parent / "mobility data – Queens ü"  # a space-split path would hit the sibling "mobility" and ./data
    sibling = parent / "mobility"
    sibling.mkdir(parents=True)
    (sibling / "keep.txt").write_text("a neighbour")

    demo = make(project, data, "demo", f"MONTHS={MONTH}", timeout=900)
    assert demo.returncode == 0 and "PROMOTED" in demo.stdout, output(demo)
    for target in ("check ENV=prod", f"restate MONTH={MONTH}", f"run MONTHS={MONTH} MIRROR={data / 'mirror'}"):
        result = make(project, data, *target.split(" ", 2))
        assert result.returncode == 0, f"make {target}\n{output(result)}"

    cleaned = make(project, data, "clean")

    assert cleaned.returncode == 0 and f"Deleted {data}" in cleaned.stdout, output(cleaned)
    assert not data.exists()
    assert (sibling / "keep.txt").exists() and (project / "data" / "keep.txt").exists()


def test_clean_refuses_a_folder_the_project_did_not_create(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    theirs = tmp_path / "someone's files"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")

    refused = make(project, theirs, "clean")
    inside = make(project, tmp_path, "clean")  # a folder that holds the project

    assert refused.returncode != 0 and "did not create it" in refused.stderr, output(refused)
    assert (theirs / "thesis.tex").exists()
    assert inside.returncode != 0 and "contains the project itself" in inside.stderr, output(inside)
    assert (project / "Makefile").exists()
