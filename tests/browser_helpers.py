"""Shared pieces of the headless-Chromium journeys: where Chromium is, how it starts, the two
screen sizes, signing in, and the screenshots a failing journey leaves in test-artifacts/."""

import os
import re
import shutil
import warnings
from pathlib import Path

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("COMMUNITAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def sign_in(page, live_server, email, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def screenshot_open_pages(test_name: str, contexts) -> list[Path]:
    """A full-page PNG of every page still open in ``contexts``, named after the test, the
    context (in the order the test opened them) and the page; earlier PNGs of the test go first."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{stem}--*.png"):
        old.unlink()
    saved = []
    for c, context in enumerate(contexts, start=1):
        for p, page in enumerate(context.pages, start=1):
            path = ARTIFACTS / f"{stem}--context{c}-page{p}.png"
            try:
                page.screenshot(path=str(path), full_page=True, timeout=TIMEOUT_MS)
            except Exception as exc:  # a crashed or closing page must not hide the test's own failure
                warnings.warn(f"no screenshot of {page.url}: {exc}", stacklevel=2)
            else:
                saved.append(path)
                print(f"screenshot of {page.url}: {path}")
    return saved
