"""The sandbox's HTTP side: every platform fake's send API, under one Starlette app."""

from __future__ import annotations

import importlib

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bandeja.channels.sandbox.contract import PlatformFake
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform


def fakes() -> dict[Platform, PlatformFake]:
    """Each platform's fake, found beside its connector (``channels/<platform>/fake.py``)."""
    found: dict[Platform, PlatformFake] = {}
    for platform in Platform:
        try:
            module = importlib.import_module(f"bandeja.channels.{platform.value}.fake")
        except ModuleNotFoundError:
            continue
        found[platform] = module.FAKE
    return found


def build_app(state: SandboxState) -> Starlette:
    routes: list[BaseRoute] = []
    for fake in fakes().values():
        routes.extend(fake.routes(state))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app


def sandbox_transport(state: SandboxState) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves platform API calls from an in-process sandbox (tests)."""
    return httpx.ASGITransport(app=build_app(state))
