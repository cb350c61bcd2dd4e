"""`make ui` in a browser: the SQLMesh UI on a free port finds a mart and shows its lineage (Playwright, chromium).

Needs chromium at /usr/bin/chromium (`apt-get install -y chromium`); run with `make test-ui` (pytest -m ui).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from ops.ui import group_members, is_alive
from tests.conftest import ROOT
from tests.workflows.conftest import free_port, make, output, python

SCREENSHOT = ROOT / "data" / "ui-lineage.png"  # kept after the run, for a person to look at

pytestmark = pytest.mark.ui

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MART = "marts.fct_taxi_trips"
UPSTREAM, DOWNSTREAM = "intermediate.int_taxi_trips_enriched", "marts.agg_taxi_demand_by_zone_hour"
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)  # the UI draws the lineage graph after its data arrives; slow on a busy CI


@pytest.fixture
def ui(repository: Path, data: Path) -> Iterator[str]:
    """The SQLMesh UI started by `make ui` on a free port against the promoted warehouse; stopped afterwards."""
    port = free_port()
    started = make(repository, data, "ui", f"PORT={port}")
    assert started.returncode == 0, output(started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        python(repository, data, "-m", "ops.ui", "stop")


def search_and_open(page, model: str) -> None:
    """Types the model's name into the catalog search and opens the hit (searching again while models load)."""
    search = page.get_by_placeholder("Search")
    # The hit whose title is the model (another model's description may mention it too).
    hit = page.get_by_role("menuitem").filter(has=page.locator(f"span[title='{model}']")).first
    for _ in range(10):
        page.wait_for_load_state("networkidle")
        search.fill("")
        search.fill(model.split(".")[-1])
        try:
            hit.wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    hit.hover()  # the list opens its active item, which follows the pointer
    page.wait_for_timeout(300)
    hit.click()


def enlarge_lineage(page) -> None:
    """Drags the split above the lineage panel up, so that the screenshot shows the graph large (best effort)."""
    header = page.get_by_text("Upstream/Downstream").first
    page.wait_for_timeout(500)
    for offset in (12, 18, 24, 30, 36):
        box = header.bounding_box()
        if box["y"] < 300:
            return
        page.mouse.move(box["x"], box["y"] - offset)
        page.mouse.down()
        page.mouse.move(box["x"], 180, steps=10)
        page.mouse.up()
        page.wait_for_timeout(200)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (apt-get install -y chromium)")
def test_ui_shows_the_lineage_of_a_mart(repository: Path, data: Path, ui: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(ui, wait_until="networkidle")
            page.locator("a[href='/data-catalog']").first.click()
            search_and_open(page, MART)
            page.wait_for_url(f"**/data-catalog/models/{MART}")
            nodes = page.locator(".react-flow__node")
            for model in (MART, UPSTREAM, DOWNSTREAM):
                expect(nodes.filter(has_text=model).first).to_be_visible()
            enlarge_lineage(page)
            page.locator(".react-flow__controls-fitview").click()
            page.wait_for_timeout(500)
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000

    # While the UI runs it holds the warehouse: a writer waits, then names it.
    blocked = make(repository, data, "plan", MOBILITY_LOCK_TIMEOUT="1")
    assert blocked.returncode != 0 and "Error 75" in blocked.stderr, output(blocked)
    assert f"the SQLMesh UI at {ui}, started by make ui" in blocked.stderr
    assert "Traceback" not in blocked.stderr


def test_ui_stop_releases_the_warehouse(repository: Path, data: Path) -> None:
    port = free_port()
    assert make(repository, data, "ui", f"PORT={port}").returncode == 0
    pid = int((data / "ui.pid").read_text().split()[0])

    stopped = make(repository, data, "ui-stop")

    assert stopped.returncode == 0, output(stopped)
    assert f"Stopped the SQLMesh UI (PID {pid})" in stopped.stdout
    assert not (data / "ui.pid").exists() and not is_alive(pid)
    writer = python(repository, data, "-m", "gateway.lock", "--", "true")
    assert writer.returncode == 0, output(writer)


def test_ui_stop_finds_a_ui_whose_lock_process_was_killed(repository: Path, data: Path) -> None:
    port = free_port()
    assert make(repository, data, "ui", f"PORT={port}").returncode == 0
    runner = int((data / "ui.pid").read_text().split()[0])
    os.kill(runner, signal.SIGKILL)  # the lock process dies alone; `sqlmesh ui` keeps the warehouse open
    while is_alive(runner):
        time.sleep(0.1)
    ui = orphan_of(runner)
    refused = make(repository, data, "ui", f"PORT={free_port()}")
    assert "left behind" in refused.stderr and str(ui) in refused.stderr, output(refused)

    stopped = make(repository, data, "ui-stop")

    assert stopped.returncode == 0, output(stopped)
    assert f"Stopped a SQLMesh UI left behind at http://127.0.0.1:{port} (PID {ui}" in stopped.stdout
    assert not is_alive(ui) and not (data / "ui.pid").exists()
    writer = python(repository, data, "-m", "gateway.lock", "--", "true")
    assert writer.returncode == 0, output(writer)


def orphan_of(runner: int) -> int:
    """The `sqlmesh ui` process the killed lock process had started (one member of its process group)."""
    members = group_members(runner)
    assert len(members) == 1, members
    return members[0]
