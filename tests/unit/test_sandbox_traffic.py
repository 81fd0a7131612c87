"""The sandbox's simulated customers: what they write reads like what real customers write."""

from __future__ import annotations

import random

from bandeja.channels.sandbox.contract import SandboxChannel, SimMessage
from bandeja.channels.sandbox.state import SandboxState
from bandeja.channels.sandbox.traffic import Traffic
from bandeja.core.channels.models import Platform


def _mentions(name: str) -> list[str]:
    channel = SandboxChannel(
        bandeja_id=1,
        platform=Platform.instagram,
        external_id="17841400000000001",
        name=name,
        secrets={},
        webhook_url="http://127.0.0.1:1/webhooks/instagram/1",
    )
    traffic = Traffic(SandboxState(), random.Random(7))
    texts = []
    for _ in range(400):
        event = traffic.next_event(channel)
        if isinstance(event, SimMessage) and event.kind == "mention":
            texts.append(event.text)
    return texts


def test_a_mention_names_the_brand_with_one_at_sign() -> None:
    for name in ("@cafeaurora", "Café Aurora"):
        texts = _mentions(name)
        assert texts, "no mention in 400 events"
        assert all("@@" not in t for t in texts), texts
        assert any("@cafeaurora" in t or "@café" in t for t in texts), texts
