"""Headless Chromium for the tests that open pages: where it is, its flags, and a launch through Playwright."""

from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
"""Debian's package (.ci/run installs it)."""
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def launched():
    """A headless Chromium (Playwright's browser object), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
