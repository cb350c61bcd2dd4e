"""docs/data_dictionary.md is written from the models: every mart is there with its columns and an example, and a
model change the file does not show is caught as stale."""

from __future__ import annotations

import re

import pytest

from ops import docs


@pytest.fixture(scope="module")
def dictionary() -> str:
    return docs.render()


def test_every_mart_has_its_grain_columns_and_an_example(dictionary: str) -> None:
    sections = re.split(r"^### ", dictionary, flags=re.MULTILINE)
    marts = [section for section in sections if section.startswith("marts.")]
    assert len(marts) >= 13
    for section in marts:
        name = section.splitlines()[0]
        assert "- **Grain:** one row per `" in section, name
        assert re.search(r"^\| `\w+` \| [A-Z]", section, re.MULTILINE), f"{name} lists no typed column"
        assert "**Example:**" in section and "```sql" in section, f"{name} has no example question"
    for code_table in ("seed_tlc__payment_types", "seed_tlc__rate_codes", "seed_tlc__vendors", "seed_tlc__trip_types"):
        assert f"### staging.{code_table}" in dictionary
    assert "| `reversal` |" in dictionary and "| `has_implausible_distance` |" in dictionary


def test_the_checked_in_dictionary_is_fresh_and_a_stale_one_is_caught(dictionary: str, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    assert docs.OUT.read_text() == dictionary, "docs/data_dictionary.md is stale: run `make docs`"
    stale = tmp_path / "data_dictionary.md"
    stale.write_text(dictionary.replace("stable hash of source_file and source_row", "an id"))
    monkeypatch.setattr(docs, "OUT", stale)
    monkeypatch.setattr(docs, "render", lambda: dictionary)
    assert docs.main(["--check"]) == 1
