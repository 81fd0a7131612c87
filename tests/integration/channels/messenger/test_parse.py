"""The parser on shapes the fixtures do not show: odd types, missing fields, batches. Unit tests:
no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.messenger import feed, parse
from bandeja.channels.messenger.shape import when
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    CommentHidden,
    EchoReceived,
    Ignored,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    ReactionChanged,
    ReadUpTo,
    StatusChanged,
)

PAGE = "104857600123456"
PSID = "7234561098765432"
CHANNEL = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.messenger,
    external_id=PAGE,
    name="Horno Bandeja",
    secrets={},
    settings={},
)
TS = 1773150000000
AT = datetime(2026, 3, 10, 13, 40, tzinfo=UTC)


def body(*items: Any, key: str = "messaging", entry: dict[str, Any] | None = None) -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [{"id": PAGE, "time": TS + 500, key: list(items), **(entry or {})}],
        }
    ).encode()


def from_person(**event: Any) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": TS, **event}


def one(data: bytes) -> Any:
    [event] = parse.parse(CHANNEL, data)
    return event


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"page"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_raises_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError and UnicodeDecodeError too
        parse.parse(CHANNEL, raw)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"object": "page"}, "malformed:no_entry"),
        ({"object": "page", "entry": {"id": PAGE}}, "malformed:no_entry"),
        ({"object": "page", "entry": ["x"]}, "malformed:entry"),
        ({"object": "page", "entry": [{"id": PAGE, "time": TS}]}, "empty_entry"),
        ({"object": "page", "entry": [{"id": PAGE, "messaging": "x"}]}, "empty_entry"),
        ({"object": "page", "entry": [{"id": PAGE, "messaging": [42]}]}, "malformed:messaging"),
        ({"object": "user", "entry": []}, "unsupported:object:user"),
        ({"entry": []}, "unsupported:object:None"),
    ],
)
def test_unexpected_envelopes_are_ignored_with_a_reason(data: dict[str, Any], reason: str) -> None:
    assert parse.parse(CHANNEL, json.dumps(data).encode()) == [Ignored(reason)]


def test_numeric_ids_and_second_timestamps_are_read() -> None:
    event = one(
        json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": int(PAGE),
                        "time": TS,
                        "messaging": [
                            {
                                "sender": {"id": int(PSID)},
                                "recipient": {"id": int(PAGE)},
                                "timestamp": str(TS // 1000),
                                "message": {"mid": "m_1", "text": "hi"},
                            }
                        ],
                    }
                ],
            }
        ).encode()
    )
    assert isinstance(event, MessageReceived)
    assert (event.sender.external_id, event.thread.key) == (PSID, PSID)
    assert event.sent_at == AT


def test_a_missing_timestamp_falls_back_to_the_entry_time() -> None:
    event = one(
        body(
            {
                "sender": {"id": PSID},
                "recipient": {"id": PAGE},
                "message": {"mid": "m_1", "text": "hola"},
            }
        )
    )
    assert event.sent_at == datetime(2026, 3, 10, 13, 40, 0, 500000, tzinfo=UTC)


def test_many_entries_and_events_all_come_out_in_order() -> None:
    data = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": TS,
                    "messaging": [
                        from_person(message={"mid": "m_1", "text": "uno"}),
                        from_person(read={"watermark": TS}),
                    ],
                },
                {
                    "id": PAGE,
                    "time": TS,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "hide",
                                "comment_id": "1_2",
                                "post_id": f"{PAGE}_1",
                            },
                        }
                    ],
                    "standby": [from_person(message={"mid": "m_2", "text": "dos"})],
                },
            ],
        }
    ).encode()
    events = parse.parse(CHANNEL, data)
    assert [type(e).__name__ for e in events] == [
        "MessageReceived",
        "ReadUpTo",
        "Ignored",
        "CommentHidden",
    ]
    assert events[2] == Ignored("standby:message")


def test_an_entry_for_another_page_is_not_ours() -> None:
    data = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "999",
                    "time": TS,
                    "messaging": [from_person(message={"mid": "m", "text": "x"})],
                },
                {
                    "id": PAGE,
                    "time": TS,
                    "messaging": [from_person(message={"mid": "m2", "text": "y"})],
                },
            ],
        }
    ).encode()
    first, second = parse.parse(CHANNEL, data)
    assert first == Ignored("other_page")
    assert isinstance(second, MessageReceived)
    assert second.external_id == "m2"


def test_an_echo_is_in_the_recipients_thread_with_its_metadata() -> None:
    event = one(
        body(
            {
                "sender": {"id": PAGE},
                "recipient": {"id": PSID},
                "timestamp": TS,
                "message": {
                    "mid": "m_e",
                    "is_echo": True,
                    "app_id": 1,
                    "metadata": "bandeja:k1",
                    "text": "ok",
                },
            }
        )
    )
    assert isinstance(event, EchoReceived)
    assert event.recipient is not None
    assert (event.thread.kind, event.thread.key, event.recipient.external_id) == (
        Kind.dm,
        PSID,
        PSID,
    )
    assert event.metadata == "bandeja:k1"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"text": "no mid"}, "malformed:message"),
        ("text", "malformed:message"),
        ({"mid": "m_1"}, "empty_message"),
        ({"mid": "m_1", "text": "", "attachments": "nope"}, "empty_message"),
    ],
)
def test_messages_without_what_they_need_are_ignored(message: Any, reason: str) -> None:
    assert one(body(from_person(message=message))) == Ignored(reason)


def test_an_echo_without_recipient_and_a_page_message_are_ignored() -> None:
    echo = {
        "sender": {"id": PAGE},
        "timestamp": TS,
        "message": {"mid": "m", "is_echo": True, "text": "x"},
    }
    assert one(body(echo)) == Ignored("malformed:echo")
    not_echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": PSID},
        "timestamp": TS,
        "message": {"mid": "m", "text": "x"},
    }
    assert one(body(not_echo)) == Ignored("message_from_page")


def test_an_unsent_message_is_deleted() -> None:
    event = one(body(from_person(message={"mid": "m_1", "is_deleted": True})))
    assert event == MessageDeleted(external_id="m_1", at=AT)


def test_attachments_keep_type_url_title_and_coordinates() -> None:
    message = {
        "mid": "m_1",
        "attachments": [
            {"type": "image", "payload": {"url": "https://x/a.jpg", "sticker_id": 369239263222822}},
            {"type": "fallback", "payload": None, "title": "A link", "URL": "https://x/page"},
            {"type": "location", "payload": {"coordinates": {"lat": 45.46, "long": 9.19}}},
            {"type": "template", "payload": {"template_type": "generic"}},
            "garbage",
            {"payload": {"url": "https://x/file"}},
        ],
    }
    event = one(body(from_person(message=message)))
    assert event.attachments == [
        {"type": "image", "url": "https://x/a.jpg", "sticker_id": "369239263222822"},
        {"type": "fallback", "url": "https://x/page", "name": "A link"},
        {"type": "location", "lat": 45.46, "long": 9.19},
        {"type": "template", "template_type": "generic"},
        {"type": "file", "url": "https://x/file"},
    ]


def test_quick_reply_payload_and_referral_are_the_message_extras() -> None:
    message = {
        "mid": "m",
        "text": "Sí",
        "quick_reply": {"payload": "YES"},
        "referral": {"ref": "ad-7", "source": "ADS", "type": "OPEN_THREAD"},
    }
    assert parse.message_extra(message) == {
        "quick_reply_payload": "YES",
        "referral": {"ref": "ad-7", "source": "ADS", "type": "OPEN_THREAD"},
    }
    assert parse.message_extra({"quick_reply": {"payload": 7}, "referral": "x"}) == {}
    event = one(body(from_person(message=message)))
    assert event.text == "Sí"


def test_a_postback_without_mid_gets_a_stable_id_and_keeps_its_payload() -> None:
    postback = {"payload": "GET_STARTED", "referral": {"ref": "qr-1", "source": "SHORTLINK"}}
    first = one(body(from_person(postback=postback)))
    again = one(body(from_person(postback=postback)))
    assert first.external_id == again.external_id == f"postback:{PSID}:{TS}"
    assert first.text == "GET_STARTED"  # no title: the payload is all there is
    assert parse.postback_extra(postback) == {
        "postback_payload": "GET_STARTED",
        "referral": {"ref": "qr-1", "source": "SHORTLINK"},
    }
    assert one(body(from_person(postback={}))) == Ignored("malformed:postback")


def test_delivery_marks_each_mid_and_everything_before_the_watermark() -> None:
    events = parse.parse(
        CHANNEL, body(from_person(delivery={"mids": ["m_a", 12345, None], "watermark": TS - 1000}))
    )
    at = datetime(2026, 3, 10, 13, 39, 59, tzinfo=UTC)
    assert events == [
        StatusChanged("m_a", "delivered", at),
        StatusChanged("12345", "delivered", at),
        ReadUpTo(PSID, at, status="delivered"),
    ]
    assert one(body(from_person(delivery={}))) == Ignored("malformed:delivery")


def test_read_needs_a_watermark() -> None:
    assert one(body(from_person(read={"watermark": TS}))) == ReadUpTo(PSID, AT)
    assert one(body(from_person(read={}))) == Ignored("malformed:read")


@pytest.mark.parametrize(
    ("reaction", "expected"),
    [
        ({"mid": "m", "action": "react", "reaction": "love", "emoji": "❤️"}, "❤️"),
        ({"mid": "m", "action": "react", "reaction": "wow"}, "😮"),
        ({"mid": "m", "action": "react", "reaction": "other"}, "other"),
        ({"mid": "m", "action": "unreact"}, None),
    ],
)
def test_reactions(reaction: dict[str, Any], expected: str | None) -> None:
    assert one(body(from_person(reaction=reaction))) == ReactionChanged("m", PSID, expected, AT)


def test_an_edit_replaces_the_text() -> None:
    edit = {"mid": "m_1", "text": "Corrijo: seis personas", "num_edit": 2}
    assert one(body(from_person(message_edit=edit))) == MessageEdited(
        "m_1", "Corrijo: seis personas", AT
    )
    assert one(body(from_person(message_edit={"mid": "m_1"}))) == Ignored("malformed:message_edit")


@pytest.mark.parametrize(
    ("optin", "sender", "expected"),
    [
        ({"type": "notification_messages"}, PSID, True),
        (
            {"type": "notification_messages", "notification_messages_status": "STOP NOTIFICATIONS"},
            PSID,
            False,
        ),
        (
            {
                "type": "notification_messages",
                "notification_messages_status": "RESUME NOTIFICATIONS",
            },
            PSID,
            True,
        ),
        ({"type": "notification_messages"}, None, Ignored("optin:no_psid")),
        ({"type": "one_time_notif_req", "payload": "x"}, PSID, Ignored("optin:one_time_notif_req")),
        ({"ref": "checkout", "user_ref": "u-1"}, PSID, Ignored("optin:plugin")),
    ],
)
def test_optins(optin: dict[str, Any], sender: str | None, expected: Any) -> None:
    item = {"recipient": {"id": PAGE}, "timestamp": TS, "optin": optin}
    if sender:
        item["sender"] = {"id": sender}
    else:
        item["sender"] = {"user_ref": "u-1"}
    event = one(body(item))
    if isinstance(expected, bool):
        assert isinstance(event, MarketingPreference)
        assert (event.person.external_id, event.opted_in, event.at) == (PSID, expected, AT)
    else:
        assert event == expected


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("referral", "referral"),
        ("pass_thread_control", "handover:pass_thread_control"),
        ("request_thread_control", "handover:request_thread_control"),
        ("app_roles", "handover:app_roles"),
        ("policy_enforcement", "unsupported:policy_enforcement"),
        ("game_play", "unsupported:game_play"),
    ],
)
def test_other_messaging_events_are_ignored_with_their_name(key: str, reason: str) -> None:
    assert one(body(from_person(**{key: {"x": 1}}))) == Ignored(reason)


# --- the Page feed ---------------------------------------------------------------------------


def change(value: Any, field: str = "feed") -> bytes:
    return body({"field": field, "value": value}, key="changes", entry={"time": TS // 1000 + 60})


def comment(**value: Any) -> dict[str, Any]:
    return {
        "item": "comment",
        "verb": "add",
        "post_id": f"{PAGE}_11",
        "comment_id": "11_22",
        "parent_id": f"{PAGE}_11",
        "created_time": TS // 1000,
        "message": "Great!",
        "from": {"id": "8765", "name": "Olivia Bennett"},
        **value,
    }


def test_a_top_level_comment_is_its_own_thread_and_a_reply_joins_its_parent() -> None:
    top = one(change(comment()))
    reply = one(change(comment(comment_id="11_33", parent_id="11_22")))
    assert (top.thread.kind, top.thread.key, top.reply_to_external_id) == (
        Kind.comment,
        "11_22",
        None,
    )
    assert (reply.thread.key, reply.reply_to_external_id) == ("11_22", "11_22")
    assert top.thread.subject == f"{PAGE}_11"
    assert top.thread.post_url == f"https://www.facebook.com/{PAGE}_11"
    assert top.sender.display_name == "Olivia Bennett"


def test_the_post_text_is_the_subject_when_facebook_sends_it() -> None:
    event = one(
        change(
            comment(
                post={
                    "id": f"{PAGE}_11",
                    "message": "Nuovo menù d'autunno",
                    "permalink_url": "https://www.facebook.com/p/1",
                }
            )
        )
    )
    assert (event.thread.subject, event.thread.post_url) == (
        "Nuovo menù d'autunno",
        "https://www.facebook.com/p/1",
    )


def test_a_comment_with_only_sender_id_and_without_parent() -> None:
    value = comment(sender_id=987, sender_name="Tester")
    del value["from"], value["parent_id"]
    event = one(change(value))
    assert (event.sender.external_id, event.sender.display_name) == ("987", "Tester")
    assert event.thread.key == "11_22"


def test_the_pages_own_comments() -> None:
    page = {"id": PAGE, "name": "Horno Bandeja"}
    reply = one(change(comment(comment_id="11_44", parent_id="11_22", **{"from": page})))
    assert isinstance(reply, EchoReceived)
    assert (reply.thread.key, reply.external_id) == ("11_22", "11_44")
    assert one(change(comment(**{"from": page}))) == Ignored("feed:page_comment")


def test_comment_changes_are_dated_by_the_notification() -> None:
    at = datetime(2026, 3, 10, 13, 41, tzinfo=UTC)
    assert one(change(comment(verb="edit", message="Great!!"))) == MessageEdited(
        "11_22", "Great!!", at
    )
    assert one(change(comment(verb="edited"))) == MessageEdited("11_22", "Great!", at)
    assert one(change(comment(verb="remove"))) == MessageDeleted("11_22", at)
    assert one(change(comment(verb="hide"))) == CommentHidden("11_22", True, at)
    assert one(change(comment(verb="unhide"))) == CommentHidden("11_22", False, at)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (comment(verb="block"), "feed:comment:block"),
        ({**comment(), "comment_id": None}, "malformed:comment"),
        ({**comment(), "message": "", "from": {"id": "1"}}, "empty_comment"),
        ({"item": "like", "verb": "add", "post_id": "1_2"}, "feed:like"),
        ({"item": "share", "verb": "add"}, "feed:share"),
        (
            {"item": "reaction", "verb": "add", "post_id": "1_2", "reaction_type": "like"},
            "feed:reaction",
        ),
        ({"item": "live_video", "verb": "add"}, "feed:unsupported:live_video"),
        ("nope", "malformed:feed"),
    ],
)
def test_feed_items_that_are_not_comments_are_ignored(value: Any, reason: str) -> None:
    assert one(change(value)) == Ignored(reason)


def test_other_page_fields_and_broken_changes() -> None:
    assert one(change({"x": 1}, field="mention")) == Ignored("unsupported:mention")
    assert one(body("garbage", key="changes")) == Ignored("malformed:change")


def test_reactions_to_comments() -> None:
    value = {
        "item": "reaction",
        "verb": "add",
        "reaction_type": "haha",
        "comment_id": "11_44",
        "post_id": f"{PAGE}_11",
        "from": {"id": "8765"},
        "created_time": TS // 1000,
    }
    at = datetime(2026, 3, 10, 13, 40, tzinfo=UTC)
    assert one(change(value)) == ReactionChanged("11_44", "8765", "😆", at)
    assert one(change({**value, "verb": "remove"})) == ReactionChanged("11_44", "8765", None, at)


def test_feed_thread_of_keeps_long_subjects_short() -> None:
    thread = feed.thread_of({"post_id": "1_2", "post": {"message": "x" * 900}}, "2_3")
    assert thread.subject == "x" * 500


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1773150000, AT),
        (1773150000000, AT),
        ("1773150000", AT),
        (1773150000.0, AT),
        ("2026-03-10T13:40:00+0000", AT),
        ("2026-03-10T13:40:00Z", AT),
        ("2026-03-10T13:40:00", AT),
        (True, None),
        (0, None),
        (-5, None),
        ("soon", None),
        (None, None),
        (10**30, None),
    ],
)
def test_times(value: Any, expected: datetime | None) -> None:
    assert when(value) == expected
