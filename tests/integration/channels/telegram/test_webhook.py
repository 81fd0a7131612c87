"""Telegram's webhook authenticity: the ``secret_token`` header, checked before anything is
stored; no handshake."""

from __future__ import annotations

import pytest

from tests.support.webhooks import fixture

from .conftest import SECRET_TOKEN

HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def test_right_secret_token_is_stored_and_processed(tg, workers):
    response = await tg.deliver(
        fixture("telegram", "message__private_text"), {HEADER: SECRET_TOKEN}
    )
    assert (response.status_code, response.text) == (200, "ok")
    await workers.drain()
    assert len(await tg.messages()) == 1


async def test_header_name_is_case_insensitive(tg, workers):
    response = await tg.deliver(
        fixture("telegram", "message__private_text"), {HEADER.lower(): SECRET_TOKEN}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 401, "rejected:missing X-Telegram-Bot-Api-Secret-Token"),
        ({HEADER: ""}, 401, "rejected:missing X-Telegram-Bot-Api-Secret-Token"),
        ({HEADER: "bdj-tg-Wq81_zP0xVb4"}, 401, "rejected:bad secret token"),
        ({HEADER: SECRET_TOKEN + "x"}, 401, "rejected:bad secret token"),
        ({HEADER: SECRET_TOKEN.upper()}, 401, "rejected:bad secret token"),
    ],
)
async def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    tg, workers, headers, status, reason
):
    response = await tg.deliver(fixture("telegram", "message__private_text"), headers)
    assert response.status_code == status
    await workers.drain()
    assert await tg.raw_events() == []
    assert await tg.messages() == []
    assert await tg.ignored() == {reason: 1}


async def test_channel_without_secret_refuses_everything(db, factory, client):
    from bandeja.core.channels.models import Platform

    ws = await factory.workspace()
    channel = await factory.channel(
        ws,
        Platform.telegram,
        external_id="7012345678",
        credentials={"access_token": "7012345678:AAH"},
    )
    await db.commit()
    response = await client.post(
        f"/webhooks/telegram/{channel.id}",
        content=fixture("telegram", "message__private_text"),
        headers={HEADER: "anything"},
    )
    assert response.status_code == 403


async def test_no_handshake_get_is_405(tg):
    response = await tg.client.get(
        f"/webhooks/telegram/{tg.channel.id}", params={"hub.challenge": "1"}
    )
    assert response.status_code == 405
