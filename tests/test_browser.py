"""The HTML report in a real headless Chromium: counts, filters, sorting, details, no injection.

Debian's `chromium` driven by Playwright (its own browser download is not used). Without a
`chromium` on PATH these tests skip, unless REPLAY_REQUIRE_BROWSER is set (CI), when they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, Dialog, Page, ViewportSize, expect, sync_playwright

from replay.report.html import write_report
from tests.test_html import PAYLOAD, hostile_artifact

LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


def _required() -> bool:
    return os.environ.get("REPLAY_REQUIRE_BROWSER", "") not in ("", "0")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; skipped, or failed under REPLAY_REQUIRE_BROWSER."""
    executable = shutil.which("chromium")
    if executable is None:
        reason = "no `chromium` on PATH (Debian package `chromium`)"
        if _required():
            pytest.fail(f"REPLAY_REQUIRE_BROWSER is set and there is {reason}")
        pytest.skip(f"{reason}; set REPLAY_REQUIRE_BROWSER=1 to fail instead of skipping")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@dataclass
class Opened:
    """A rendered report open in a page, with what the page did while it was open."""

    page: Page
    url: str
    artifact: dict[str, Any]
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def report(browser: Browser, tmp_path: Path) -> Iterator[Opened]:
    """The hostile artifact's report, written by `write_report` and opened from disk."""
    artifact = hostile_artifact().model_dump(mode="json")
    source = tmp_path / "run-2026-11-20T09-30-00-000Z.json"
    source.write_bytes(orjson.dumps(artifact))
    url = write_report(source).as_uri()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    opened = Opened(page, url, artifact)

    def dialog(event: Dialog) -> None:
        opened.dialogs.append(event.message)
        event.dismiss()

    page.on("dialog", dialog)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.goto(url)
    yield opened
    context.close()


def _visible_verdicts(page: Page) -> list[str]:
    verdicts: list[str] = page.eval_on_selector_all(
        "tbody.case", "bodies => bodies.filter(b => !b.hidden).map(b => b.dataset.verdict)"
    )
    return verdicts


def test_header_counts_match_the_summary(report: Opened) -> None:
    """Each verdict count the page shows is the artifact's summary count."""
    for verdict, count in report.artifact["summary"]["by_verdict"].items():
        expect(report.page.get_by_test_id(f"count-{verdict}")).to_have_text(str(count))
    expect(report.page.get_by_test_id("cases")).to_have_text(str(len(report.artifact["cases"])))
    assert report.errors == []


@pytest.mark.parametrize(
    ("name", "value", "attribute"),
    [
        pytest.param("verdict", "regressed", "verdict", id="verdict"),
        pytest.param("channel", "sms", "channel", id="channel"),
        pytest.param("change", "identical", "change", id="change-class"),
        pytest.param("codes", "unsupported_price", "codes", id="check"),
    ],
)
def test_a_filter_shows_only_its_cases(
    report: Opened, name: str, value: str, attribute: str
) -> None:
    """Choosing a filter value leaves exactly the cases that have it visible."""
    page = report.page
    page.get_by_test_id(f"filter-{name}").select_option(value)
    visible = page.eval_on_selector_all(
        "tbody.case",
        f"bodies => bodies.filter(b => !b.hidden).map(b => b.getAttribute('data-{attribute}'))",
    )
    expected = [
        case
        for case in report.artifact["cases"]
        if value
        in {
            "verdict": [case["verdict"]],
            "channel": [case["input"]["channel"]],
            "change": [(case["comparison"] or {}).get("change_class")],
            "codes": [v["code"] for v in (case["invariants"] or {}).get("new", [])],
        }[name]
    ]
    assert visible and len(visible) == len(expected)
    assert all(value in (have or "").split(" ") for have in visible)
    total = len(report.artifact["cases"])
    expect(page.get_by_test_id("shown")).to_have_text(f"{len(expected)} of {total} cases shown")


def test_verdict_filter_leaves_only_regressed_rows(report: Opened) -> None:
    """With the verdict filter on `regressed`, every visible row is regressed."""
    report.page.get_by_test_id("filter-verdict").select_option("regressed")
    assert _visible_verdicts(report.page) == ["regressed"] * 2


def test_sorting_by_similarity(report: Opened) -> None:
    """A click on the similarity header sorts ascending, a second click descending."""
    page = report.page
    read = "bodies => bodies.map(b => b.dataset.similarity).filter(s => s).map(Number)"
    page.locator("#sort-similarity").click()
    ascending = page.eval_on_selector_all("tbody.case", read)
    page.locator("#sort-similarity").click()
    descending = page.eval_on_selector_all("tbody.case", read)
    assert ascending == sorted(ascending) and len(ascending) == 8
    assert descending == sorted(ascending, reverse=True)


def test_opening_a_case_shows_diff_and_rationale(report: Opened) -> None:
    """Opening a regressed case shows its three-way diff, marked evidence and the rationale."""
    page = report.page
    case = page.locator('tbody.case[data-verdict="regressed"]').first
    expect(case.get_by_test_id("diff")).to_be_hidden()
    case.locator("button.toggle").click()
    expect(case.get_by_test_id("diff")).to_be_visible()
    expect(case.get_by_test_id("rationale")).to_be_visible()
    expect(case.get_by_test_id("rationale")).to_contain_text(PAYLOAD)
    expect(case.get_by_test_id("new").locator("ins mark")).to_have_text("$9999")
    expect(case.get_by_test_id("original").locator("del").first).to_be_visible()


def test_no_injected_script_runs_and_nothing_is_fetched(report: Opened) -> None:
    """With every case open, no payload ran, no dialog opened, and only the file was loaded."""
    page = report.page
    for button in page.locator("button.toggle").all():
        button.click()
    expect(page.get_by_test_id("inbound").first).to_contain_text(PAYLOAD)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img, iframe').length") == 0
    assert report.dialogs == []
    assert report.requests == [report.url]
    assert report.errors == []


def screenshot(browser: Browser, html: Path, png: Path) -> None:
    """Picture the report as the README shows it: 1280×900, the first regressed case open."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(html.as_uri())
        case = page.locator('tbody.case[data-verdict="regressed"]')
        if case.count() == 0:
            case = page.locator("tbody.case")
        case.first.locator("button.toggle").click()
        page.locator("#cases-title").evaluate("title => title.scrollIntoView()")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
    finally:
        page.close()


def test_screenshot_helper(browser: Browser, tmp_path: Path) -> None:
    """The README screenshot helper writes a 1280×900 PNG."""
    source = tmp_path / "run.json"
    source.write_text(hostile_artifact().model_dump_json())
    png = tmp_path / "report.png"
    screenshot(browser, write_report(source), png)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (
        1280,
        900,
    )
