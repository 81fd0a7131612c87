"""Names for Messenger contacts: webhooks carry only the person's PSID, so a new DM sender's name
and picture come from the User Profile API (``GET {base}/{psid}?fields=first_name,last_name,
profile_pic``).

This runs in the ingest worker for every delivery with a DM, so it must stay cheap and must never
fail a delivery: answers are cached per Page and person (a day; failures ten minutes), each call
has a short timeout, and any error leaves the event as it was (the contact is then named by its
PSID until a later message brings the name). ``settings.fetch_profiles = false`` turns it off.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import quote

import httpx

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import MessageReceived, Person, PlatformEvent

TIMEOUT = httpx.Timeout(3.0, connect=2.0)
FOUND_TTL_S = 24 * 3600.0
MISSING_TTL_S = 600.0
MAX_CACHED = 10_000
MAX_LOOKUPS = 10  # per delivery; a burst of new people is named over the next deliveries


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    name: str | None
    avatar_url: str | None


_cache: OrderedDict[tuple[int, str, str], tuple[float, Profile | None]] = OrderedDict()


def clear_cache() -> None:
    _cache.clear()


async def lookup(client: httpx.AsyncClient, channel: ChannelConfig, psid: str) -> Profile | None:
    key = (channel.id, channel.external_id, psid)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    profile = await _fetch(client, channel, psid)
    _cache[key] = (now + (FOUND_TTL_S if profile else MISSING_TTL_S), profile)
    _cache.move_to_end(key)
    while len(_cache) > MAX_CACHED:
        _cache.popitem(last=False)
    return profile


async def _fetch(client: httpx.AsyncClient, channel: ChannelConfig, psid: str) -> Profile | None:
    token = channel.secrets.get("access_token", "")
    if not token:
        return None
    url = f"{channel.api_base_url(meta.GRAPH_API)}/{quote(psid, safe='')}"
    try:
        response = await client.get(
            url,
            params={"fields": "first_name,last_name,profile_pic"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    parts = [data.get("first_name"), data.get("last_name")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
    picture = data.get("profile_pic")
    avatar = picture if isinstance(picture, str) and picture.startswith("https://") else None
    return Profile(name=name, avatar_url=avatar) if name or avatar else None


async def expand(
    client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
) -> list[PlatformEvent]:
    """Name the senders of DMs that arrive without a name."""
    if channel.settings.get("fetch_profiles") is False:
        return list(events)
    wanted: list[str] = []
    for event in events:
        if (
            isinstance(event, MessageReceived)
            and event.thread.kind is Kind.dm
            and not event.sender.display_name
            and event.sender.external_id not in wanted
        ):
            wanted.append(event.sender.external_id)
    if not wanted:
        return list(events)
    found: dict[str, Profile] = {}
    for psid in wanted[:MAX_LOOKUPS]:
        profile = await lookup(client, channel, psid)
        if profile is not None:
            found[psid] = profile
    return [_named(event, found) for event in events]


def _named(event: PlatformEvent, found: dict[str, Profile]) -> PlatformEvent:
    if not isinstance(event, MessageReceived):
        return event
    profile = found.get(event.sender.external_id)
    if profile is None or event.sender.display_name:
        return event
    sender: Person = dataclasses.replace(
        event.sender,
        display_name=profile.name,
        avatar_url=event.sender.avatar_url or profile.avatar_url,
    )
    return dataclasses.replace(event, sender=sender)
