"""Parsing on its own: tricky and hostile shapes (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.instagram.parse import (
    LIKE_HEART,
    mention_thread_key,
    parse,
    split_mention_thread_key,
    when,
)
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MessageEdited,
    MessageReceived,
    ReactionChanged,
    ReadUpTo,
    StatusChanged,
)
from tests.integration.channels.instagram.conftest import ACCOUNT

CHANNEL = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.instagram,
    external_id=ACCOUNT,
    name="@bottega.aurora",
    secrets={},
    settings={},
)
PERSON = "6523081971089342"
TS = 1773158712000


def body(*messaging: Any, changes: list[Any] | None = None, **entry: Any) -> bytes:
    content: dict[str, Any] = {"id": ACCOUNT, "time": TS + 500, **entry}
    if messaging:
        content["messaging"] = list(messaging)
    if changes is not None:
        content["changes"] = changes
    return json.dumps({"object": "instagram", "entry": [content]}).encode()


def item(**event: Any) -> dict[str, Any]:
    return {"sender": {"id": PERSON}, "recipient": {"id": ACCOUNT}, "timestamp": TS, **event}


def at(value: object) -> datetime:
    found = when(value)
    assert found is not None
    return found


def one(raw: bytes, channel: ChannelConfig = CHANNEL) -> Any:
    [event] = parse(channel, raw)
    return event


def test_a_body_that_is_not_a_json_object_raises():
    for raw in (b"<html>", b"\xff\xfe", b"42", b"null", b'"instagram"'):
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: the delivery fails
            parse(CHANNEL, raw)


@pytest.mark.parametrize(
    ("raw", "reasons"),
    [
        (b"{}", ["malformed_envelope"]),
        (b"[]", ["empty_delivery"]),
        (b"[1, null]", ["malformed_envelope", "malformed_envelope"]),
        (b'{"object": "instagram", "entry": []}', ["empty_delivery"]),
        (b'{"object": "instagram", "entry": {"id": "1"}}', ["malformed_envelope"]),
        (b'{"object": "whatsapp_business_account", "entry": []}', ["object_not_instagram"]),
        (
            json.dumps({"object": "instagram", "entry": [None, "x", {"id": ACCOUNT}]}).encode(),
            ["malformed_entry", "malformed_entry", "empty_entry"],
        ),
        (body(None, 7, "x", {}), ["malformed_messaging"] * 3 + ["unknown_messaging_event"]),
        (body(item(message=[])), ["malformed_message"]),
        (body(item(message={"text": "no mid"})), ["message_without_id"]),
        (body(item(message={"mid": "m1"})), ["empty_message"]),
        (body(item(message={"mid": "m1", "attachments": "nope"})), ["empty_message"]),
        (
            body(
                {
                    "recipient": {"id": ACCOUNT},
                    "timestamp": TS,
                    "message": {"mid": "m1", "text": "x"},
                }
            ),
            ["message_without_sender"],
        ),
        (
            body(item(message={"mid": "m1", "text": "x", "is_echo": True}, recipient={})),
            ["malformed_echo"],
        ),
        (body(item(message_edit={"text": "x"})), ["malformed_edit"]),
        (body(item(reaction={"mid": "m1", "action": "react"})), ["malformed_reaction"]),
        (body(item(reaction="love")), ["malformed_reaction"]),
        (body(item(read={})), ["malformed_read"]),
        (body(item(postback={})), ["empty_postback"]),
        (body(item(optin={"ref": "x"})), ["optin"]),
        (body(item(take_thread_control={"previous_owner_app_id": "1"})), ["handover"]),
        (
            body(changes=[None, {"field": "comments"}, {"field": "comments", "value": []}]),
            ["malformed_change"] * 3,
        ),
        (
            body(changes=[{"field": "comments", "value": {"id": "1", "text": "no author"}}]),
            ["malformed_comment"],
        ),
        (body(changes=[{"field": "mentions", "value": {}}]), ["malformed_mention"]),
        (body(changes=[{"field": "delete", "value": {"id": "1"}}]), ["unknown_field:delete"]),
        (body(changes=[{"field": "x" * 500, "value": {}}]), ["unknown_field:" + "x" * 40]),
    ],
)
def test_unexpected_shapes_become_ignored_never_exceptions(raw, reasons):
    events = parse(CHANNEL, raw)
    assert [e.reason if isinstance(e, Ignored) else e for e in events] == reasons


def test_every_entry_and_item_of_a_body_is_returned():
    raw = json.dumps(
        [
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": ACCOUNT,
                        "time": TS,
                        "messaging": [
                            item(message={"mid": f"m{i}", "text": f"message {i}"}) for i in range(3)
                        ],
                    },
                    {
                        "id": ACCOUNT,
                        "time": TS,
                        "changes": [
                            {
                                "field": "comments",
                                "value": {
                                    "id": "c1",
                                    "text": "hi",
                                    "from": {"id": "99", "username": "u"},
                                },
                            }
                        ],
                    },
                ],
            }
        ]
    ).encode()
    events = parse(CHANNEL, raw)
    assert [getattr(e, "external_id", None) for e in events] == ["m0", "m1", "m2", "c1"]


def test_ids_sent_as_numbers_are_strings():
    event = one(
        json.dumps(
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": int(ACCOUNT),
                        "messaging": [
                            {
                                "sender": {"id": int(PERSON)},
                                "recipient": {"id": int(ACCOUNT)},
                                "timestamp": TS,
                                "message": {"mid": "m1", "text": "Ciao"},
                            }
                        ],
                    }
                ],
            }
        ).encode()
    )
    assert isinstance(event, MessageReceived)
    assert event.sender.external_id == PERSON
    assert event.thread.key == PERSON


def test_a_message_from_the_account_is_an_echo_even_without_the_flag():
    event = one(
        body(
            {
                "sender": {"id": ACCOUNT},
                "recipient": {"id": PERSON},
                "timestamp": TS,
                "message": {"mid": "m1", "text": "Hola"},
            }
        )
    )
    assert isinstance(event, EchoReceived)
    assert event.recipient is not None
    assert (event.thread.kind, event.thread.key, event.recipient.external_id) == (
        Kind.dm,
        PERSON,
        PERSON,
    )


def test_times_milliseconds_seconds_iso_and_fallbacks():
    assert when(TS) == datetime(2026, 3, 10, 16, 5, 12, tzinfo=UTC)
    assert when(TS // 1000) == when(str(TS)) == when(TS)
    assert when("2021-09-08T06:34:04+0000") == datetime(2021, 9, 8, 6, 34, 4, tzinfo=UTC)
    assert when("2021-09-08T06:34:04") == datetime(2021, 9, 8, 6, 34, 4, tzinfo=UTC)
    garbage: object
    for garbage in (None, True, "soon", 10**30, -5, [], 12):
        assert when(garbage) is None
    # A garbage message time falls back on the entry's time.
    event = one(body(item(message={"mid": "m1", "text": "x"}, timestamp="soon")))
    assert event.sent_at == when(TS + 500)


def test_like_heart_is_a_heart_and_does_not_replace_text():
    heart = one(body(item(message={"mid": "m1", "attachments": [{"type": "like_heart"}]})))
    assert (heart.text, heart.attachments) == (LIKE_HEART, [])
    worded = one(
        body(item(message={"mid": "m2", "text": "Grazie", "attachments": [{"type": "like_heart"}]}))
    )
    assert worded.text == "Grazie"


def test_post_share_sent_twice_is_one_post_and_unknown_types_are_kept():
    url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"
    event = one(
        body(
            item(
                message={
                    "mid": "m1",
                    "attachments": [
                        {"type": "share", "payload": {"url": url, "ig_post_media_id": "1"}},
                        {
                            "type": "ig_post",
                            "payload": {"url": url, "ig_post_media_id": "1", "title": "Spring"},
                        },
                        {"type": "share", "payload": {"url": url + "2"}},
                        {"type": "sticker_pack_v2", "payload": {"url": url + "3"}},
                        "junk",
                        {"payload": {"url": url + "4"}},
                    ],
                }
            )
        )
    )
    assert event.attachments == [
        {"type": "post", "url": url, "title": "Spring", "media_id": "1"},
        {"type": "share", "url": url + "2"},
        {"type": "sticker_pack_v2", "url": url + "3"},
        {"type": "file", "url": url + "4"},
    ]


def test_edits_count_from_one():
    assert isinstance(one(body(item(message_edit={"mid": "m1", "text": "x"}))), MessageEdited)
    assert isinstance(
        one(body(item(message_edit={"mid": "m1", "text": "x", "num_edit": "2"}))), MessageEdited
    )
    zero = one(body(item(message_edit={"mid": "m1", "text": "x", "num_edit": "0"})))
    assert zero == Ignored("edit_without_change")


def test_reactions_emoji_name_and_removal():
    named = one(body(item(reaction={"mid": "m1", "action": "react", "reaction": "wow"})))
    assert isinstance(named, ReactionChanged)
    assert (named.reaction, named.person_external_id) == ("wow", PERSON)
    removed = one(body(item(reaction={"mid": "m1", "action": "unreact", "emoji": "x"})))
    assert removed.reaction is None


def test_reads():
    assert one(body(item(read={"mid": "m9"}))) == StatusChanged(
        external_id="m9", status="read", at=at(TS)
    )
    watermark = one(body(item(read={"watermark": TS - 1000})))
    assert watermark == ReadUpTo(person_external_id=PERSON, watermark=at(TS - 1000))
    own = one(
        body(
            {
                "sender": {"id": ACCOUNT},
                "recipient": {"id": PERSON},
                "timestamp": TS,
                "read": {"mid": "m9"},
            }
        )
    )
    assert own == Ignored("own_read")


def test_a_postback_without_mid_gets_a_stable_id():
    raw = body(item(postback={"title": "Opening hours?", "payload": "HOURS"}))
    first, second = one(raw), one(raw)
    assert first.external_id == second.external_id == f"postback:{PERSON}:{TS}"
    assert first.text == "Opening hours?"
    assert (first.attachments, first.extra) == ([], {"postback_payload": "HOURS"})


def test_quick_replies_and_ad_referrals_are_kept_in_extra():
    event = one(
        body(
            item(
                message={
                    "mid": "m1",
                    "text": "Track my order",
                    "quick_reply": {"payload": "TRACK"},
                    "referral": {
                        "ref": "spring",
                        "ad_id": "1202",
                        "source": "ADS",
                        "type": "OPEN_THREAD",
                        "ads_context_data": {"ad_title": "Rebajas", "photo_url": "https://x"},
                    },
                }
            )
        )
    )
    assert event.extra == {
        "quick_reply_payload": "TRACK",
        "referral": {
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ref": "spring",
            "ad_id": "1202",
            "ad_title": "Rebajas",
        },
    }
    assert one(body(item(message={"mid": "m2", "text": "x"}))).extra == {}


def comment(**value: Any) -> bytes:
    return body(
        changes=[
            {
                "field": "comments",
                "value": {
                    "from": {"id": "17855631927041293", "username": "marco.esposito"},
                    "text": "Bello!",
                    "media": {"id": "180", "media_product_type": "FEED"},
                    **value,
                },
            }
        ],
        time=1773159112,
    )


def test_comment_threads_and_times():
    top = one(comment(id="c1"))
    assert (top.thread.kind, top.thread.key, top.reply_to_external_id) == (Kind.comment, "c1", None)
    assert top.sent_at == datetime.fromtimestamp(1773159112, UTC)
    reply = one(comment(id="c2", parent_id="c1", timestamp="2026-03-10T16:20:00+0000"))
    assert (reply.thread.key, reply.reply_to_external_id) == ("c1", "c1")
    assert reply.sent_at == datetime(2026, 3, 10, 16, 20, tzinfo=UTC)
    assert reply.sender.handle == "marco.esposito"
    assert reply.extra == {"media_id": "180", "media_product_type": "FEED"}
    unknown_media = one(comment(id="c3", media={}))
    assert unknown_media.thread.subject == "Instagram post"


def test_own_comments():
    own = {"from": {"id": ACCOUNT, "username": "bottega.aurora"}}
    reply = one(comment(id="c2", parent_id="c1", **own))
    assert isinstance(reply, EchoReceived)
    assert reply.thread.key == "c1"
    assert reply.recipient is None  # Instagram does not say whom the account answered
    assert one(comment(id="c3", **own)) == Ignored("own_comment")


def test_mentions_carry_their_ids_until_expanded():
    event = one(
        body(changes=[{"field": "mentions", "value": {"comment_id": "c7", "media_id": "m7"}}])
    )
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.external_id) == (Kind.mention, "m7_c7", "c7")
    assert event.text == ""
    assert event.extra == {"media_id": "m7", "comment_id": "c7"}
    assert event.attachments == [
        {"type": "mention", "comment_id": "c7", "media_id": "m7", "unresolved": True}
    ]
    assert mention_thread_key("m7", "") == "m7"
    assert split_mention_thread_key("m7_c7") == ("m7", "c7")
    assert split_mention_thread_key("m7") == ("m7", None)
    no_media = one(body(changes=[{"field": "mentions", "value": {"comment_id": "c8"}}]))
    assert split_mention_thread_key(no_media.thread.key) == ("", "c8")


def test_live_comments_are_comments_unless_the_channel_ignores_them():
    raw = body(
        changes=[
            {
                "field": "live_comments",
                "value": {
                    "id": "l1",
                    "text": "Ciao!",
                    "from": {"id": "5", "username": "chiara"},
                    "media": {"id": "m1", "media_product_type": "LIVE"},
                },
            }
        ]
    )
    assert one(raw).thread.subject == "Instagram live video m1"
    muted = ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.instagram,
        external_id=ACCOUNT,
        name="x",
        secrets={},
        settings={"ignore_live_comments": True},
    )
    assert one(raw, muted) == Ignored("live_comment")
