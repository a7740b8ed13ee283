"""The dashboard in headless Chromium (Debian's `chromium`, driven by Playwright): charts
render with no console error, a filter applies, a case timeline opens, and without the
token the page is refused. The screenshot is kept under the test's tmp dir (its path is
printed)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import ConsoleMessage, async_playwright

from bot.api.app import build_web_app
from bot.config import Settings
from bot.services.domain.clock import FixedClock
from tests.conftest import SqliteTemplates
from tests.insights.test_http import TOKEN, demo_with_history

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def served(
    settings: Settings, clock: FixedClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[str]:
    """The dashboard on the demo shop and its history, on a real port."""
    assert shutil.which(CHROMIUM), "apt-get install chromium (.ci/run does)"
    deps = await demo_with_history(settings, clock, sqlite_templates)
    runner = web.AppRunner(build_web_app(deps), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
    await deps.close()


async def test_the_dashboard_in_a_browser(served: str, tmp_path: Path) -> None:
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            stranger = await browser.new_page()
            refused = await stranger.goto(f"{served}/dashboard")
            assert refused is not None
            assert refused.status == 401
            assert await stranger.inner_text("#refused") == "Not signed in"

            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.on("console", note)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            opened = await page.goto(f"{served}/dashboard?token={TOKEN}")
            assert opened is not None
            assert opened.status == 200
            assert "token=" not in page.url
            charts = page.locator("figure.chart svg")
            assert await charts.count() == 5
            assert await page.locator("figure.chart svg rect").count() >= 5
            box = await charts.first.bounding_box()
            assert box is not None
            assert 0 < box["width"] <= 390
            screenshot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            print(f"dashboard screenshot: {screenshot}")

            await page.select_option("#reason", "changed_mind")
            await page.click("#apply")
            await page.wait_for_url("**reason=changed_mind**")
            assert "changed my mind" in await page.inner_text("#filter")
            reasons = await page.locator("#recent tbody tr, #recent tr").all_inner_texts()
            assert any("changed my mind" in row for row in reasons)

            await page.locator("#recent a").first.click()
            await page.wait_for_url("**/dashboard/cases/**")
            assert (await page.inner_text("#case")).startswith("Case ")
            assert await page.locator("ol.timeline li").count() >= 2
            await page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
        finally:
            await browser.close()
    assert problems == []
