"""Unit tests of the X parser and sender on tricky shapes (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bandeja.channels.base import ChannelConfig, SendError, SendRequest
from bandeja.channels.x import parse, send
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MessageReceived,
    ReactionChanged,
    ReadUpTo,
)
from tests.integration.channels.x.conftest import ME
from tests.support.webhooks import fixture_json

CHANNEL = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.x,
    external_id=ME,
    name="Café Aurora",
    secrets={"access_token": "user-token"},
    settings={"api_base_url": "https://api.example"},
)


def events(document: Any) -> list[Any]:
    return parse.parse(CHANNEL, json.dumps(document).encode())


def dm(**create: Any) -> dict[str, Any]:
    return {
        "for_user_id": ME,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "2120807324498031297",
                "created_timestamp": "1794480843512",
                "message_create": {
                    "target": {"recipient_id": ME},
                    "sender_id": "884213377",
                    "message_data": {"text": "hi"},
                    **create,
                },
            }
        ],
    }


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe", b"[]", b"42", b'"text"', b"null"])
def test_a_body_that_is_not_a_json_object_raises_value_error(body):
    with pytest.raises(ValueError):  # noqa: PT011 - json's and ours
        parse.parse(CHANNEL, body)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"for_user_id": ME},
        {"data": {}},
        {"data": {"event_type": 7}},
        {"data": {"event_type": "dm.received", "payload": "x"}},
        {"data": {"event_type": "post.mention.create", "filter": {"user_id": ME}, "payload": {}}},
        {"for_user_id": ME, "direct_message_events": "nope"},
        {"for_user_id": ME, "tweet_create_events": [None, 1, "x", {"id_str": "1"}]},
        {"for_user_id": ME, "favorite_events": [{"favorited_status": []}]},
        {"for_user_id": ME, "direct_message_mark_read_events": [{"sender_id": "1"}]},
        {"for_user_id": ME, "tweet_delete_events": [{"status": {"id": "1"}, "timestamp_ms": "x"}]},
        {"for_user_id": ME, "spaces_events": [{}]},
        {"user_event": {}},
    ],
)
def test_surprising_shapes_are_ignored_never_raised(document):
    found = events(document)
    assert found
    assert all(isinstance(e, Ignored) for e in found), found


def test_ids_sent_as_numbers_are_read_as_strings():
    [event] = events(
        {
            "for_user_id": int(ME),
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": 2120807324498031297,
                    "created_timestamp": 1794480843512,
                    "message_create": {
                        "target": {"recipient_id": int(ME)},
                        "sender_id": 884213377,
                        "message_data": {"text": "hi"},
                    },
                }
            ],
        }
    )
    assert isinstance(event, MessageReceived)
    assert (event.external_id, event.sender.external_id) == ("2120807324498031297", "884213377")


def test_a_dm_without_its_timestamp_takes_the_time_in_its_id():
    document = dm()
    del document["direct_message_events"][0]["created_timestamp"]
    [event] = events(document)
    assert event.sent_at == datetime(2026, 11, 12, 9, 14, 3, 512000, tzinfo=UTC)


def test_group_events_that_are_not_messages_are_ignored_by_type():
    document = dm()
    document["direct_message_events"][0]["type"] = "participants_join"
    assert events(document) == [Ignored("dm_participants_join")]


def test_video_attachments_take_the_best_mp4():
    [event] = events(
        dm(
            message_data={
                "text": "mirad",
                "attachment": {
                    "type": "media",
                    "media": {
                        "id_str": "9",
                        "type": "video",
                        "media_url_https": "https://pbs.twimg.com/thumb.jpg",
                        "video_info": {
                            "variants": [
                                {
                                    "content_type": "application/x-mpegURL",
                                    "url": "https://video.twimg.com/a.m3u8",
                                },
                                {
                                    "bitrate": 256000,
                                    "content_type": "video/mp4",
                                    "url": "https://video.twimg.com/lo.mp4",
                                },
                                {
                                    "bitrate": 2176000,
                                    "content_type": "video/mp4",
                                    "url": "https://video.twimg.com/hi.mp4",
                                },
                            ]
                        },
                    },
                },
            }
        )
    )
    assert event.attachments == [
        {"type": "video", "url": "https://video.twimg.com/hi.mp4", "id": "9"}
    ]


def test_an_echo_of_a_group_dm_goes_to_the_group_thread():
    document = dm(sender_id=ME)
    document["direct_message_events"][0]["dm_conversation_id"] = "2121558257955910337"
    [event] = events(document)
    assert isinstance(event, EchoReceived)
    assert event.thread.key == "2121558257955910337"


def test_a_one_to_one_conversation_id_does_not_make_a_group():
    document = dm()
    document["direct_message_events"][0]["dm_conversation_id"] = f"884213377-{ME}"
    [event] = events(document)
    assert event.thread.key == "884213377"


def test_a_read_receipt_uses_the_time_in_the_read_message_id():
    [event] = events(fixture_json("x", "direct_message_mark_read_events__read"))
    assert isinstance(event, ReadUpTo)
    # Read at 10:02:31; the message read was stored at 10:00:05 (its snowflake id).
    assert event.watermark == datetime(2026, 11, 12, 10, 0, 5, tzinfo=UTC)


def test_the_account_reading_is_not_a_receipt():
    document = fixture_json("x", "direct_message_mark_read_events__read")
    document["direct_message_mark_read_events"][0]["sender_id"] = ME
    assert events(document) == [Ignored("own_read")]


def test_a_like_of_someone_elses_post_is_not_ours():
    document = fixture_json("x", "favorite_events__our_post")
    document["favorite_events"][0]["favorited_status"]["user"]["id_str"] = "42"
    assert events(document) == [Ignored("like_not_ours")]


def test_a_quote_that_mentions_us_is_a_mention():
    document = fixture_json("x", "tweet_create_events__quote")
    tweet = document["tweet_create_events"][0]
    tweet["text"] = "@cafeaurora " + tweet["text"]
    tweet["entities"]["user_mentions"] = [
        {"id_str": ME, "screen_name": "cafeaurora", "indices": [0, 11]}
    ]
    [event] = events(document)
    assert isinstance(event, MessageReceived)
    assert event.thread.kind is Kind.mention


def test_a_post_that_does_not_concern_us_is_ignored():
    document = fixture_json("x", "tweet_create_events__mention")
    document["tweet_create_events"][0]["entities"]["user_mentions"] = []
    assert events(document) == [Ignored("not_mentioned")]


def test_our_reply_to_our_own_thread_is_not_an_echo():
    document = fixture_json("x", "tweet_create_events__own_reply")
    tweet = document["tweet_create_events"][0]
    tweet["in_reply_to_user_id_str"] = ME
    assert events(document) == [Ignored("own_thread")]


def test_a_visible_leading_mention_is_kept():
    # display_text_range starts at 0: the @mention is part of what the person wrote.
    [event] = events(fixture_json("x", "tweet_create_events__mention"))
    assert event.text.startswith("@cafeaurora ")


def test_an_outbound_xaa_like_is_ours_and_an_inbound_one_names_the_liker():
    document = fixture_json("x", "xaa_like_create__inbound")
    [event] = events(document)
    assert isinstance(event, ReactionChanged)
    assert event.person_external_id == "1298455672871034881"
    assert event.reaction == "❤️"
    document["data"]["filter"]["direction"] = "outbound"
    assert events(document) == [Ignored("own_like")]
    document["data"]["filter"].pop("direction")
    document["data"]["includes"] = {}
    assert events(document) == [Ignored("like_without_user")]


def test_xaa_events_for_another_account_are_ignored():
    document = fixture_json("x", "xaa_dm_received__text")
    document["data"]["filter"]["user_id"] = "1"
    assert events(document) == [Ignored("other_account")]


def test_an_unknown_xaa_event_type_is_counted_by_name():
    assert events(
        {"data": {"event_type": "spaces.start", "filter": {"user_id": ME}, "payload": {}}}
    ) == [Ignored("spaces.start")]
    assert events(
        {"data": {"event_type": "grok.summary", "filter": {"user_id": ME}, "payload": {}}}
    ) == [Ignored("unsupported:grok.summary")]


# --- send: the exact request, and X's errors ----------------------------------------------------


def request(kind: Kind = Kind.dm, **fields: Any) -> SendRequest:
    return SendRequest(
        **{
            "message_id": 1,
            "idempotency_key": "bdj-key-1",
            "text": "¡Hola!",
            "kind": kind,
            "thread_key": "884213377",
            "recipient_id": "884213377",
            **fields,
        }
    )


async def capture(req: SendRequest, answer: httpx.Response) -> tuple[httpx.Request, Any]:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return answer

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await send.send(client, CHANNEL, req)
    return seen[0], result


async def test_a_dm_request_is_xs_one_to_one_endpoint_with_the_user_token():
    answer = httpx.Response(
        201, json={"data": {"dm_conversation_id": f"884213377-{ME}", "dm_event_id": "2125"}}
    )
    sent, result = await capture(request(), answer)
    assert str(sent.url) == "https://api.example/2/dm_conversations/with/884213377/messages"
    assert sent.headers["authorization"] == "Bearer user-token"
    assert sent.headers["idempotency-key"] == "bdj-key-1"
    assert json.loads(sent.content) == {"text": "¡Hola!"}
    assert (result.external_id, result.recipient_id) == ("2125", "884213377")


async def test_a_group_thread_posts_to_the_conversation():
    answer = httpx.Response(201, json={"data": {"dm_conversation_id": "77", "dm_event_id": "8"}})
    sent, _ = await capture(request(thread_key="2121558257955910337"), answer)
    assert sent.url.path == "/2/dm_conversations/2121558257955910337/messages"


async def test_a_mention_reply_posts_a_reply_with_media_ids():
    answer = httpx.Response(201, json={"data": {"id": "99", "text": "¡Hola!"}})
    sent, result = await capture(
        request(
            Kind.mention,
            reply_to_external_id="2122306215605490369",
            attachments=[{"media_id": "1880028106020515840"}],
        ),
        answer,
    )
    assert sent.url.path == "/2/tweets"
    assert json.loads(sent.content) == {
        "text": "¡Hola!",
        "reply": {"in_reply_to_tweet_id": "2122306215605490369"},
        "media": {"media_ids": ["1880028106020515840"]},
    }
    assert result.external_id == "99"


async def test_a_mention_reply_without_a_post_to_answer_is_never_a_standalone_post():
    with pytest.raises(SendError) as raised:
        await capture(request(Kind.mention), httpx.Response(201, json={}))
    assert raised.value.code == "no_post_to_reply"
    assert not raised.value.retryable


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "after"),
    [
        (
            429,
            {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
            {"retry-after": "30"},
            "http_429",
            True,
            30.0,
        ),
        (
            403,
            {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]},
            {},
            "349",
            False,
            None,
        ),
        (
            400,
            {
                "errors": [{"parameters": {"text": []}, "message": "text is too long"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            },
            {},
            "invalid-request",
            False,
            None,
        ),
        (403, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, {}, "88", True, None),
        (502, None, {}, "http_502", True, None),
    ],
)
async def test_x_errors_keep_xs_code_and_words(status, body, headers, code, retryable, after):
    answer = (
        httpx.Response(status, json=body, headers=headers)
        if body is not None
        else httpx.Response(status, text="<html>Bad Gateway</html>", headers=headers)
    )
    with pytest.raises(SendError) as raised:
        await capture(request(), answer)
    error = raised.value
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, after)
    assert error.message
    if code == "invalid-request":
        assert "text is too long" in error.message


def test_the_reset_epoch_becomes_seconds_to_wait():
    response = httpx.Response(429, headers={"x-rate-limit-reset": "1000"})
    assert send.retry_after(response, now=940.0) == 60.0
    assert send.retry_after(response, now=2000.0) == 1.0  # already past: try again soon
    assert send.retry_after(httpx.Response(429)) is None
