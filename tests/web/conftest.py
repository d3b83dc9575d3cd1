"""Fixtures of the web tests: the app on the seeds index, and real servers in subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def app(seed_index):
    from web import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(seed_index)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def live_server(seed_index, tmp_path_factory) -> Iterator:
    """The seeds index served by ``renkei serve`` with its default server."""
    live = start_server(seed_index, tmp_path_factory.mktemp("serve") / "server.log")
    yield live
    stop_server(live)


@pytest.fixture(scope="session", params=["granian", "gunicorn", "waitress"])
def each_server(request, seed_index, tmp_path_factory) -> Iterator:
    """The seeds index served by each of the three servers in turn."""
    live = start_server(seed_index, tmp_path_factory.mktemp("serve") / "server.log", server=request.param)
    yield live
    stop_server(live)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; browser tests skip only if it is absent."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
