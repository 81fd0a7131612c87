"""The sandbox's HTTP side: every platform fake's send API, under one Starlette app."""

from __future__ import annotations

import importlib
import logging

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from bandeja.channels.sandbox.contract import PlatformFake
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform

log = logging.getLogger(__name__)


def fakes() -> dict[Platform, PlatformFake]:
    """Each platform's fake, found beside its connector (``channels/<platform>/fake.py``).
    One that cannot be imported is left out (and logged): the others still play."""
    found: dict[Platform, PlatformFake] = {}
    for platform in Platform:
        try:
            module = importlib.import_module(f"bandeja.channels.{platform.value}.fake")
            found[platform] = module.FAKE
        except Exception:
            log.exception("the %s sandbox fake cannot be loaded", platform.value)
    return found


def api_base_url(sandbox_url: str, platform: Platform) -> str:
    """A channel account's ``api_base_url`` when the sandbox plays its platform: each platform's
    API is served under its own prefix (Graph API paths of Messenger, Instagram and WhatsApp
    would otherwise collide)."""
    return f"{sandbox_url.rstrip('/')}/{platform.value}"


def build_app(state: SandboxState) -> Starlette:
    routes: list[BaseRoute] = [
        Mount(f"/{platform.value}", routes=fake.routes(state)) for platform, fake in fakes().items()
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app


TEST_SANDBOX_URL = "http://sandbox"


def sandbox_transport(state: SandboxState) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves platform API calls from an in-process sandbox (tests):
    point a channel account at it with ``api_base_url(TEST_SANDBOX_URL, platform)``."""
    return httpx.ASGITransport(app=build_app(state))
