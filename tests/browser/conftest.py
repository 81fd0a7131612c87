"""Browser tests: a real Bandeja server (uvicorn on 127.0.0.1, its own SQLite database holding
the demo workspace, send workers talking to an in-process sandbox) driven by headless Chromium
through Playwright.

Fixtures: ``base_url``, ``sandbox`` (the sandbox's state: inject send failures), ``browser``,
``page`` (1366x768), ``login(page, email, password)`` and ``screenshot(page, name)`` (PNG files
in ``test-artifacts/``, which git ignores).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import select

from bandeja.channels.config import channel_config
from bandeja.channels.sandbox.app import TEST_SANDBOX_URL, sandbox_transport
from bandeja.channels.sandbox.app import fakes as sandbox_fakes
from bandeja.channels.sandbox.contract import SandboxChannel, SimMessage, SimPerson
from bandeja.channels.sandbox.state import SandboxState
from bandeja.config import Settings
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.security import SecretBox
from bandeja.demo.loader import load_demo
from bandeja.jobs.runner import Workers
from bandeja.storage.engine import create_engine, session_factory
from bandeja.storage.migrate import upgrade
from bandeja.web.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60.0
# Playwright's waits (clicks, expect): generous on a busy 2-core machine, still bounded.
WAIT_MS = 15_000

OWNER = ("olivia@cafe-aurora.example", "demo-owner-pass")
LUCIA = ("lucia@cafe-aurora.example", "demo-lucia-pass")  # agent, Spanish
GIULIA = ("giulia@cafe-aurora.example", "demo-giulia-pass")  # agent, Italian


@dataclass
class Server:
    base_url: str
    sandbox: SandboxState
    settings: Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(settings: Settings, state: SandboxState) -> None:
    """Migrate, load the demo (channels sending through the sandbox), and introduce its
    channel accounts to the sandbox, which then answers their sends."""
    engine = create_engine(settings.effective_database_url)
    try:
        await upgrade(engine)
        box = SecretBox(settings.resolved_secret_key())
        async with session_factory(engine)() as session:
            await load_demo(session, box=box, sandbox_base_url=TEST_SANDBOX_URL)
            await session.commit()
            for channel in (await session.execute(select(ChannelAccount))).scalars():
                cfg = channel_config(channel, box)
                state.add_channel(
                    SandboxChannel(
                        bandeja_id=channel.id,
                        platform=channel.platform,
                        external_id=channel.external_id,
                        name=channel.name,
                        secrets=dict(cfg.secrets),
                        webhook_url=settings.webhook_url(channel.platform.value, channel.id),
                    )
                )
    finally:
        await engine.dispose()


def _serve(server: uvicorn.Server, settings: Settings, state: SandboxState) -> None:
    async def main() -> None:
        engine = create_engine(settings.effective_database_url)
        app = create_app(settings, engine=engine, background=False)
        server.config.app = app
        workers = Workers(
            app.state.sessions, app.state.secret_box, transport=sandbox_transport(state)
        )
        workers.start()
        app.state.workers = workers
        try:
            await server.serve()
        finally:
            await workers.stop()
            await engine.dispose()

    asyncio.run(main())


_CUSTOMERS = itertools.count(1)


async def _placeholder_app(scope: object, receive: object, send: object) -> None:
    raise RuntimeError("replaced by the real app before the server starts")


@pytest.fixture(scope="package")
def server() -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix="bandeja-browser-"))
    port = _free_port()
    settings = Settings(
        env="test",
        data_dir=data,
        secret_key="browser-tests-secret-key-0123456789abcdef",
        database_url=f"sqlite+aiosqlite:///{data / 'bandeja.db'}",
        port=port,
        # Short, so that the presence test sees an entry expire quickly (heartbeats: ttl / 3).
        presence_ttl_s=8.0,
    )
    state = SandboxState()
    # In a thread of its own: the test session may already run an event loop in this one.
    preparing = threading.Thread(target=asyncio.run, args=(_prepare(settings, state),))
    preparing.start()
    preparing.join()
    # The app is built in the server's own thread and event loop (see _serve).
    config = uvicorn.Config(
        app=_placeholder_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=_serve, args=(uv, settings, state), daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Server(base_url=f"http://127.0.0.1:{port}", sandbox=state, settings=settings)
    uv.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="package")
def base_url(server: Server) -> str:
    return server.base_url


@pytest.fixture(scope="package")
def sandbox(server: Server) -> SandboxState:
    return server.sandbox


@pytest.fixture
def customer_writes(server: Server) -> Callable[..., str]:
    """A new customer writes a DM to the first channel account of ``platform``, delivered as
    the platform would (signed webhook to the server); returns the customer's name. Replies to
    them go through, since the sandbox knows them (demo customers only exist in the database)."""
    fakes = sandbox_fakes()

    def write(platform: Platform, text: str, name: str | None = None) -> str:
        sent = next(_CUSTOMERS)  # a new person every time, across the whole session
        channel = next(c for c in server.sandbox.channels.values() if c.platform is platform)
        person = SimPerson(
            id=str(7_000_000_000 + sent)
            if platform is not Platform.whatsapp
            else f"3934{sent:08d}",
            name=name or f"Test Customer {sent}",
            handle=f"test.customer{sent}",
            language="en",
        )
        server.sandbox.add_person(platform, person)
        now = datetime.now(UTC)
        server.sandbox.wrote(channel, person.id, now)
        event = SimMessage(
            person=person,
            message_id=server.sandbox.new_id(f"sbx-{platform.value}-in"),
            text=text,
            at=now,
        )
        with httpx.Client(timeout=10) as client:
            for delivery in fakes[platform].deliveries(channel, event):
                r = client.post(delivery.url, headers=delivery.headers, content=delivery.body)
                assert r.status_code < 300, r.text
        return person.name

    return write


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    """Package-scoped, not session-scoped: while Playwright's sync API is open, its event loop
    counts as running in this thread, and the async tests that follow could not run theirs."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def new_context(browser: Browser, base_url: str) -> BrowserContext:
    """A browser of its own (cookies, storage): one agent, at 1366x768, in Madrid."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 1366, "height": 768},
        locale="en-US",
        timezone_id="Europe/Madrid",
    )
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = new_context(browser, base_url)
    expect.set_options(timeout=WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login() -> Callable[[Page, str, str], None]:
    def log_in(page: Page, email: str, password: str) -> None:
        page.goto("/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        page.locator("form.login-card button[type=submit]").click()
        page.wait_for_url("**/inbox**")
        expect(page.locator("#rows")).to_be_visible()

    return log_in


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take
