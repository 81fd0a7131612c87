"""The sandbox's X: its webhooks read by the real parser, its send API answering as X does."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bandeja.channels.sandbox.contract import (
    SimDelete,
    SimEcho,
    SimEdit,
    SimMessage,
    SimOptOut,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.channels.x.fake import XFake
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from tests.integration.channels.x.conftest import ACCESS_TOKEN, GIULIA, LUCIA, ME, TOM, now

API = "http://sandbox/x"
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@pytest.mark.parametrize("fmt", ["aaa", "xaa"])
async def test_the_fakes_webhooks_land_in_the_inbox(x, workers, fmt):
    fake = XFake(fmt)
    t = now() - timedelta(minutes=10)
    dm = SimMessage(
        person=LUCIA,
        message_id=f"{fmt}-dm-1",
        text="¿Tenéis descafeinado?",
        at=t,
        attachments=[{"type": "image", "url": "https://pbs.twimg.com/media/a.jpg"}],
    )
    mention = SimMessage(
        person=GIULIA,
        message_id=f"{fmt}-post-1",
        kind="mention",
        at=t,
        text="Brunch buonissimo oggi da @cafeaurora!",
    )
    answer = SimMessage(
        person=GIULIA,
        message_id=f"{fmt}-post-2",
        kind="mention",
        text="@cafeaurora siete aperti domenica?",
        at=t + timedelta(minutes=1),
        post_id=mention.message_id,
        reply_to_message_id=f"{fmt}-ours",
        post_text="Grazie Giulia!",
    )
    for event in (dm, mention, answer):
        assert await x.emit(event, fake=fake) == 1
    await workers.drain()
    [inbound] = await x.thread(LUCIA.id)
    assert inbound.text == "¿Tenéis descafeinado?"
    assert inbound.attachments[0]["type"] == "image"
    identity = await x.identity(GIULIA.id)
    assert (identity.display_name, identity.accepts_messages) == ("Giulia Bianchi", False)
    mentions = [c for c in await x.conversations() if c.kind is Kind.mention]
    if fmt == "xaa":  # conversation_id groups the answer with the first post
        assert [c.thread_key for c in mentions] == [mention.message_id]
        assert len(await x.thread(mention.message_id)) == 2
    else:  # v1.1 posts carry no conversation_id: the answer is threaded under what it answers
        assert sorted(c.thread_key for c in mentions) == sorted([mention.message_id, f"{fmt}-ours"])


async def test_the_fakes_likes_reads_deletes_and_echoes(x, workers):
    t = now() - timedelta(minutes=30)
    echo = SimEcho(person=TOM, message_id="2124100000000000001", text="Hello Tom!", at=t)
    await x.emit(SimMessage(person=TOM, message_id="2124000000000000009", text="Hi", at=t))
    await x.emit(echo)
    await x.emit(
        SimReaction(
            person=TOM, message_id=echo.message_id, reaction="👍", at=t + timedelta(minutes=1)
        )
    )
    await x.emit(SimRead(person=TOM, at=t + timedelta(minutes=2)))
    await workers.drain()
    _, ours = await x.thread(TOM.id)
    assert ours.author_type is AuthorType.external
    assert ours.direction is Direction.outbound
    assert ours.reactions == {TOM.id: "❤️"}  # X has one reaction: the like
    assert ours.status is DeliveryStatus.read

    await x.emit(
        SimMessage(
            person=TOM,
            message_id="2124000000000000010",
            kind="mention",
            text="@cafeaurora thanks!",
            at=t,
        )
    )
    await x.emit(
        SimDelete(
            person=TOM,
            message_id="2124000000000000010",
            kind="mention",
            at=t + timedelta(minutes=5),
        )
    )
    await workers.drain()
    [post] = await x.thread("2124000000000000010")
    assert post.deleted_at is not None


@pytest.mark.parametrize(
    "event",
    [
        SimEdit(person=TOM, message_id="1", text="edited", at=now()),
        SimDelete(person=TOM, message_id="1", at=now()),  # X delivers no webhook for deleted DMs
        SimReaction(person=TOM, message_id="1", reaction=None, at=now()),
        SimRead(person=TOM, at=now(), status="delivered"),
        SimStatus(person=TOM, message_id="1", status="delivered", at=now()),
        SimOptOut(person=TOM, opted_in=False, at=now()),
    ],
)
def test_what_x_does_not_deliver_the_fake_does_not_invent(x, event):
    assert XFake().deliveries(x.sandbox_channel(), event) == []


async def test_the_send_api_answers_in_xs_shapes(x, workers, sandbox):
    client = workers.client
    r = await client.post(
        f"{API}/2/dm_conversations/with/{LUCIA.id}/messages",
        json={"text": "Hola"},
        headers={**AUTH, "Idempotency-Key": "k1"},
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert set(data) == {"dm_conversation_id", "dm_event_id"}
    assert data["dm_conversation_id"] == f"{LUCIA.id}-{ME}"  # the smaller id first
    # The same key again: the same answer, nothing sent twice.
    again = await client.post(
        f"{API}/2/dm_conversations/with/{LUCIA.id}/messages",
        json={"text": "Hola"},
        headers={**AUTH, "Idempotency-Key": "k1"},
    )
    assert again.json() == r.json()
    assert len(sandbox.sent) == 1

    r = await client.post(
        f"{API}/2/tweets",
        headers=AUTH,
        json={"text": "Grazie!", "reply": {"in_reply_to_tweet_id": "42"}},
    )
    assert r.status_code == 201
    assert r.json()["data"]["text"] == "Grazie!"
    assert r.json()["data"]["edit_history_tweet_ids"] == [r.json()["data"]["id"]]


async def test_the_send_api_refuses_as_x_does(x, workers, sandbox):
    client = workers.client
    r = await client.post(
        f"{API}/2/dm_conversations/with/{GIULIA.id}/messages", json={"text": "Ciao"}, headers=AUTH
    )
    assert r.status_code == 403
    assert r.json() == {
        "errors": [{"code": 349, "message": "You cannot send messages to this user."}]
    }
    r = await client.post(
        f"{API}/2/dm_conversations/with/{LUCIA.id}/messages",
        json={"text": "a" * 10_001},
        headers=AUTH,
    )
    assert r.status_code == 400
    assert r.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    r = await client.post(
        f"{API}/2/dm_conversations/with/{LUCIA.id}/messages",
        json={"text": "Hola"},
        headers={"Authorization": "Bearer nope"},
    )
    assert r.status_code == 401
    assert r.json()["title"] == "Unauthorized"
    r = await client.post(
        f"{API}/2/dm_conversations",
        headers=AUTH,
        json={
            "conversation_type": "Group",
            "participant_ids": [LUCIA.id],
            "message": {"text": "Hola"},
        },
    )
    assert r.status_code == 400
    assert sandbox.sent == []


async def test_15_dms_per_15_minutes_then_429_with_the_reset(x, workers, sandbox):
    client = workers.client
    for n in range(15):
        r = await client.post(
            f"{API}/2/dm_conversations/with/{TOM.id}/messages",
            json={"text": f"Message {n}"},
            headers=AUTH,
        )
        assert r.status_code == 201, (n, r.text)
    r = await client.post(
        f"{API}/2/dm_conversations/with/{TOM.id}/messages",
        json={"text": "One too many"},
        headers=AUTH,
    )
    assert r.status_code == 429
    assert r.json()["title"] == "Too Many Requests"
    assert r.headers["x-rate-limit-remaining"] == "0"
    reset = int(r.headers["x-rate-limit-reset"])
    assert 890 <= reset - time.time() <= 902
    assert len(sandbox.sent) == 15
