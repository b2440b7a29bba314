"""What every browser test shares: Debian's Chromium driven by Playwright, a page that fails the test
on any script error or Content-Security-Policy violation, signing in, and the README's screenshots.

Loaded as a plugin by the root conftest.py, so ``browser`` and ``page`` are fixtures everywhere.
Set UPDATE_SCREENSHOTS=1 to rewrite the screenshots in docs/ from the run.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The marks of a browser test module: skipped where Chromium is missing (`make test` installs it),
# and in transactions, since the live server's thread must see the test's rows.
BROWSER_TESTS = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)"
    ),
    pytest.mark.django_db(transaction=True),
]
# Chromium must not reach for Google's services on this closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# Answers stream slowly on a busy 2-core machine; page actions and assertions wait as long.
TIMEOUT_MS = 20_000
WIDE = {"width": 1280, "height": 800}  # the screenshots' size: a laptop screen
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    """A fresh page; any Content-Security-Policy violation or script error during the test fails it."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == []


def log_in(page, live_server, username: str) -> None:
    """Sign in through the login page as a user made with conftest.make_user."""
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + reverse("conversations:list"))


def screenshot(page, name: str) -> None:
    """With UPDATE_SCREENSHOTS=1, save what the page's viewport shows as docs/screenshot-<name>.png."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(Path(settings.BASE_DIR) / "docs" / f"screenshot-{name}.png"))


def bounds(locator) -> dict:
    """Where an element is on the page (x, y, width, height in CSS pixels); it must be shown."""
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found
