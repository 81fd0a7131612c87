"""The sandbox delivers like the platforms: at least once, out of order, retrying on failure."""

from __future__ import annotations

import random

import httpx
import pytest

from bandeja.channels.sandbox.contract import Delivery
from bandeja.channels.sandbox.delivery import Deliverer


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_failed_delivery_is_retried_then_given_up(http):
    deliverer = Deliverer(http, duplicate_rate=0.0, max_attempts=4, rng=random.Random(1))
    deliverer.enqueue(Delivery(url="/webhooks/telegram/999999", headers={}, body=b"{}"))
    await deliverer.flush()
    stats = deliverer.stats
    assert stats.attempts == 4
    assert stats.retries == 3
    assert stats.gave_up == 1
    assert stats.delivered == 0
    assert stats.statuses == {404: 4}


async def test_duplicates_are_sent_twice(http):
    deliverer = Deliverer(http, duplicate_rate=1.0, max_attempts=1, rng=random.Random(1))
    deliverer.enqueue(Delivery(url="/healthz", headers={}, body=b""))
    await deliverer.flush()
    assert deliverer.stats.duplicates == 1
    assert deliverer.stats.attempts == 2


async def test_deliveries_overtake_each_other():
    deliverer = Deliverer(
        httpx.AsyncClient(), duplicate_rate=0.0, max_delay_s=1.0, rng=random.Random(7)
    )
    for i in range(30):
        deliverer.enqueue(Delivery(url=f"/{i}", headers={}, body=b""))
    order = [int(d.url[1:]) for _, _, d, _ in sorted(deliverer._heap)]
    assert sorted(order) == list(range(30))
    assert order != list(range(30))
