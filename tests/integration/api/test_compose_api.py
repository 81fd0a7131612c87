"""The compose context, per platform: the text limit and its unit, the messaging window, whether
a reply is allowed now (and the rule and reason when not), and private replies to comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.users.models import Role

# The owner's headers for each conversation made by ``_compose``, to ask again after a change.
_HEADERS: dict[int, dict[str, str]] = {}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _compose(db, factory, client, platform, kind, *, hours_ago=1.0, settings=None):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws, platform, settings=settings)
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    conv, message = await factory.message(channel, kind=kind, at=at, thread=f"t-{kind}")
    headers = bearer(await factory.token(ws, owner))
    _HEADERS[conv.id] = headers
    await db.commit()
    r = await client.get(f"/api/v1/conversations/{conv.id}/compose", headers=headers)
    assert r.status_code == 200, r.text
    return r.json(), conv, message, at


@pytest.mark.parametrize(
    ("platform", "kind", "max_length", "unit", "counting", "window"),
    [
        (Platform.messenger, Kind.dm, 2000, "characters", "plain", 24),
        (Platform.messenger, Kind.comment, 8000, "characters", "plain", None),
        (Platform.instagram, Kind.dm, 1000, "bytes", "plain", 24),
        (Platform.instagram, Kind.comment, 2200, "characters", "plain", None),
        (Platform.whatsapp, Kind.dm, 4096, "characters", "plain", 24),
        (Platform.x, Kind.dm, 10_000, "characters", "plain", None),
        (Platform.x, Kind.mention, 280, "characters", "x_post", None),
        (Platform.telegram, Kind.dm, 4096, "characters", "plain", None),
        (Platform.linkedin, Kind.comment, 1250, "characters", "plain", None),
    ],
)
async def test_limits_and_window_per_platform(
    db, factory, client, platform, kind, max_length, unit, counting, window
):
    body, conv, message, at = await _compose(db, factory, client, platform, kind)
    assert body["conversation_id"] == conv.id
    assert (body["platform"], body["kind"]) == (platform.value, kind.value)
    assert (body["max_length"], body["unit"], body["counting"]) == (max_length, unit, counting)
    assert body["window_hours"] == window
    if window is None:
        assert body["window_ends_at"] is None
    else:
        ends = datetime.fromisoformat(body["window_ends_at"])
        assert abs((ends - (at + timedelta(hours=window))).total_seconds()) < 1
    assert body["can_reply"] is True
    assert body["reason"] is None
    assert body["seen_message_id"] == message.id


@pytest.mark.parametrize(
    ("platform", "code", "words"),
    [
        (Platform.messenger, "rule:window_closed", "24-hour Messenger messaging window"),
        (Platform.instagram, "rule:window_closed", "24-hour Instagram messaging window"),
        (Platform.whatsapp, "rule:template_required", "only an approved template"),
    ],
)
async def test_reply_refused_outside_the_window_says_why(
    db, factory, client, platform, code, words
):
    body, *_ = await _compose(db, factory, client, platform, Kind.dm, hours_ago=30)
    assert body["can_reply"] is False
    assert body["reason"]["code"] == code
    assert words in body["reason"]["message"]
    # The window's end is in the past: the countdown shows it closed.
    assert datetime.fromisoformat(body["window_ends_at"]) < datetime.now(UTC)


async def test_no_window_on_telegram_and_x(db, factory, client):
    for platform in (Platform.telegram, Platform.x):
        body, *_ = await _compose(db, factory, client, platform, Kind.dm, hours_ago=24 * 30)
        assert body["can_reply"] is True, body


async def test_x_long_posts_setting_raises_the_limit(db, factory, client):
    body, *_ = await _compose(
        db, factory, client, Platform.x, Kind.mention, settings={"long_posts": True}
    )
    assert body["max_length"] == 25_000


@pytest.mark.parametrize("platform", [Platform.messenger, Platform.instagram])
async def test_private_reply_to_a_recent_comment(db, factory, client, platform):
    body, _conv, message, _ = await _compose(db, factory, client, platform, Kind.comment)
    private = body["private_reply"]
    assert private["message_id"] == message.id
    assert private["allowed"] is True
    assert private["reason"] is None
    expected = (1000, "bytes") if platform is Platform.instagram else (2000, "characters")
    assert (private["max_length"], private["unit"]) == expected


async def test_private_reply_expires_after_seven_days(db, factory, client):
    body, *_ = await _compose(
        db, factory, client, Platform.messenger, Kind.comment, hours_ago=8 * 24
    )
    assert body["can_reply"] is True  # the public answer has no window
    assert body["private_reply"]["allowed"] is False
    assert body["private_reply"]["reason"]["code"] == "rule:private_reply_expired"


async def test_private_reply_only_once(db, factory, client):
    body, conv, message, _ = await _compose(db, factory, client, Platform.instagram, Kind.comment)
    assert body["private_reply"]["allowed"] is True
    message.private_replied_at = datetime.now(UTC)
    await db.commit()
    r = await client.get(f"/api/v1/conversations/{conv.id}/compose", headers=_HEADERS[conv.id])
    assert r.json()["private_reply"]["allowed"] is False
    assert r.json()["private_reply"]["reason"]["code"] == "rule:private_reply_already_sent"


async def test_no_private_reply_where_the_platform_has_none(db, factory, client):
    body, *_ = await _compose(db, factory, client, Platform.linkedin, Kind.comment)
    assert body["private_reply"]["allowed"] is False
    assert body["private_reply"]["reason"]["code"] == "rule:not_supported"
    body, *_ = await _compose(db, factory, client, Platform.messenger, Kind.dm)
    assert body["private_reply"] is None


async def test_compose_needs_visibility(db, factory, client):
    ws = await factory.workspace()
    agent, _ = await factory.user(ws, Role.agent)
    channel = await factory.channel(ws, Platform.telegram)
    conv, _ = await factory.message(channel)
    ws2 = await factory.workspace()
    stranger, _ = await factory.user(ws2, Role.owner)
    agent_h = bearer(await factory.token(ws, agent))
    stranger_h = bearer(await factory.token(ws2, stranger))
    await db.commit()
    url = f"/api/v1/conversations/{conv.id}/compose"
    assert (await client.get(url, headers=agent_h)).status_code == 404
    assert (await client.get(url, headers=stranger_h)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get("/api/v1/conversations/0/compose", headers=agent_h)).status_code == 422
