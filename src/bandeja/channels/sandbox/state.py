"""The sandbox's memory: channels it plays the platform for, the people it invented, what they
wrote and when, what Bandeja sent, rate-limit counters, idempotency keys and injected failures.
In memory only: the sandbox is a development and test stand-in."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bandeja.channels.sandbox.contract import SandboxChannel, SentRecord, SimPerson
from bandeja.core.channels.models import Platform


class SandboxState:
    """Implements ``contract.SandboxApi``. Thread-safe enough for one event loop plus tests."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.channels: dict[int, SandboxChannel] = {}
        self.people: dict[tuple[Platform, str], SimPerson] = {}
        self._last_inbound: dict[tuple[int, str], datetime] = {}
        self.sent: list[SentRecord] = []
        self._by_key: dict[str, SentRecord] = {}
        self._failures: dict[Platform, deque[tuple[int, dict[str, Any], dict[str, str]]]] = (
            defaultdict(deque)
        )
        self._rate: dict[str, deque[float]] = defaultdict(deque)
        # Set by the engine: called with (channel, record) after each send, to report back.
        self.on_send: Callable[[SandboxChannel, SentRecord], None] | None = None

    # --- set-up -----------------------------------------------------------------------------

    def add_channel(self, channel: SandboxChannel) -> None:
        with self._lock:
            self.channels[channel.bandeja_id] = channel

    def add_person(self, platform: Platform, person: SimPerson) -> None:
        with self._lock:
            self.people[(platform, person.id)] = person

    def wrote(self, channel: SandboxChannel, person_id: str, at: datetime) -> None:
        """The person wrote to the channel at ``at`` (opens or extends the messaging window)."""
        with self._lock:
            key = (channel.bandeja_id, person_id)
            if key not in self._last_inbound or at > self._last_inbound[key]:
                self._last_inbound[key] = at

    def inject_failure(
        self,
        platform: Platform,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` sends on ``platform`` answer this (tests, chaos)."""
        with self._lock:
            for _ in range(times):
                self._failures[platform].append((status, body, headers or {}))

    # --- SandboxApi -------------------------------------------------------------------------

    def channel_by_external_id(self, platform: Platform, external_id: str) -> SandboxChannel | None:
        return next(
            (
                c
                for c in self.channels.values()
                if c.platform is platform and c.external_id == external_id
            ),
            None,
        )

    def channel_by_token(self, platform: Platform, access_token: str) -> SandboxChannel | None:
        return next(
            (
                c
                for c in self.channels.values()
                if c.platform is platform
                and access_token
                and c.secrets.get("access_token") == access_token
            ),
            None,
        )

    def person(self, platform: Platform, person_id: str) -> SimPerson | None:
        return self.people.get((platform, person_id))

    def last_inbound_at(self, channel: SandboxChannel, person_id: str) -> datetime | None:
        return self._last_inbound.get((channel.bandeja_id, person_id))

    def injected_failure(
        self, platform: Platform
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        with self._lock:
            queue = self._failures.get(platform)
            return queue.popleft() if queue else None

    def rate_limited(self, key: str, limit: int, per_seconds: float) -> float | None:
        now = time.monotonic()
        with self._lock:
            window = self._rate[key]
            while window and window[0] <= now - per_seconds:
                window.popleft()
            if len(window) >= limit:
                return max(window[0] + per_seconds - now, 0.001)
            window.append(now)
            return None

    def replay(self, idempotency_key: str | None) -> SentRecord | None:
        if not idempotency_key:
            return None
        return self._by_key.get(idempotency_key)

    def record_send(
        self,
        channel: SandboxChannel,
        recipient_id: str,
        text: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
    ) -> SentRecord:
        with self._lock:
            record = SentRecord(
                platform=channel.platform,
                channel_external_id=channel.external_id,
                recipient_id=recipient_id,
                message_id=self.new_id(f"{channel.platform.value}-out"),
                text=text,
                payload=payload,
                idempotency_key=idempotency_key,
                at=self.now(),
            )
            self.sent.append(record)
            if idempotency_key:
                self._by_key[idempotency_key] = record
        if self.on_send is not None:
            self.on_send(channel, record)
        return record

    def new_id(self, prefix: str) -> str:
        return f"{prefix}.{next(self._ids)}.{int(time.time() * 1000)}"

    def now(self) -> datetime:
        return self._clock()
