"""The parser on its own: odd and hostile shapes become events or Ignored reasons, never errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.whatsapp import parse as wp
from bandeja.channels.whatsapp.content import extra_of
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    ReactionChanged,
    StatusChanged,
)
from tests.support.webhooks import fixture, fixture_json

from .conftest import PHONE_ID

CHANNEL = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.whatsapp,
    external_id=PHONE_ID,
    name="Pastelería Sol",
    secrets={},
    settings={},
)
METADATA = {"display_phone_number": "34911234567", "phone_number_id": PHONE_ID}


def body(value: dict[str, Any], field: str = "messages") -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}],
        }
    ).encode()


def messages(*items: dict[str, Any], **more: Any) -> bytes:
    return body(
        {"messaging_product": "whatsapp", "metadata": METADATA, "messages": list(items), **more}
    )


def parse(raw: bytes) -> list[Any]:
    return wp.parse(CHANNEL, raw)


def msg(kind: str, content: Any = None, **more: Any) -> dict[str, Any]:
    item = {"from": "34612345678", "id": f"wamid.{kind}", "timestamp": "1792051200", "type": kind}
    if content is not None:
        item[kind] = content
    return {**item, **more}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_raises_value_error(raw):
    with pytest.raises(ValueError):  # noqa: PT011 - json's own errors are ValueErrors too
        parse(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"object": "page", "entry": []}', "object:page"),
        (b"{}", "object:none"),
        (b'{"object": "whatsapp_business_account"}', "empty"),
        (b'{"object": "whatsapp_business_account", "entry": "x"}', "empty"),
        (b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}', "malformed:entry"),
        (b'{"object": "whatsapp_business_account", "entry": [7]}', "malformed:entry"),
    ],
)
def test_unexpected_envelopes_are_ignored(raw, reason):
    assert parse(raw) == [Ignored(reason)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"messages": [msg("text", {"body": "hola"})]}, "malformed:messages"),  # no metadata
        ({"metadata": METADATA}, "empty:messages"),
        ({"metadata": METADATA, "messages": "nope", "statuses": None}, "empty:messages"),
        ({"metadata": METADATA, "messages": [None]}, "malformed:item"),
        ({"metadata": METADATA, "messages": [{"from": "1"}]}, "malformed:message"),
        ({"metadata": METADATA, "messages": [msg("text", "hola")]}, "type:text"),
        ({"metadata": METADATA, "messages": [msg("text", {"body": ""})]}, "type:text"),
        ({"metadata": METADATA, "messages": [msg("poll", {"question": "?"})]}, "type:poll"),
        (
            {"metadata": METADATA, "messages": [msg("location", {"latitude": "north"})]},
            "type:location",
        ),
        (
            {"metadata": METADATA, "messages": [msg("reaction", {"emoji": "👍"})]},
            "malformed:reaction",
        ),
        ({"metadata": METADATA, "messages": [msg("revoke", {})]}, "malformed:revoke"),
        (
            {"metadata": METADATA, "messages": [msg("edit", {"original_message_id": "w"})]},
            "malformed:edit",
        ),
        ({"metadata": METADATA, "messages": [msg("request_welcome")]}, "request_welcome"),
        ({"metadata": METADATA, "messages": [msg("unknown")]}, "type:unknown"),
        (
            {
                "metadata": METADATA,
                "messages": [msg("system", {"type": "customer_identity_changed"})],
            },
            "system:customer_identity_changed",
        ),
        (
            {"metadata": METADATA, "errors": [{"code": 131000, "title": "Something went wrong"}]},
            "error:131000",
        ),
        (
            {"metadata": METADATA, "statuses": [{"id": "wamid.1", "status": "deleted"}]},
            "status:deleted",
        ),
        ({"metadata": METADATA, "statuses": [{"status": "read"}]}, "malformed:status"),
    ],
)
def test_odd_message_shapes_become_ignored_reasons(value, reason):
    assert parse(body(value)) == [Ignored(reason)]


def test_field_name_in_reason_is_bounded():
    [event] = parse(body({}, field="x" * 500))
    assert event == Ignored("field:" + "x" * 40)


def test_every_item_of_every_entry_and_change_is_returned():
    first = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "contacts": [{"profile": {"name": "Lucía"}, "wa_id": "34612345678"}],
        "messages": [
            msg("text", {"body": "uno"}, id="wamid.1"),
            msg("text", {"body": "dos"}, id="wamid.2"),
        ],
        "statuses": [
            {
                "id": "wamid.out",
                "status": "sent",
                "timestamp": "1792051201",
                "recipient_id": "34612345678",
            }
        ],
    }
    raw = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {"field": "messages", "value": first},
                        {"field": "account_update", "value": {"event": "VERIFIED"}},
                    ],
                },
                {
                    "id": "2",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": "999"},
                                "messages": [msg("text", {"body": "x"})],
                            },
                        }
                    ],
                },
            ],
        }
    ).encode()
    events = parse(raw)
    assert [type(e).__name__ for e in events] == [
        "MessageReceived",
        "MessageReceived",
        "StatusChanged",
        "Ignored",
        "Ignored",
    ]
    assert [e.text for e in events[:2]] == ["uno", "dos"]
    assert events[0].sender.display_name == "Lucía"
    assert events[3:] == [Ignored("field:account_update"), Ignored("other_phone_number")]


def test_a_sender_without_a_profile_is_named_by_number():
    [event] = parse(messages(msg("text", {"body": "hi"})))
    assert isinstance(event, MessageReceived)
    assert (event.sender.external_id, event.sender.display_name, event.sender.handle) == (
        "34612345678",
        None,
        "34612345678",
    )
    assert event.sender.best_name == "@34612345678"


def test_escaped_and_raw_utf8_bodies_read_the_same():
    pretty = fixture("whatsapp", "message__text")
    escaped = json.dumps(fixture_json("whatsapp", "message__text")).encode()
    assert b"\\u00e1" in escaped
    assert escaped != pretty
    assert parse(pretty) == parse(escaped)


@pytest.mark.parametrize("timestamp", ["TIMESTAMP", None, "", "1e400", 10**30])
def test_a_broken_timestamp_keeps_the_event_at_now(timestamp):
    before = datetime.now(UTC) - timedelta(seconds=1)
    [event] = parse(messages(msg("text", {"body": "hola"}, timestamp=timestamp)))
    assert isinstance(event, MessageReceived)
    assert before <= event.sent_at <= datetime.now(UTC)


def test_reaction_with_empty_emoji_is_a_removal():
    [added, removed] = parse(
        messages(
            msg("reaction", {"message_id": "wamid.out", "emoji": "👍"}, id="wamid.r1"),
            msg("reaction", {"message_id": "wamid.out", "emoji": ""}, id="wamid.r2"),
        )
    )
    assert added == ReactionChanged("wamid.out", "34612345678", "👍", added.at)
    assert isinstance(removed, ReactionChanged)
    assert removed.reaction is None


def test_edit_of_a_media_caption_and_revoke():
    edit, revoke = parse(
        messages(
            msg(
                "edit",
                {
                    "original_message_id": "wamid.img",
                    "message": {"type": "image", "image": {"id": "77", "caption": "Nueva foto 🎂"}},
                },
            ),
            msg("revoke", {"original_message_id": "wamid.img"}),
        )
    )
    assert isinstance(edit, MessageEdited)
    assert (edit.external_id, edit.text) == (
        "wamid.img",
        "Nueva foto 🎂",
    )
    assert isinstance(revoke, MessageDeleted)
    assert revoke.external_id == "wamid.img"


def test_failed_status_error_words_and_codes():
    [status] = parse(
        body(
            {
                "metadata": METADATA,
                "statuses": [
                    {
                        "id": "wamid.out",
                        "status": "failed",
                        "timestamp": "1792051300",
                        "recipient_id": "34612345678",
                        "errors": [
                            {
                                "code": 131050,
                                "title": "Unable to deliver the message. This recipient has "
                                "chosen to stop receiving marketing messages on WhatsApp from "
                                "your business",
                            }
                        ],
                    }
                ],
            }
        )
    )
    assert isinstance(status, StatusChanged)
    assert (status.status, status.error_code) == ("failed", "131050")
    assert (status.error_message or "").startswith("Unable to deliver the message.")


def test_unsupported_message_with_errors_in_the_message():
    # Older Cloud API versions put ``details`` at the top of the error.
    [event] = parse(
        messages(
            msg(
                "unknown",
                errors=[
                    {
                        "code": 131051,
                        "details": "Message type is not currently supported",
                        "title": "Unsupported message type",
                    }
                ],
            )
        )
    )
    assert event == Ignored("unsupported:131051")
    assert wp._error(
        {
            "code": 131051,
            "details": "Message type is not currently supported",
            "title": "Unsupported message type",
        }
    ) == ("131051", "Unsupported message type: Message type is not currently supported")


def test_extra_details_of_replies_buttons_forwards_and_ads():
    data = fixture_json("whatsapp", "message__interactive_list_reply")
    item = data["entry"][0]["changes"][0]["value"]["messages"][0]
    assert extra_of(item) == {
        "reply": {
            "type": "list_reply",
            "id": "shop_baker_st",
            "title": "Baker Street",
            "description": "221 Baker St, London · 8:00-19:00",
        }
    }
    button = msg("button", {"payload": "RESCHEDULE_ORDER_1043", "text": "Cambia orario"})
    assert extra_of(button) == {"button_payload": "RESCHEDULE_ORDER_1043"}
    forwarded = msg(
        "text", {"body": "mira"}, context={"forwarded": True, "frequently_forwarded": True}
    )
    assert extra_of(forwarded) == {"forwarded": True, "frequently_forwarded": True}
    ad = fixture_json("whatsapp", "message__text_from_ad")["entry"][0]["changes"][0]["value"]
    referral = extra_of(ad["messages"][0])["referral"]
    assert referral["source_type"] == "ad"
    assert referral["ctwa_clid"].startswith("ARAk")
    product = msg(
        "text",
        {"body": "¿Queda?"},
        context={
            "from": "34911234567",
            "id": "wamid.cat",
            "referred_product": {
                "catalog_id": "354160437058781",
                "product_retailer_id": "CROISSANT",
            },
        },
    )
    assert extra_of(product) == {
        "referred_product": {"catalog_id": "354160437058781", "product_retailer_id": "CROISSANT"}
    }


def test_completed_flow_form():
    [event] = parse(
        messages(
            msg(
                "interactive",
                {
                    "type": "nfm_reply",
                    "nfm_reply": {
                        "name": "flow",
                        "body": "Sent",
                        "response_json": (
                            '{"flow_token": "t1", "date": "2026-10-20", "people": "4"}'
                        ),
                    },
                },
            )
        )
    )
    assert isinstance(event, MessageReceived)
    assert event.text == "Sent"
    assert event.attachments == [
        {
            "type": "form_response",
            "name": "flow",
            "response": {"flow_token": "t1", "date": "2026-10-20", "people": "4"},
        }
    ]


def test_interactive_reply_without_title_uses_its_id():
    [event] = parse(
        messages(msg("interactive", {"type": "button_reply", "button_reply": {"id": "YES"}}))
    )
    assert isinstance(event, MessageReceived)
    assert event.text == "YES"


def test_order_without_prices_has_no_total():
    [event] = parse(
        messages(
            msg(
                "order",
                {
                    "catalog_id": "1",
                    "product_items": [
                        {"product_retailer_id": "CAFE", "quantity": 2},
                        {"quantity": 1},
                        "junk",
                    ],
                },
            )
        )
    )
    assert isinstance(event, MessageReceived)
    assert event.text == "🛒 Order: 2 x CAFE"
    assert event.attachments[0]["items"] == [
        {"product_retailer_id": "CAFE", "quantity": 2, "item_price": None, "currency": None}
    ]


def test_business_app_echoes_edits_and_revokes():
    value = {
        "metadata": METADATA,
        "message_echoes": [
            {
                "from": "34911234567",
                "to": "34612345678",
                "id": "wamid.e1",
                "timestamp": "1792051200",
                "type": "image",
                "image": {"id": "55", "mime_type": "image/jpeg", "caption": "Aquí está"},
            },
            {
                "from": "34911234567",
                "to": "34612345678",
                "id": "wamid.e2",
                "timestamp": "1792051260",
                "type": "edit",
                "edit": {
                    "original_message_id": "wamid.e1",
                    "message": {"type": "text", "text": {"body": "Corregido"}},
                },
            },
            {
                "from": "34911234567",
                "to": "34612345678",
                "id": "wamid.e3",
                "timestamp": "1792051320",
                "type": "revoke",
                "revoke": {"original_message_id": "wamid.e1"},
            },
            {
                "from": "34911234567",
                "to": "34612345678",
                "id": "wamid.e4",
                "timestamp": "1792051380",
                "type": "reaction",
                "reaction": {"message_id": "wamid.in", "emoji": "👍"},
            },
            {
                "from": "34911234567",
                "id": "wamid.e5",
                "type": "text",
                "text": {"body": "sin destino"},
            },
        ],
    }
    echo, edit, revoke, reaction, broken = parse(body(value, field="smb_message_echoes"))
    assert isinstance(echo, EchoReceived)
    assert echo.recipient is not None
    assert (echo.thread.key, echo.recipient.external_id, echo.text) == (
        "34612345678",
        "34612345678",
        "Aquí está",
    )
    assert echo.attachments == [{"type": "image", "media_id": "55", "mime_type": "image/jpeg"}]
    assert edit == MessageEdited("wamid.e1", "Corregido", edit.at)
    assert isinstance(revoke, MessageDeleted)
    assert (reaction, broken) == (Ignored("echo:reaction"), Ignored("malformed:echo"))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {
                "wa_id": "447700900123",
                "category": "marketing_messages",
                "value": "STOP",
                "timestamp": "1792052800",
            },
            False,
        ),
        ({"wa_id": "447700900123", "category": "marketing_messages", "value": "resume"}, True),
        (
            {"wa_id": "447700900123", "category": "service_messages", "value": "stop"},
            Ignored("preference:service_messages"),
        ),
        (
            {"wa_id": "447700900123", "category": "marketing_messages", "value": "maybe"},
            Ignored("preference_value:maybe"),
        ),
        ({"category": "marketing_messages", "value": "stop"}, Ignored("malformed:user_preference")),
    ],
)
def test_user_preferences(item, expected):
    [event] = parse(
        body({"metadata": METADATA, "user_preferences": [item]}, field="user_preferences")
    )
    if isinstance(expected, Ignored):
        assert event == expected
    else:
        assert isinstance(event, MarketingPreference)
        assert (event.person.external_id, event.opted_in) == ("447700900123", expected)
