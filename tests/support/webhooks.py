"""Deliver webhooks to the app as a platform would, and run the workers to completion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "channels"


def fixture(platform: str, name: str) -> bytes:
    """The bytes of ``tests/fixtures/channels/<platform>/<name>.json``, as a platform sends them."""
    return (FIXTURES / platform / f"{name}.json").read_bytes()


def fixture_json(platform: str, name: str) -> Any:
    return json.loads(fixture(platform, name))


def fixture_names(platform: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / platform).glob("*.json"))


async def deliver(
    client: httpx.AsyncClient,
    platform: str,
    channel_id: int,
    body: bytes,
    headers: Mapping[str, str],
) -> httpx.Response:
    return await client.post(
        f"/webhooks/{platform}/{channel_id}",
        content=body,
        headers={"content-type": "application/json", **headers},
    )
