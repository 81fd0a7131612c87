"""Telegram updates, delivered with the bot's secret token through the real route and applied by
the ingest worker: what lands in the inbox for each shape the Bot API sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.messages.actions import record_outbound
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from tests.support.webhooks import fixture, fixture_json, fixture_names

from .conftest import EMMA, GROUP_ID, LUCIA, MARCO

T = datetime(2025, 12, 7, 10, 0, tzinfo=UTC)  # the fixtures' reference time


async def _ingest(tg, workers, *names: str) -> None:
    for name in names:
        await tg.deliver_fixture(name)
    await workers.drain()


# What each fixture without inbox content is counted as.
IGNORED = {
    "message__poll": "poll",
    "message__service_pinned": "service_message",
    "message__group_chatter": "group_message",
    "edited_message__live_location": "live_location",
    "message_reaction__anonymous": "anonymous_reaction",
    # Nothing to react to: after waiting for the message in case it was only late.
    "message_reaction__emoji": "reaction_unknown_message",
    "message_reaction__removed": "reaction_unknown_message",
    "message_reaction_count__group": "reaction_count",
    "my_chat_member__blocked": "blocked",
    "my_chat_member__unblocked": "unblocked",
    "my_chat_member__added_to_group": "group_membership",
    "channel_post__text": "channel_post",
    "edited_channel_post__text": "channel_post",
    "inline_query__query": "inline_query",
    "chosen_inline_result__result": "chosen_inline_result",
    "poll__update": "poll",
    "poll_answer__vote": "poll_answer",
    "chat_join_request__request": "chat_join_request",
    "chat_member__joined": "chat_member",
    "business_connection__enabled": "business_connection",
    "business_message__text": "business_message",
}

# Media and shared things: (chat, text, the one attachment it becomes).
MEDIA: dict[str, tuple[str, str, dict[str, Any]]] = {
    "message__photo": (
        MARCO.id,
        "Ecco lo scontrino di ieri, c'è un errore nel totale",
        {
            "type": "image",
            "url": None,
            "file_id": "AgACAgQAAxkBAAIBkmdUq1-large",
            "file_unique_id": "AQADq7cxG3",
            "size": 96544,
            "width": 1280,
            "height": 960,
            "mime_type": "image/jpeg",
        },
    ),
    "message__voice": (
        LUCIA.id,
        "",
        {
            "type": "audio",
            "url": None,
            "file_id": "AwACAgQAAxkBAAIBlGdUq2voice",
            "file_unique_id": "AgADvoice1",
            "mime_type": "audio/ogg",
            "size": 23104,
            "duration": 7,
            "voice": True,
        },
    ),
    "message__audio": (
        EMMA.id,
        "",
        {
            "type": "audio",
            "url": None,
            "file_id": "CQACAgQAAxkBAAIBlWdUq3audio",
            "file_unique_id": "AgADaudio1",
            "mime_type": "audio/mpeg",
            "name": "jingle.mp3",
            "size": 2946112,
            "duration": 184,
            "title": "Emma Clarke - Jingle idea",
        },
    ),
    "message__video": (
        MARCO.id,
        "Il tavolo traballa, guardate",
        {
            "type": "video",
            "url": None,
            "file_id": "BAACAgQAAxkBAAIBlmdUq4video",
            "file_unique_id": "AgADvideo1",
            "mime_type": "video/mp4",
            "size": 4821903,
            "width": 1080,
            "height": 1920,
            "duration": 12,
        },
    ),
    "message__video_note": (
        LUCIA.id,
        "",
        {
            "type": "video",
            "url": None,
            "file_id": "DQACAgQAAxkBAAIBl2dUq5note",
            "file_unique_id": "AgADnote1",
            "size": 402117,
            "duration": 9,
            "video_note": True,
        },
    ),
    "message__document": (
        EMMA.id,
        "Could you correct the VAT number on this invoice?",
        {
            "type": "file",
            "url": None,
            "file_id": "BQACAgQAAxkBAAIBmGdUq6doc",
            "file_unique_id": "AgADdoc1",
            "mime_type": "application/pdf",
            "name": "invoice-2025-118.pdf",
            "size": 88213,
        },
    ),
    "message__sticker": (
        MARCO.id,
        "",
        {
            "type": "sticker",
            "url": None,
            "file_id": "CAACAgIAAxkBAAIBmWdUq7stick",
            "file_unique_id": "AgADstick1",
            "size": 31244,
            "width": 512,
            "height": 512,
            "emoji": "😍",
            "set_name": "CoffeeLovers",
        },
    ),
    # An animation also comes as ``document``: one attachment, not two.
    "message__animation": (
        EMMA.id,
        "",
        {
            "type": "video",
            "url": None,
            "file_id": "CgACAgQAAxkBAAIBmmdUq8anim",
            "file_unique_id": "AgADanim1",
            "mime_type": "video/mp4",
            "name": "happy.mp4",
            "size": 152211,
            "width": 320,
            "height": 240,
            "duration": 3,
            "animation": True,
        },
    ),
    "message__location": (
        LUCIA.id,
        "",
        {"type": "location", "latitude": 40.416775, "longitude": -3.70379},
    ),
    "message__venue": (
        MARCO.id,
        "",
        {
            "type": "location",
            "latitude": 45.464211,
            "longitude": 9.191383,
            "name": "Café Aurora Duomo",
            "address": "Piazza del Duomo 1, Milano",
        },
    ),
    "message__contact": (
        LUCIA.id,
        "",
        {
            "type": "contact",
            "name": "Javier Ruiz",
            "phone_number": "+34612345678",
            "user_id": 5333444555,
        },
    ),
}


@pytest.mark.parametrize("name", fixture_names("telegram"))
async def test_every_fixture_is_accepted_and_processed(tg, workers, name):
    response = await tg.deliver(fixture("telegram", name))
    assert response.status_code == 200, response.text
    await workers.drain()
    raws = await tg.raw_events()
    assert [r.status for r in raws] == [RawEventStatus.processed], [r.error for r in raws]
    messages = await tg.messages()
    if name in IGNORED:
        assert messages == []
        assert await tg.ignored() == {IGNORED[name]: 1}
        return
    assert len(messages) == 1
    assert await tg.ignored() == {}
    if name in MEDIA:
        chat, text, attachment = MEDIA[name]
        [message] = await tg.thread(chat)
        assert message.text == text
        # Exactly one attachment: the largest photo size only.
        assert message.attachments == [attachment]
        conversation = await tg.conversation(chat)
        assert conversation.last_message_preview == (text or f"[{attachment['type']}]")


async def test_private_text_opens_a_dm_per_chat_with_the_person_as_contact(tg, workers):
    await _ingest(tg, workers, "message__private_text")
    [conversation] = await tg.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.dm, LUCIA.id)
    [message] = await tg.thread(LUCIA.id)
    assert message.text.startswith("Hola, ¿siguen abiertos hoy?")
    assert message.external_id == f"{LUCIA.id}:201"
    assert message.direction is Direction.inbound
    assert message.status is DeliveryStatus.received
    assert message.sent_at == T
    contact = await tg.contact(LUCIA.id)
    assert (contact.name, contact.language) == ("Lucía Fernández", "es")
    [identity] = contact.identities
    assert (identity.external_id, identity.handle, identity.display_name) == (
        LUCIA.id,
        "lucia_fdez",
        "Lucía Fernández",
    )


async def test_start_command_is_an_ordinary_first_message(tg, workers):
    await _ingest(tg, workers, "message__start_command", "message__private_text")
    texts = [m.text for m in await tg.thread(LUCIA.id)]
    assert texts[0] == "/start promo_navidad"
    assert len(texts) == 2
    assert len(await tg.conversations()) == 1


async def test_person_without_username_keeps_name_and_regional_language(tg, workers):
    await _ingest(tg, workers, "message__text_entities")
    contact = await tg.contact(EMMA.id)
    assert (contact.name, contact.language) == ("Emma Clarke", "en-gb")
    assert contact.identities[0].handle is None
    [message] = await tg.thread(EMMA.id)
    assert message.text.startswith("🙏 Hi! Is the *oat latte* still on the menu?")


async def test_album_photos_are_separate_messages(tg, workers):
    """An album arrives as one update per photo sharing a media_group_id; only the first
    carries the caption."""
    first = fixture_json("telegram", "message__album_photo")
    second = json.loads(json.dumps(first))
    second["update_id"] += 1
    second["message"]["message_id"] += 1
    del second["message"]["caption"]
    await tg.deliver(json.dumps(first).encode())
    await tg.deliver(json.dumps(second).encode())
    await workers.drain()
    texts = [(m.text, [a["type"] for a in m.attachments]) for m in await tg.thread(LUCIA.id)]
    assert texts == [("Las fotos del cumpleaños 🎂", ["image"]), ("", ["image"])]
    for message in await tg.thread(LUCIA.id):
        assert await tg.extra_of(message.id) == {"media_group_id": "13845566778899"}


async def test_dice_throw_is_text_with_the_value(tg, workers):
    await _ingest(tg, workers, "message__dice")
    [message] = await tg.thread(EMMA.id)
    assert (message.text, message.attachments) == ("🎲 5", [])


async def test_reply_points_at_the_bot_message_it_answers(tg, workers):
    await _ingest(tg, workers, "message__reply")
    [message] = await tg.thread(LUCIA.id)
    assert message.reply_to_external_id == f"{LUCIA.id}:58"
    assert message.text == "Perfecto, entonces a las 21:30 👍"


@pytest.mark.parametrize(
    ("name", "chat", "origin"),
    [
        (
            "message__forwarded_origin",
            MARCO.id,
            {
                "origin": "user",
                "from": "Luca Bianchi",
                "date": (T - timedelta(hours=1)).isoformat(),
            },
        ),
        (
            "message__forwarded_legacy",
            EMMA.id,
            {
                "origin": "chat",
                "from": "Aurora Bookings",
                "date": (T - timedelta(hours=2)).isoformat(),
            },
        ),
    ],
)
async def test_forwarded_message_keeps_its_origin(tg, workers, name, chat, origin):
    await _ingest(tg, workers, name)
    [message] = await tg.thread(chat)
    assert message.text
    assert message.attachments == []
    assert await tg.extra_of(message.id) == {"forwarded": origin}


async def test_chat_without_type_is_private_when_its_id_is_positive(tg, workers):
    # Telegram's own webhook examples leave out chat.type and from.is_bot.
    await _ingest(tg, workers, "message__no_chat_type")
    [conversation] = await tg.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.dm, EMMA.id)


@pytest.mark.parametrize(
    ("name", "author"),
    [
        ("message__group_mention", LUCIA.id),
        ("message__group_reply_to_bot", MARCO.id),
        ("message__group_command", EMMA.id),
    ],
)
async def test_group_message_addressing_the_bot_is_a_mention_of_the_group(
    tg, workers, name, author
):
    await _ingest(tg, workers, name)
    [conversation] = await tg.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.mention, GROUP_ID)
    assert conversation.subject == "Café Aurora \u2013 Amici di Milano"
    [message] = await tg.thread(GROUP_ID, Kind.mention)
    assert message.external_id.startswith(f"{GROUP_ID}:")
    assert message.author_contact_id == (await tg.contact(author)).id


async def test_mentions_in_one_group_share_one_conversation(tg, workers):
    await _ingest(
        tg,
        workers,
        "message__group_mention",
        "message__group_chatter",
        "message__group_reply_to_bot",
    )
    [conversation] = await tg.conversations()
    assert conversation.kind is Kind.mention
    assert [m.external_id for m in await tg.thread(GROUP_ID, Kind.mention)] == [
        f"{GROUP_ID}:9120",
        f"{GROUP_ID}:9125",
    ]
    assert (await tg.ignored()) == {"group_message": 1}


async def test_edit_replaces_text_and_keeps_when(tg, workers):
    await _ingest(tg, workers, "message__private_text", "edited_message__text")
    [message] = await tg.thread(LUCIA.id)
    assert message.text.endswith("una mesa para seis a las 21:00.")
    assert message.edited_at == T + timedelta(seconds=90)
    assert message.sent_at == T


async def test_edit_before_the_message_still_ends_edited(tg, workers):
    """Deliveries overtake each other: the edited_message update carries the whole message, so
    it creates it (edited) and the late original is a duplicate."""
    await _ingest(tg, workers, "edited_message__text")
    await _ingest(tg, workers, "message__private_text")
    [message] = await tg.thread(LUCIA.id)
    assert message.text.endswith("una mesa para seis a las 21:00.")
    assert message.edited_at == T + timedelta(seconds=90)
    assert message.sent_at == T


async def test_caption_edit_keeps_the_photo(tg, workers):
    await _ingest(tg, workers, "message__photo", "edited_message__caption")
    [message] = await tg.thread(MARCO.id)
    assert message.text == "Ecco lo scontrino di ieri: il totale è sbagliato di 4 €"
    assert [a["type"] for a in message.attachments] == ["image"]


async def test_button_press_is_a_message_saying_the_button(tg, workers):
    await _ingest(tg, workers, "callback_query__button")
    [message] = await tg.thread(MARCO.id)
    assert message.text == "✅ Confermo"
    assert message.external_id == "cb:4382910274665312845"
    assert message.reply_to_external_id == f"{MARCO.id}:60"
    assert message.attachments == []
    assert await tg.extra_of(message.id) == {"callback_data": "booking:confirm:8812"}


async def test_button_press_on_an_inline_message_uses_the_data(tg, workers):
    await _ingest(tg, workers, "callback_query__inline_message")
    [conversation] = await tg.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.dm, EMMA.id)
    [message] = await tg.thread(EMMA.id)
    assert (message.text, message.reply_to_external_id) == ("menu:vegan", None)


async def _bot_message(tg, chat: str, telegram_id: int, text: str) -> int:
    """A reply the bot sent earlier, known by its Telegram id."""
    conversation = await tg.conversation(chat)
    async with tg.sessions() as session:
        conversation = await session.merge(conversation)
        message = await record_outbound(
            session,
            conversation,
            text=text,
            sent_at=T,
            author_type=AuthorType.user,
            status=DeliveryStatus.sent,
            external_id=f"{chat}:{telegram_id}",
        )
        await session.commit()
        return message.id


async def test_reaction_on_the_bot_reply_is_set_then_removed(tg, workers):
    await _ingest(tg, workers, "message__private_text")
    reply_id = await _bot_message(tg, LUCIA.id, 58, "¡Hola Lucía!")
    await _ingest(tg, workers, "message_reaction__emoji")
    assert (await tg.message(reply_id)).reactions == {LUCIA.id: "❤"}
    await _ingest(tg, workers, "message_reaction__removed")
    assert (await tg.message(reply_id)).reactions == {}


async def test_reaction_that_overtakes_its_message_waits_for_it(tg, workers):
    for name in ("message__private_text", "message_reaction__emoji"):
        await tg.deliver_fixture(name)
    await workers.drain(settle=False)
    [_, raw_reaction] = await tg.raw_events()
    assert raw_reaction.status is RawEventStatus.pending
    assert raw_reaction.error == f"waiting: reaction_unknown_message: {LUCIA.id}:58"
    reply_id = await _bot_message(tg, LUCIA.id, 58, "¡Hola Lucía!")  # the send's answer, late
    assert await tg.retry_waiting() == 1
    await workers.drain(settle=False)
    assert (await tg.message(reply_id)).reactions == {LUCIA.id: "❤"}
    assert [r.status for r in await tg.raw_events()] == [RawEventStatus.processed] * 2


async def test_same_update_delivered_five_times_is_one_message(tg, workers):
    for _ in range(5):
        await tg.deliver_fixture("message__photo")
    await workers.drain()
    assert len(await tg.messages()) == 1
    assert len(await tg.raw_events()) == 1  # identical bodies are stored once


async def test_a_retried_update_with_another_body_is_still_one_message(tg, workers):
    """The same message in two different bodies (a re-sent update with a new update_id) is
    deduplicated by its "<chat_id>:<message_id>"."""
    body = fixture_json("telegram", "message__private_text")
    await tg.deliver(json.dumps(body).encode())
    body["update_id"] += 1000
    await tg.deliver(json.dumps(body, indent=1).encode())
    await workers.drain()
    assert len(await tg.raw_events()) == 2
    assert len(await tg.messages()) == 1


async def test_same_message_id_in_two_chats_is_two_messages(tg, workers):
    body = fixture_json("telegram", "message__private_text")
    other = json.loads(json.dumps(body))
    other["update_id"] += 1
    other["message"]["from"] = other["message"]["chat"] = {
        "id": int(MARCO.id),
        "first_name": "Marco",
        "last_name": "Rossi",
        "type": "private",
    }
    await tg.deliver(json.dumps(body).encode())
    await tg.deliver(json.dumps(other).encode())
    await workers.drain()
    assert sorted(m.external_id for m in await tg.messages()) == [
        f"{LUCIA.id}:201",
        f"{MARCO.id}:201",
    ]


async def test_late_old_message_sorts_by_its_own_time(tg, workers):
    await _ingest(tg, workers, "message__reply", "message__private_text")
    texts = [m.text for m in await tg.thread(LUCIA.id)]
    assert texts[0].startswith("Hola, ¿siguen abiertos")
    assert texts[1].startswith("Perfecto")
    conversation = await tg.conversation(LUCIA.id)
    assert conversation.last_message_preview.startswith("Perfecto")
