"""WhatsApp webhooks, delivered signed through the real route and applied by the ingest worker:
what lands in the inbox for each shape WhatsApp sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.messages.actions import record_outbound
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from tests.support.webhooks import fixture, fixture_json, fixture_names

from .conftest import GIULIA, LUCIA, OLIVER

FIXTURE_TIME = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)  # the fixtures' first timestamp
OUT_1 = "wamid.HBgLMzQ2MTIzNDU2NzgVAgARGBI0QjNFMjhDMUY5QTc3RDA1RTIA"  # a reply to Lucía
OUT_2 = "wamid.HBgMMzkzNDcxMjM0NTY3FQIAERgSOUM0RDE3QTBCMkU4RjM2NTUxAA=="  # a reply to Giulia
TEXT_ID = "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzQUI1RjdDMkE5MEQ0RTFGMjZDQwA="


async def _ingest(wa, workers, *names: str) -> None:
    for name in names:
        await wa.deliver_fixture(name)
    await workers.drain()


def _wamid(name: str) -> str:
    """The id of the (first) message of a fixture."""
    return str(
        fixture_json("whatsapp", name)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    )


async def _reply_on_record(wa, wa_id: str, external_id: str, text: str = "¡Hola!") -> int:
    """An outbound message Bandeja sent earlier, known by its WhatsApp id."""
    async with wa.sessions() as session:
        conversation = (
            await session.execute(
                select(Conversation).where(
                    Conversation.channel_account_id == wa.channel.id,
                    Conversation.thread_key == wa_id,
                )
            )
        ).scalar_one()
        message = await record_outbound(
            session,
            conversation,
            text=text,
            sent_at=FIXTURE_TIME,
            author_type=AuthorType.user,
            status=DeliveryStatus.sent,
            external_id=external_id,
        )
        await session.commit()
        return message.id


@pytest.mark.parametrize("name", fixture_names("whatsapp"))
async def test_every_fixture_is_accepted_and_processed(wa, workers, name):
    response = await wa.deliver(fixture("whatsapp", name))
    assert response.status_code == 200, response.text
    await workers.drain()
    raws = await wa.raw_events()
    assert [r.status for r in raws] == [RawEventStatus.processed], [r.error for r in raws]


async def test_text_message_opens_a_dm_conversation_per_wa_id(wa, workers):
    await _ingest(wa, workers, "message__text")
    [conversation] = await wa.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.dm, LUCIA.id)
    [message] = await wa.thread(LUCIA.id)
    assert message.text == "Hola, ¿a qué hora abrís mañana? Quiero pasar a recoger una tarta."
    assert message.direction is Direction.inbound
    assert message.status is DeliveryStatus.received
    assert message.external_id == TEXT_ID
    assert message.sent_at == FIXTURE_TIME
    contact = await wa.contact(LUCIA.id)
    assert contact.name == "Lucía Fernández"
    [identity] = contact.identities
    assert (identity.external_id, identity.handle, identity.display_name) == (
        LUCIA.id,
        LUCIA.id,
        "Lucía Fernández",
    )
    assert conversation.last_message_preview.startswith("Hola, ¿a qué hora")


MEDIA: list[tuple[str, str, str, dict[str, object]]] = [  # fixture, sender, caption, attachment
    (
        "message__image",
        LUCIA.id,
        "Esta es la tarta que quiero, ¿la podéis hacer sin gluten?",
        {
            "type": "image",
            "media_id": "1598303767603911",
            "mime_type": "image/jpeg",
            "sha256": "Bq0eCkFz9PDVGTf5rO9Xx1zS7n7b2RRqF2PlJmC2fXQ=",
        },
    ),
    (
        "message__video",
        OLIVER.id,
        "The box arrived like this 😕",
        {
            "type": "video",
            "media_id": "883452117210945",
            "mime_type": "video/mp4",
            "sha256": "s3x0k9Q3v6cW1wZ8b1GfN6vJk2a0R8l4Pp5e7YtH2uE=",
        },
    ),
    (
        "message__document",
        LUCIA.id,
        "Os adjunto la factura del pedido",
        {
            "type": "document",
            "media_id": "2176903445127716",
            "mime_type": "application/pdf",
            "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc=",
            "name": "factura-2026-1043.pdf",
        },
    ),
    (
        "message__audio_voice",
        GIULIA.id,
        "",
        {
            "type": "audio",
            "media_id": "1094633428672155",
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
            "voice": True,
        },
    ),
    (
        "message__sticker",
        GIULIA.id,
        "",
        {
            "type": "sticker",
            "media_id": "1339204557722801",
            "mime_type": "image/webp",
            "sha256": "kD2Sb3TzA8x0YbJ7oN2qL5V1mF9cR4eW6uH0iG3pK8s=",
        },
    ),
]


async def test_media_become_attachments_with_the_media_id(wa, workers):
    for name, wa_id, text, attachment in MEDIA:
        await _ingest(wa, workers, name)
        [message] = [m for m in await wa.thread(wa_id) if m.external_id == _wamid(name)]
        assert (message.text, message.attachments) == (text, [attachment]), name
        conversation = next(c for c in await wa.conversations() if c.thread_key == wa_id)
        # Without a caption the inbox shows what was sent.
        assert conversation.last_message_preview == (text or f"[{attachment['type']}]"), name


STRUCTURED = [  # fixture, sender, text, attachments
    (
        "message__location",
        LUCIA.id,
        "📍 Puerta del Sol, Plaza de la Puerta del Sol, 28013 Madrid",
        [
            {
                "type": "location",
                "latitude": 40.4168,
                "longitude": -3.7038,
                "name": "Puerta del Sol",
                "address": "Plaza de la Puerta del Sol, 28013 Madrid",
                "url": "https://maps.google.com/?q=40.4168,-3.7038",
            }
        ],
    ),
    (
        "message__location_pin",
        OLIVER.id,
        "📍 51.5226, -0.1571",
        [{"type": "location", "latitude": 51.5226, "longitude": -0.1571}],
    ),
    (
        "message__contacts",
        GIULIA.id,
        "👤 Marco Esposito",
        [
            {
                "type": "contact",
                "name": "Marco Esposito",
                "phones": ["+39 347 765 4321"],
                "emails": ["marco.esposito@example.it"],
                "wa_ids": ["393477654321"],
                "company": "Pasticceria Esposito",
            }
        ],
    ),
    (
        "message__order",
        LUCIA.id,
        "Para recoger el sábado, por favor\n🛒 Order: 1 x TARTA-QUESO, 6 x CROISSANT "
        "(total 35.3 EUR)",
        [
            {
                "type": "order",
                "catalog_id": "354160437058781",
                "note": "Para recoger el sábado, por favor",
                "items": [
                    {
                        "product_retailer_id": "TARTA-QUESO",
                        "quantity": 1,
                        "item_price": 24.5,
                        "currency": "EUR",
                    },
                    {
                        "product_retailer_id": "CROISSANT",
                        "quantity": 6,
                        "item_price": 1.8,
                        "currency": "EUR",
                    },
                ],
            }
        ],
    ),
    ("message__interactive_button_reply", LUCIA.id, "Sí, confirmar", []),
    ("message__interactive_list_reply", OLIVER.id, "Baker Street", []),
    ("message__button", GIULIA.id, "Cambia orario", []),
    (
        "message__text_from_ad",
        OLIVER.id,
        "Hi! I saw your ad, is the autumn menu available for delivery?",
        [],
    ),
]


async def test_structured_messages(wa, workers):
    for name, wa_id, text, attachments in STRUCTURED:
        await _ingest(wa, workers, name)
        [message] = [m for m in await wa.thread(wa_id) if m.external_id == _wamid(name)]
        assert (message.text, message.attachments) == (text, attachments), name


async def test_context_id_is_the_message_replied_to(wa, workers):
    await _ingest(
        wa,
        workers,
        "message__text_reply",
        "message__interactive_button_reply",
        "message__button",
        "message__text",
    )
    replied = {m.text: m.reply_to_external_id for m in await wa.messages()}
    assert replied == {
        "Perfetto, allora passo alle 18. Grazie mille!": OUT_2,
        "Sí, confirmar": OUT_1,
        "Cambia orario": OUT_2,
        "Hola, ¿a qué hora abrís mañana? Quiero pasar a recoger una tarta.": None,
    }


async def test_one_delivery_with_several_entries_messages_and_statuses(wa, workers):
    await _ingest(wa, workers, "message__text")
    reply = await _reply_on_record(wa, LUCIA.id, OUT_1)
    await _ingest(wa, workers, "messages__batch")
    assert [m.text for m in await wa.thread(GIULIA.id)] == ["Siete aperti a Ferragosto?"]
    lucia = await wa.thread(LUCIA.id)
    assert [m.text for m in lucia if m.direction is Direction.inbound] == [
        "Hola, ¿a qué hora abrís mañana? Quiero pasar a recoger una tarta.",
        "¿Hacéis envíos a Alcalá?",
        "Es para el domingo 😊",
    ]
    assert (await wa.message(reply)).status is DeliveryStatus.delivered
    assert len(await wa.conversations()) == 2


async def test_the_same_delivery_five_times_stores_one_message(wa, workers):
    for _ in range(5):
        await wa.deliver_fixture("message__text")
    # The same message again inside a differently serialised body (another retry path).
    compact = json.dumps(fixture_json("whatsapp", "message__text"), separators=(",", ":"))
    await wa.deliver(compact.encode())
    await workers.drain()
    assert len(await wa.raw_events()) == 2  # identical bodies are stored once
    assert [m.external_id for m in await wa.messages()] == [TEXT_ID]
    [conversation] = await wa.conversations()
    assert conversation.message_count == 1


async def test_statuses_move_forward_only(wa, workers):
    await _ingest(wa, workers, "message__text")
    reply = await _reply_on_record(wa, LUCIA.id, OUT_1)
    await _ingest(wa, workers, "status__delivered")
    assert (await wa.message(reply)).status is DeliveryStatus.delivered
    # Reordered: read arrives, then the late "sent" and "delivered" must not take it back.
    await _ingest(wa, workers, "status__read", "status__sent")
    await wa.deliver(
        fixture("whatsapp", "status__delivered").replace(b'"delivered"', b'"delivered" ')
    )
    await workers.drain()
    assert (await wa.message(reply)).status is DeliveryStatus.read


async def test_read_before_delivered_stays_read(wa, workers):
    await _ingest(wa, workers, "message__text")
    reply = await _reply_on_record(wa, LUCIA.id, OUT_1)
    await _ingest(wa, workers, "status__read", "status__delivered", "status__sent")
    assert (await wa.message(reply)).status is DeliveryStatus.read
    assert (await wa.ignored()) == {}


async def test_failed_status_keeps_the_whatsapp_error(wa, workers):
    await _ingest(wa, workers, "message__text_reply")
    reply = await _reply_on_record(wa, GIULIA.id, OUT_2, text="Ciao Giulia!")
    await _ingest(wa, workers, "status__failed")
    message = await wa.message(reply)
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "131047"
    assert message.error_message == (
        "Re-engagement message: Message failed to send because more than 24 hours have passed "
        "since the customer last replied to this number."
    )


async def test_status_about_an_unknown_message_is_counted(wa, workers):
    await _ingest(wa, workers, "status__sent")
    assert await wa.ignored() == {"status_unknown_message": 1}


async def test_reaction_added_then_removed(wa, workers):
    await _ingest(wa, workers, "message__text")
    reply = await _reply_on_record(wa, LUCIA.id, OUT_1)
    await _ingest(wa, workers, "message__reaction")
    assert (await wa.message(reply)).reactions == {LUCIA.id: "❤️"}
    await _ingest(wa, workers, "message__reaction_removed")
    assert (await wa.message(reply)).reactions == {}


async def test_edit_replaces_the_text(wa, workers):
    await _ingest(wa, workers, "message__text", "message__edit")
    [message] = await wa.thread(LUCIA.id)
    assert message.text == "Hola, ¿a qué hora abrís mañana? Quiero pasar a recoger dos tartas."
    assert message.edited_at == datetime(2026, 10, 15, 8, 18, tzinfo=UTC)
    assert message.external_id == TEXT_ID  # the edit is not a new message


async def test_edit_before_its_message_waits_for_it_and_applies(wa, workers):
    # An edit that overtakes its message is retried once the message is stored.
    await _ingest(wa, workers, "message__edit", "message__text")
    [message] = await wa.thread(LUCIA.id)
    assert message.text == "Hola, ¿a qué hora abrís mañana? Quiero pasar a recoger dos tartas."
    assert await wa.ignored() == {}


async def test_revoke_deletes_the_message(wa, workers):
    await _ingest(wa, workers, "message__text_forwarded", "message__revoke")
    [message] = await wa.thread(LUCIA.id)
    assert message.deleted_at == datetime(2026, 10, 15, 8, 19, tzinfo=UTC)
    assert message.text == ""


async def test_ignored_shapes_are_counted_by_reason(wa, workers):
    await _ingest(
        wa,
        workers,
        "message__system_number_change",
        "message__unsupported",
        "message__unknown_value_errors",
        "template_status__approved",
        "phone_number_quality__upgrade",
        "message__other_phone_number",
        "message__unsupported",
    )  # a retry of the same delivery is stored once
    assert await wa.ignored() == {
        "system:user_changed_number": 1,
        "unsupported:131051": 1,
        "unsupported:131000": 1,
        "field:message_template_status_update": 1,
        "field:phone_number_quality_update": 1,
        "other_phone_number": 1,
    }
    assert await wa.messages() == []
    assert all(r.status is RawEventStatus.processed for r in await wa.raw_events())


async def test_marketing_opt_out_and_back_on_the_identity(wa, workers):
    await _ingest(wa, workers, "message__text_from_ad", "user_preferences__stop")
    identity = await wa.identity(OLIVER.id)
    assert identity.marketing_opt_in is False
    assert identity.marketing_updated_at == datetime(2026, 10, 15, 8, 26, 40, tzinfo=UTC)
    await _ingest(wa, workers, "user_preferences__resume")
    assert (await wa.identity(OLIVER.id)).marketing_opt_in is True


async def test_opt_out_arriving_after_a_newer_resume_does_not_win(wa, workers):
    await _ingest(wa, workers, "user_preferences__resume", "user_preferences__stop")
    identity = await wa.identity(OLIVER.id)
    assert identity.marketing_opt_in is True
    # The preference alone (no message yet) names the person.
    assert (await wa.contact(OLIVER.id)).name == "Oliver Bennett"


async def test_message_sent_from_the_business_app_is_kept_as_external(wa, workers):
    await _ingest(wa, workers, "message__text", "echo__text")
    thread = await wa.thread(LUCIA.id)
    assert [(m.direction, m.author_type, m.status, m.text) for m in thread] == [
        (Direction.inbound, AuthorType.contact, DeliveryStatus.received, thread[0].text),
        (
            Direction.outbound,
            AuthorType.external,
            DeliveryStatus.sent,
            "¡Hola Lucía! Sí, mañana abrimos a las 8:00.",
        ),
    ]
    await _ingest(wa, workers, "echo__text")  # the same echo again: still one
    assert len(await wa.thread(LUCIA.id)) == 2
