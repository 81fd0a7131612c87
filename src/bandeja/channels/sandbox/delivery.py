"""Delivering webhooks the way platforms do: at least once, in any order, retrying on failure.

Each delivery waits a random delay (so deliveries overtake each other), some are sent twice
(``duplicate_rate``), and a delivery answered with a non-2xx status or not answered at all is
retried with exponential backoff, like Meta and X do (bounded here: ``max_attempts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from dataclasses import dataclass, field

import httpx

from bandeja.channels.sandbox.contract import Delivery

log = logging.getLogger(__name__)


@dataclass
class DeliveryStats:
    queued: int = 0
    attempts: int = 0
    delivered: int = 0
    duplicates: int = 0
    retries: int = 0
    gave_up: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class Deliverer:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        duplicate_rate: float = 0.1,
        max_delay_s: float = 0.5,
        max_attempts: int = 6,
        backoff_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.duplicate_rate = duplicate_rate
        self.max_delay_s = max_delay_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.rng = rng or random.Random()
        self.stats = DeliveryStats()
        self._heap: list[tuple[float, int, Delivery, int]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def _push(self, delivery: Delivery, attempt: int, delay: float) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), delivery, attempt))
        self._wake.set()

    def enqueue(self, delivery: Delivery) -> None:
        """Send ``delivery`` soon (maybe after later ones), maybe twice."""
        self.stats.queued += 1
        self._push(delivery, 1, self.rng.uniform(0, self.max_delay_s))
        if self.rng.random() < self.duplicate_rate:
            self.stats.duplicates += 1
            self._push(delivery, 1, self.rng.uniform(0, self.max_delay_s * 4))

    @property
    def pending(self) -> int:
        return len(self._heap)

    async def _attempt(self, delivery: Delivery, attempt: int) -> None:
        self.stats.attempts += 1
        try:
            response = await self.client.post(
                delivery.url, content=delivery.body, headers=delivery.headers
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            log.info("delivery to %s failed: %s", delivery.url, exc)
            status = 0
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.stats.delivered += 1
            return
        if attempt >= self.max_attempts:
            self.stats.gave_up += 1
            log.warning("gave up on a delivery to %s after %d attempts", delivery.url, attempt)
            return
        self.stats.retries += 1
        self._push(delivery, attempt + 1, self.backoff_s * 2 ** (attempt - 1))

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            due, _, delivery, attempt = self._heap[0]
            wait = due - time.monotonic()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            heapq.heappop(self._heap)
            await self._attempt(delivery, attempt)

    async def flush(self, *, timeout_s: float = 30.0) -> None:
        """Deliver everything queued now, ignoring delays (tests)."""
        deadline = time.monotonic() + timeout_s
        while self._heap and time.monotonic() < deadline:
            _, _, delivery, attempt = heapq.heappop(self._heap)
            await self._attempt(delivery, attempt)
