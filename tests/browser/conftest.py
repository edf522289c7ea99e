"""Browser fixtures: a live server on 127.0.0.1 and Debian's chromium through Playwright.

No browser is ever downloaded: Playwright drives /usr/bin/chromium (QINGYUAN_CHROMIUM to
override). Screenshots go to test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from qingyuan.parts import connected
from qingyuan.platform import accounts
from qingyuan.platform.crypto import cipher_for
from qingyuan.platform.models import Role
from qingyuan.settings import Settings, load_settings
from qingyuan.web.app import create_app
from tests.conftest import TEST_ENV, free_port, install_migrated

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHONE_VIEWPORT = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("QINGYUAN_CHROMIUM") or shutil.which("chromium") or ""
    if not path:
        message = "Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


PASSWORD = "browser-test-2026"
ACCOUNTS = {  # role → (phone, display name), created before the server starts
    Role.MEMBER: ("13600000001", "小青"),
    Role.MATCHMAKER: ("13600000002", "红娘李姐"),
    Role.ADMIN: ("13600000003", "团委小王"),
}


@dataclass
class LiveServer:
    url: str
    settings: Settings


async def _seed(settings: Settings) -> None:
    cipher = cipher_for(settings)
    async with connected(settings):
        for role, (phone, name) in ACCOUNTS.items():
            await accounts.create_user(
                cipher, phone=phone, password=PASSWORD, role=role, display_name=name
            )


def browser_settings(data_dir: Path) -> Settings:
    """Settings of one browser module: its own data dir and its own in-memory Redis."""
    return load_settings(
        {
            "QINGYUAN_DATA_DIR": str(data_dir),
            **TEST_ENV,
            "QINGYUAN_REDIS_URL": f"memory://browser-{uuid.uuid4().hex}",
            "QINGYUAN_RATE_REGISTRATION_IP": "1000/3600",  # every test registers from 127.0.0.1
        },
        env_file=None,
    )


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """uvicorn in a thread on a free port (the embedded worker runs inside); yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = browser_settings(tmp_path_factory.mktemp("browser") / "var")
    install_migrated(settings)
    asyncio.run(_seed(settings))
    with serve(settings) as url:
        yield LiveServer(url, settings)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_phone(browser):
    """A fresh phone-sized browser context per call (separate cookies, like separate people)."""
    contexts = []

    def open_page(locale: str = "zh-CN"):
        context = browser.new_context(
            viewport=PHONE_VIEWPORT,
            device_scale_factor=2,
            locale=locale,
            is_mobile=True,
            has_touch=True,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page) -> None:
    """axe-core (bundled with axe-playwright-python): no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}" for v in bad
    )
