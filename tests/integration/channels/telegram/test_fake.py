"""The sandbox's Telegram: the updates it sends go through the real route and parser and land as
the same inbox content as Telegram's own; a reply sent to it can be reacted to."""

from __future__ import annotations

from datetime import timedelta

from bandeja.channels.sandbox.contract import (
    SimEcho,
    SimEdit,
    SimMessage,
    SimOptOut,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.channels.telegram.fake import FAKE
from bandeja.core.conversations.models import Kind

from .conftest import LUCIA, MARCO, now


async def test_simulated_dm_edit_and_reaction_round_trip(api, workers, sandbox):
    at = now() - timedelta(minutes=5)
    await api.emit(
        SimMessage(person=LUCIA, message_id="sbx-telegram-in.1.1", text="Hola 👋", at=at)
    )
    await workers.drain()
    [conversation] = await api.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.dm, LUCIA.id)
    contact = await api.contact(LUCIA.id)
    assert contact.name == "Lucía Fernández"
    assert contact.identities[0].handle == "lucia_fdez"

    await api.emit(
        SimEdit(
            person=LUCIA,
            message_id="sbx-telegram-in.1.1",
            text="Hola 👋 ¿abrís hoy?",
            at=at + timedelta(minutes=1),
        )
    )
    await workers.drain()
    [message] = await api.thread(LUCIA.id)
    assert message.text == "Hola 👋 ¿abrís hoy?"
    assert message.edited_at is not None

    response = await api.reply(conversation.id, text="¡Sí, hasta las 23:00!")
    reply_id = response.json()["id"]
    await workers.drain()
    [sent] = sandbox.sent
    await api.emit(SimReaction(person=LUCIA, message_id=sent.message_id, reaction="🙏", at=now()))
    await workers.drain()
    assert (await api.message(reply_id)).reactions == {LUCIA.id: "🙏"}


async def test_simulated_mention_is_a_group_mention_of_the_bot(tg, workers):
    await tg.emit(
        SimMessage(
            person=MARCO,
            message_id="sbx-telegram-in.2.1",
            text="a che ora aprite?",
            at=now(),
            kind="mention",
            post_id="post42",
            post_text="Milano coffee lovers",
        )
    )
    await workers.drain()
    [conversation] = await tg.conversations()
    assert conversation.kind is Kind.mention
    assert conversation.thread_key.startswith("-100")
    assert conversation.subject == "Milano coffee lovers"
    [message] = await tg.thread(conversation.thread_key, Kind.mention)
    assert message.text == "@CafeAuroraBot a che ora aprite?"


async def test_a_bot_whose_username_is_unknown_is_addressed_by_reply(
    db, factory, client, sessions, workers
):
    from bandeja.core.access import Actor
    from bandeja.core.channels.models import Platform
    from bandeja.core.users.models import Role

    from .conftest import BOT_ID, SECRET_TOKEN, Telegram

    ws = await factory.workspace()
    channel = await factory.channel(
        ws,
        Platform.telegram,
        external_id=BOT_ID,
        name="Café Aurora",
        credentials={"signing_secret": SECRET_TOKEN, "access_token": "t"},
    )
    await db.commit()
    actor = Actor(user_id=0, workspace_id=ws.id, role=Role.owner, name="tests")
    tg = Telegram(channel=channel, actor=actor, headers={}, sessions=sessions, client=client)
    await tg.emit(
        SimMessage(
            person=MARCO,
            message_id="sbx-telegram-in.3.1",
            text="ciao",
            at=now(),
            kind="mention",
            post_id="post7",
        )
    )
    await workers.drain()
    [conversation] = await tg.conversations()
    assert conversation.kind is Kind.mention


async def test_simulated_photo_keeps_the_largest_size(tg, workers):
    await tg.emit(
        SimMessage(
            person=LUCIA,
            message_id="sbx-telegram-in.4.1",
            text="Mirad",
            at=now(),
            attachments=[{"type": "image"}],
        )
    )
    await workers.drain()
    [message] = await tg.thread(LUCIA.id)
    assert message.text == "Mirad"
    [image] = message.attachments
    assert (image["type"], image["width"], image["height"]) == ("image", 1280, 960)


async def test_what_telegram_never_sends_a_bot(tg):
    channel = tg.sandbox_channel()
    at = now()
    assert FAKE.deliveries(channel, SimRead(person=LUCIA, at=at)) == []
    assert FAKE.deliveries(channel, SimEcho(person=LUCIA, message_id="x", text="hi", at=at)) == []
    assert (
        FAKE.deliveries(channel, SimStatus(person=LUCIA, message_id="x", status="read", at=at))
        == []
    )
    assert FAKE.deliveries(channel, SimOptOut(person=LUCIA, opted_in=False, at=at)) == []
    assert (
        FAKE.deliveries(
            channel,
            SimMessage(person=LUCIA, message_id="c", text="hi", at=at, kind="comment", post_id="p"),
        )
        == []
    )


async def test_fake_deliveries_carry_the_secret_token(tg):
    [delivery] = FAKE.deliveries(
        tg.sandbox_channel(),
        SimMessage(person=LUCIA, message_id="sbx-telegram-in.5.1", text="hola", at=now()),
    )
    assert delivery.url == tg.webhook_url
    assert (
        delivery.headers["X-Telegram-Bot-Api-Secret-Token"]
        == tg.sandbox_channel().secrets["signing_secret"]
    )
