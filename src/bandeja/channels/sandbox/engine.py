"""The sandbox engine: channels, simulated traffic, webhook delivery and the platform APIs,
wired together. ``bandeja sandbox`` runs it as a server; tests drive it directly."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bandeja.channels.sandbox.app import build_app, fakes
from bandeja.channels.sandbox.contract import SandboxChannel, SentRecord, SimEvent
from bandeja.channels.sandbox.delivery import Deliverer
from bandeja.channels.sandbox.state import SandboxState
from bandeja.channels.sandbox.traffic import Traffic
from bandeja.core.channels.models import Platform

log = logging.getLogger(__name__)

MAX_RATE_PER_MIN = 6000.0


class Sandbox:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        rate_per_min: float = 6.0,
        duplicate_rate: float = 0.1,
        max_delay_s: float = 0.5,
        seed: int | None = None,
        state: SandboxState | None = None,
    ) -> None:
        if not 0 <= rate_per_min <= MAX_RATE_PER_MIN:
            raise ValueError(f"rate must be between 0 and {MAX_RATE_PER_MIN:g} per minute")
        if not 0 <= duplicate_rate <= 1:
            raise ValueError("duplicate rate must be between 0 and 1")
        self.rng = random.Random(seed)
        self.state = state or SandboxState()
        self.fakes = fakes()
        self.deliverer = Deliverer(
            client, duplicate_rate=duplicate_rate, max_delay_s=max_delay_s, rng=self.rng
        )
        self.traffic = Traffic(self.state, self.rng)
        self.rate_per_min = rate_per_min
        self.generated = 0
        self.state.on_send = self._after_send

    def add_channel(self, channel: SandboxChannel) -> None:
        if channel.platform not in self.fakes:
            raise ValueError(f"the sandbox has no {channel.platform.value} fake")
        self.state.add_channel(channel)
        self.traffic.people(channel)

    def emit(self, channel: SandboxChannel, event: SimEvent) -> int:
        """Deliver ``event`` to Bandeja as ``channel``'s platform would; returns the requests."""
        deliveries = self.fakes[channel.platform].deliveries(channel, event)
        for delivery in deliveries:
            self.deliverer.enqueue(delivery)
        return len(deliveries)

    def _after_send(self, channel: SandboxChannel, record: SentRecord) -> None:
        for event in self.fakes[channel.platform].echoes(channel, record):
            self.emit(channel, event)

    def tick(self) -> None:
        """One simulated customer action on a random channel."""
        channels = list(self.state.channels.values())
        if channels:
            channel = self.rng.choice(channels)
            self.emit(channel, self.traffic.next_event(channel))
            self.generated += 1

    async def run_traffic(self) -> None:
        while True:
            if self.rate_per_min <= 0:
                await asyncio.sleep(1.0)
                continue
            self.tick()
            # Poisson arrivals: exponential gaps around the configured rate.
            await asyncio.sleep(self.rng.expovariate(self.rate_per_min / 60.0))

    def status(self) -> dict[str, Any]:
        return {
            "channels": [
                {
                    "bandeja_id": c.bandeja_id,
                    "platform": c.platform.value,
                    "name": c.name,
                    "external_id": c.external_id,
                    "webhook_url": c.webhook_url,
                }
                for c in self.state.channels.values()
            ],
            "rate_per_min": self.rate_per_min,
            "generated": self.generated,
            "deliveries": dataclasses.asdict(self.deliverer.stats),
            "pending_deliveries": self.deliverer.pending,
            "sent": len(self.state.sent),
        }

    def app(self) -> Starlette:
        """The platform APIs plus a small control API under ``/_sandbox``."""
        app = build_app(self.state)

        async def status(_request: Request) -> JSONResponse:
            return JSONResponse(self.status())

        async def sent(_request: Request) -> JSONResponse:
            return JSONResponse(
                [
                    {**dataclasses.asdict(r), "platform": r.platform.value, "at": r.at.isoformat()}
                    for r in self.state.sent[-500:]
                ]
            )

        async def fail(request: Request) -> JSONResponse:
            """Make the next sends on a platform fail: {"platform", "status", "body", "times"}."""
            try:
                spec = await request.json()
                platform = Platform(spec["platform"])
                status_code = int(spec.get("status", 500))
                times = int(spec.get("times", 1))
                body = dict(spec.get("body") or {"error": {"message": "injected failure"}})
                headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"bad failure spec: {exc}"}, status_code=400)
            if not 1 <= times <= 1000 or not 400 <= status_code <= 599:
                return JSONResponse({"error": "times 1..1000, status 400..599"}, status_code=400)
            self.state.inject_failure(platform, status_code, body, headers, times=times)
            return JSONResponse({"ok": True})

        async def rate(request: Request) -> JSONResponse:
            try:
                value = float((await request.json())["per_minute"])
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": 'send {"per_minute": N}'}, status_code=400)
            if not 0 <= value <= MAX_RATE_PER_MIN:
                return JSONResponse({"error": f"0..{MAX_RATE_PER_MIN:g}"}, status_code=400)
            self.rate_per_min = value
            return JSONResponse({"ok": True, "per_minute": value})

        app.router.routes[0:0] = [
            Route("/_sandbox", status),
            Route("/_sandbox/sent", sent),
            Route("/_sandbox/fail", fail, methods=["POST"]),
            Route("/_sandbox/rate", rate, methods=["POST"]),
        ]
        return app
