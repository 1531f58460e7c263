"""The planner's page in a real headless Chromium (Debian's, driven by Playwright), offline.

One `netsim ui` server and one browser page for the module; the tests run in order on
that page, as a planner would use it. Every request that would leave the machine is
aborted and counted (the count must stay 0), and the server must never have tried to
fetch anything either. The figures (page ready, step redrawn) are printed, not asserted.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from netsim.i18n import text

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/|^(data|blob|about):")
FIGURES: dict[str, str] = {}
# A busy machine (a CI runner, other work) can take seconds over a first step; the tests
# check what the page shows, not how fast (the figures are printed, not asserted).
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`netsim ui` on a free port, over the baseline, an alternative and a scenario that fails validation."""
    folder = tmp_path_factory.mktemp("scenarios")
    for name in ("baseline", "forums_only"):  # each inherits the shipped file of its name
        (folder / f"{name}.toml").write_text(f'name = "{name}"\nquestion = "The shipped {name}."\n'
                                             f'base = "{PROJECT / "scenarios" / name}.toml"\n')
    (folder / "broken.toml").write_text('name = "broken"\nquestion = "A plan with no sense."\n'
                                        "[forum]\ninterval = 99\n")
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    # a server that tried to reach the internet would find this dead proxy (and log it)
    env = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": "127.0.0.1,localhost"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "netsim.cli", "ui", "--port", str(port),
                                 "--scenarios", str(folder)], cwd=PROJECT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 180:
                proc.kill()
                pytest.fail(f"netsim ui did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.3)
    FIGURES["server answering after start"] = f"{time.perf_counter() - start:.1f} s"
    yield url, log
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser_page(server, tmp_path_factory):
    url, _ = server
    shots = Path(os.environ.get("NETSIM_UI_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-GB")
        page.left_machine = []
        page.console_errors = []
        page.shots = shots

        def guard(route):
            if LOCAL.match(route.request.url):
                route.continue_()
            else:
                page.left_machine.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
        start = time.perf_counter()
        page.goto(url)
        page.locator(".netsim-network").wait_for(timeout=60_000)
        FIGURES["page ready after the server answered"] = f"{time.perf_counter() - start:.2f} s"
        yield page
        browser.close()
    print("\nplanner's page figures: " + "; ".join(f"{k}: {v}" for k, v in FIGURES.items()))
    print(f"screenshots in {shots}")


def _month(page) -> str:
    return page.locator(".netsim-month").inner_text()


def test_page_loads_with_the_baseline_and_nothing_leaves_the_machine(browser_page):
    page = browser_page
    expect(page.locator(".netsim-title")).to_have_text(text("ui.title", "en"))
    expect(page.locator(".netsim-month")).to_have_text(text("ui.month_of", "en", month=0, months=36))
    assert page.locator(".netsim-network circle, .netsim-network rect").count() > 50
    assert page.get_by_text("runs on Solara").count() == 0  # no banner over the charts
    assert page.left_machine == []


def test_step_advances_the_month_and_redraws_the_network(browser_page):
    page = browser_page
    box = page.locator(".netsim-network-box")
    before = box.screenshot(path=str(page.shots / "network-month0-en.png"))
    times = []
    for month in range(1, 9):
        start = time.perf_counter()
        page.locator(".netsim-step").click()
        expect(page.locator(".netsim-month")).to_have_text(text("ui.month_of", "en", month=month, months=36))
        times.append(1000 * (time.perf_counter() - start))
    after = box.screenshot(path=str(page.shots / "network-month8-en.png"))
    assert before != after
    FIGURES["step redrawn (click to new month shown), median of 8"] = \
        f"{statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f})"
    page.screenshot(path=str(page.shots / "page-en.png"), full_page=True)


def test_reset_returns_to_month_0(browser_page):
    page = browser_page
    page.locator(".netsim-reset").click()
    expect(page.locator(".netsim-month")).to_have_text(text("ui.month_of", "en", month=0, months=36))


def test_a_control_changes_the_models_parameter(browser_page):
    page = browser_page
    thumb = page.locator(".netsim-control-forum-interval [role=slider]")
    thumb.focus()
    thumb.press("ArrowLeft")
    thumb.press("ArrowLeft")
    expect(page.locator(".netsim-run-plan")).to_contain_text("Exchange forum every: 2 months")
    page.locator(".netsim-back").click()
    expect(page.locator(".netsim-run-plan")).to_contain_text("Exchange forum every: 4 months")


def test_switching_to_thai_shows_thai_labels(browser_page):
    page = browser_page
    page.locator(".netsim-lang-th").click()
    expect(page.locator(".netsim-step")).to_contain_text(text("ui.step", "th"))
    expect(page.locator(".netsim-title")).to_have_text(text("ui.title", "th"))
    expect(page.locator(".netsim-run-plan")).to_contain_text(text("param.forum.interval.label", "th"))
    for _ in range(8):
        page.locator(".netsim-step").click()
    expect(page.locator(".netsim-month")).to_have_text(text("ui.month_of", "th", month=8, months=36))
    page.screenshot(path=str(page.shots / "page-th.png"), full_page=True)
    page.locator(".netsim-lang-en").click()
    expect(page.locator(".netsim-step")).to_contain_text(text("ui.step", "en"))


def test_compare_view_finishes_and_shows_both_plans(browser_page):
    page = browser_page
    page.locator(".netsim-compare-start").click()
    verdict = page.locator(".netsim-verdict")
    expect(verdict).to_contain_text("% of runs", timeout=90_000)
    expect(verdict).to_contain_text("Your plan leads to a structured network in")
    expect(verdict).to_contain_text("the baseline in")
    charts = page.locator(".netsim-compare")
    expect(charts.nth(1)).to_be_attached()  # at least two charts; they may arrive just after the verdict
    expect(charts.first).to_contain_text("the baseline")
    expect(charts.first).to_contain_text("your plan")
    page.locator(".netsim-compare-charts").scroll_into_view_if_needed()
    page.screenshot(path=str(page.shots / "compare-en.png"))


def test_a_scenario_that_fails_validation_shows_its_message(browser_page):
    page = browser_page
    page.locator(".netsim-scenario").click()
    page.get_by_role("option", name="broken").click()
    problem = page.locator(".netsim-problem")
    expect(problem).to_contain_text("broken.toml: key 'forum.interval': 99 is outside the allowed range")
    page.locator(".netsim-scenario").click()
    page.get_by_role("option", name="forums_only").click()
    expect(problem).to_have_count(0)
    expect(page.locator(".netsim-month")).to_have_text(text("ui.month_of", "en", month=0, months=36))


def test_nothing_was_fetched_from_outside_by_the_browser_or_the_server(browser_page, server):
    _, log = server
    assert browser_page.left_machine == []
    assert browser_page.console_errors == []
    served = log.read_text()
    assert "Could not load URL" not in served and "Traceback" not in served
