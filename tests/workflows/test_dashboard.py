"""`make dashboard` in a browser: every page draws its chart, the headline numbers equal SQL over the marts, and while
a writer holds the warehouse the page shows its last answers under a "warehouse busy" note (Playwright, chromium).

Screenshots of every page are kept under data/dashboard/ for a person to look at. Run with `make test-ui`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from dashboard.pages import PAGES
from tests.conftest import ROOT
from tests.conftest import query as read
from tests.workflows.conftest import free_port, make, output, python
from tests.workflows.test_ui import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (apt-get install -y chromium)"),
]

SCREENSHOTS = ROOT / "data" / "dashboard"
CHART = '[data-testid="stVegaLiteChart"]'
DRAWN = f"{CHART} canvas, {CHART} svg"
# Another process opens the warehouse for writing and keeps it (as a writer does), saying when it holds it.
HOLD_FOR_WRITING = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"
)
LATEST_MONTH = """
SELECT sum(trips), sum(revenue_amount)
FROM marts.agg_taxi_revenue_by_payment_day
WHERE date_trunc('month', pickup_date) = (SELECT max(date_trunc('month', pickup_date)) FROM marts.fct_taxi_trips)
"""
FACT_LATEST_MONTH = """
SELECT count(*) FROM marts.fct_taxi_trips
WHERE date_trunc('month', pickup_date) = (SELECT max(date_trunc('month', pickup_date)) FROM marts.fct_taxi_trips)
"""


@pytest.fixture
def dashboard(repository: Path, data: Path) -> Iterator[str]:
    """The dashboard started by `make dashboard` on a free port over the promoted warehouse; stopped afterwards."""
    port = free_port()
    started = make(repository, data, "dashboard", f"PORT={port}")
    assert started.returncode == 0, output(started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopped = python(repository, data, "-m", "ops.dashboard", "stop")
        assert "Stopped the dashboard" in stopped.stdout, output(stopped)


def open_page(page, name: str) -> None:
    """Chooses a page in the sidebar and waits for its chart to draw."""
    page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=False).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Streamlit replaces the previous page's elements while it reruns and Vega draws afterwards: wait (retrying) for
    # this page's chart rather than counting once, which raced the redraw.
    expect(page.locator(DRAWN).first).to_be_visible()


def test_every_page_draws_and_the_headline_equals_the_marts(dashboard: str, data: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(dashboard, wait_until="networkidle")
            for number, name in enumerate(PAGES, start=1):
                open_page(page, name)
                assert page.locator('[data-testid="stException"]').count() == 0, name
                page.screenshot(path=str(SCREENSHOTS / f"{number:02d}-{name.lower().replace(' ', '-')}.png"))
            open_page(page, "The month at a glance")
            page.locator('[data-testid="stMetricValue"]').first.wait_for()
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        finally:
            browser.close()
    trips, revenue = read(data, LATEST_MONTH)[0]
    assert read(data, FACT_LATEST_MONTH)[0][0] == trips  # the mart sums every trip of the fact
    assert values[:2] == [f"{trips:,}", f"${revenue:,.0f}"], values
    assert len(list(SCREENSHOTS.glob("*.png"))) >= len(PAGES)


def test_while_a_writer_holds_the_warehouse_the_page_shows_its_last_answers(dashboard: str, data: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(dashboard, wait_until="networkidle")
            open_page(page, "The month at a glance")
            page.locator('[data-testid="stMetricValue"]').first.wait_for()
            before = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert len(before) == 4, before
            writer = subprocess.Popen(
                [sys.executable, "-c", HOLD_FOR_WRITING, str(data / "warehouse.duckdb")],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert writer.stdout.readline().strip() == "held"
                page.reload(wait_until="networkidle")
                open_page(page, "The month at a glance")
                expect(page.get_by_text("Warehouse busy since")).to_be_visible()
                assert page.locator('[data-testid="stMetricValue"]').all_inner_texts() == before
                assert page.locator('[data-testid="stException"]').count() == 0
                page.screenshot(path=str(SCREENSHOTS / "busy.png"))
            finally:
                writer.kill()
                writer.wait()
            page.reload(wait_until="networkidle")
            open_page(page, "The month at a glance")
            expect(page.get_by_text("Warehouse busy since")).to_have_count(0)
        finally:
            browser.close()


def test_the_static_report_draws_every_chart_offline(repository: Path, data: Path) -> None:
    written = make(repository, data, "report")
    assert written.returncode == 0, output(written)
    report = data / "report" / "index.html"
    trips = read(data, LATEST_MONTH)[0][0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri(), wait_until="load")
            page.locator(".chart canvas, .chart svg").nth(len(PAGES) - 1).wait_for(timeout=TIMEOUT_MS)
            drawn = page.locator(".chart canvas, .chart svg").count()
            headline = page.locator(".metric b").first.inner_text()
            page.screenshot(path=str(SCREENSHOTS / "report.png"))
        finally:
            browser.close()
    assert drawn == len(PAGES) and headline == f"{trips:,}"
    assert [url for url in requests if not url.startswith("file:")] == []  # nothing fetched: it works offline
