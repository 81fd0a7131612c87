"""The send-guard: a reply drafted before someone else answered is refused with 409 and what
was sent, unless the agent insists; double submissions make one message, also when they race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bandeja.core.conversations.models import Conversation
from bandeja.core.messages.actions import record_outbound
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction, Message
from bandeja.core.users.models import Role
from tests.support.factory import Factory


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        ana_user, _ = await f.user(ws, Role.agent, name="Ana")
        bo_user, _ = await f.user(ws, Role.agent, name="Bo")
        ig = await f.channel(ws, members=[ana_user, bo_user])
        conversation, message = await f.message(ig, person="p1", text="is it open today?")
        _other, other_message = await f.message(ig, person="p2", text="hi")
        headers = {
            "ana": {"Authorization": f"Bearer {await f.token(ws, ana_user)}"},
            "bo": {"Authorization": f"Bearer {await f.token(ws, bo_user)}"},
        }
        await db.commit()
    return {
        "conversation": conversation.id,
        "seen": message.id,
        "other_message": other_message.id,
        "headers": headers,
    }


async def _reply(client, w, who: str, text: str, **extra: Any):
    return await client.post(
        f"/api/v1/conversations/{w['conversation']}/messages",
        json={"text": text, **extra},
        headers=w["headers"][who],
    )


async def _outbound(sessions, conversation_id: int) -> list[str]:
    async with sessions() as db:
        rows = await db.execute(
            select(Message.text)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.outbound,
            )
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def test_a_teammates_reply_after_the_draft_began_is_a_409_with_what_was_sent(
    client, sessions
):
    w = await _world(sessions)
    r = await _reply(client, w, "bo", "Yes, until 8 pm!", seen_message_id=w["seen"])
    assert r.status_code == 202, r.text
    r = await _reply(client, w, "ana", "Yes, we are open.", seen_message_id=w["seen"])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "reply_collision"
    assert "Bo" in error["message"]
    [sent] = error["details"]["sent"]
    assert (sent["author_name"], sent["author_type"], sent["text"]) == (
        "Bo",
        "user",
        "Yes, until 8 pm!",
    )
    assert datetime.fromisoformat(sent["sent_at"]).tzinfo is not None
    assert await _outbound(sessions, w["conversation"]) == ["Yes, until 8 pm!"]
    # Ana read it and still wants to send hers.
    r = await _reply(client, w, "ana", "Yes, we are open.", seen_message_id=w["seen"], force=True)
    assert r.status_code == 202, r.text
    # A draft begun after Bo's reply is not refused.
    r = await _reply(client, w, "bo", "See you!", seen_message_id=r.json()["id"])
    assert r.status_code == 202, r.text
    assert await _outbound(sessions, w["conversation"]) == [
        "Yes, until 8 pm!",
        "Yes, we are open.",
        "See you!",
    ]


async def test_an_answer_from_the_native_app_counts_and_a_failed_one_does_not(client, sessions):
    w = await _world(sessions)
    async with sessions() as db:
        conversation = await db.get(Conversation, w["conversation"])
        assert conversation is not None
        await record_outbound(
            db, conversation, text="failed one", sent_at=datetime.now(UTC),
            author_type=AuthorType.user, status=DeliveryStatus.failed,
        )  # fmt: skip
        await db.commit()
    r = await _reply(client, w, "ana", "Hello", seen_message_id=w["seen"])
    assert r.status_code == 202, r.text
    async with sessions() as db:
        conversation = await db.get(Conversation, w["conversation"])
        assert conversation is not None
        echo = await record_outbound(
            db, conversation, text="sent from the phone", sent_at=datetime.now(UTC),
            author_type=AuthorType.external, status=DeliveryStatus.sent,
        )  # fmt: skip
        await db.commit()
    r = await _reply(client, w, "bo", "Hi", seen_message_id=r.json()["id"])
    assert r.status_code == 409
    [sent] = r.json()["error"]["details"]["sent"]
    assert (sent["message_id"], sent["author_type"], sent["author_name"]) == (
        echo.id,
        "external",
        None,
    )
    assert "app" in r.json()["error"]["message"]


async def test_bad_seen_message_ids_are_refused(client, sessions):
    w = await _world(sessions)
    r = await _reply(client, w, "ana", "Hi", seen_message_id=w["other_message"])
    assert r.status_code == 422
    assert "seen_message_id" in r.json()["error"]["message"]
    r = await _reply(client, w, "ana", "Hi", seen_message_id=-1)
    assert r.status_code == 422
    r = await _reply(client, w, "ana", "Hi", seen_message_id=0)  # "I saw no message"
    assert r.status_code == 202, r.text


async def test_two_agents_sending_at_the_same_moment_make_one_reply(client, sessions):
    w = await _world(sessions)
    answers = await asyncio.gather(
        *(
            _reply(client, w, who, f"from {who} {n}", seen_message_id=w["seen"])
            for n in range(3)
            for who in ("ana", "bo")
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 409, 409, 409, 409, 409], [a.text for a in answers]
    assert len(await _outbound(sessions, w["conversation"])) == 1


async def test_a_double_submission_makes_one_message_even_when_it_races(client, sessions):
    w = await _world(sessions)
    answers = await asyncio.gather(
        *(_reply(client, w, "ana", "Only once", idempotency_key="draft-42") for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 202], [
        a.text for a in answers
    ]
    assert len({a.json()["id"] for a in answers}) == 1
    # The header works like the field.
    again = await client.post(
        f"/api/v1/conversations/{w['conversation']}/messages",
        json={"text": "Only once"},
        headers={**w["headers"]["ana"], "Idempotency-Key": "draft-42"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == answers[0].json()["id"]
    async with sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(Message).where(Message.text == "Only once")
        )
    assert count == 1
