"""Browser tests: the real app (`streamlit run app.py`) driven by Debian's headless Chromium.

One server and one Chromium per test session; every test gets fresh browser contexts
(one context = one user with their own Streamlit session). When a test fails, the text
and a screenshot of every page it opened land in test-artifacts/ and the page text and
the server log's tail are printed with the failure.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from uidriver import chromium
from tests.e2e.failure_artifacts import ARTIFACTS, keep_failure_artifacts, safe_name, run_failed
from uidriver.ui import REPO_ROOT, open_app

SERVER_START_TIMEOUT_S = 60

# Training and the first TensorFlow import take seconds: assertions wait, never sleep.
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S}s")


@pytest.fixture(scope="session")
def server_log() -> Path:
    """One log per test session (sessions may run side by side); day-old ones are removed."""
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("streamlit-server-*.log"):
        if time.time() - old.stat().st_mtime > 24 * 3600:
            old.unlink(missing_ok=True)
    return ARTIFACTS / f"streamlit-server-{os.getpid()}.log"


@pytest.fixture(scope="session")
def app_url(server_log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port, as a user would start it."""
    port = _free_port()
    # NO_COLOR: tracebacks in the kept server log stay readable as plain text.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    command = [
        str(REPO_ROOT / ".venv/bin/streamlit"), "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]
    with server_log.open("w") as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, server_log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(chromium.CHROMIUM).exists():
        pytest.fail(f"The browser tests need Debian's Chromium at {chromium.CHROMIUM}: run `make chromium`.")
    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item so fixtures can tell whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_user(
    request: pytest.FixtureRequest, browser: Browser, app_url: str, server_log: Path
) -> Iterator[Callable[[], Page]]:
    """Factory: each call is a new user (own browser context, own session) on the home page."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    for stale in ARTIFACTS.glob(f"{safe_name(request.node.name)}-user*"):
        stale.unlink(missing_ok=True)  # from an earlier failure of this test

    def make() -> Page:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        open_app(page, app_url)
        return page

    yield make

    if run_failed(request.node):
        keep_failure_artifacts(request.node.name, pages, server_log)
    for context in contexts:
        context.close()




@pytest.fixture
def page(new_user: Callable[[], Page]) -> Page:
    """One user on the home page."""
    return new_user()
