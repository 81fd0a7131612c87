"""The sandbox's LinkedIn: notifications carry ids only, the comment and post texts come back
through its read routes, as with LinkedIn itself."""

from __future__ import annotations

import json
from datetime import timedelta

from bandeja.channels.linkedin.fake import FAKE
from bandeja.channels.sandbox.contract import (
    SimDelete,
    SimEdit,
    SimMessage,
    SimReaction,
    SimRead,
)
from bandeja.core.conversations.models import Kind

from .conftest import GIULIA, JAMES, SOFIA, now, signature


async def test_simulated_comment_edit_and_delete_round_trip(li, workers, sandbox):
    at = now() - timedelta(minutes=10)
    await li.emit(
        SimMessage(
            person=SOFIA,
            message_id="sbx-linkedin-in.1.1",
            text="¿Tenéis opciones sin gluten?",
            at=at,
            kind="comment",
            post_id="90412345_post2",
        )
    )
    await li.emit(
        SimMessage(
            person=JAMES,
            message_id="sbx-linkedin-in.2.1",
            text="Same question here",
            at=at + timedelta(minutes=1),
            kind="comment",
            post_id="90412345_post2",
            parent_id="sbx-linkedin-in.1.1",
        )
    )
    await workers.drain()
    [conversation] = await li.conversations()
    assert conversation.kind is Kind.comment
    first, second = await li.thread(conversation.thread_key)
    assert (first.text, second.text) == ("¿Tenéis opciones sin gluten?", "Same question here")
    assert second.reply_to_external_id == first.external_id == conversation.thread_key
    assert (await li.contact(SOFIA.id)).name == "Sofía Martín"

    await li.emit(
        SimEdit(
            person=JAMES,
            message_id="sbx-linkedin-in.2.1",
            text="Same question here, and vegan?",
            at=at + timedelta(minutes=2),
        )
    )
    await li.emit(
        SimDelete(
            person=SOFIA,
            message_id="sbx-linkedin-in.1.1",
            at=at + timedelta(minutes=3),
            kind="comment",
            post_id="90412345_post2",
        )
    )
    await workers.drain()
    first, second = await li.thread(conversation.thread_key)
    assert second.text == "Same question here, and vegan?"
    assert second.edited_at is not None
    assert first.text == ""
    assert first.deleted_at is not None


async def test_simulated_mention_is_read_from_the_post(li, workers, sandbox):
    await li.emit(
        SimMessage(
            person=GIULIA,
            message_id="sbx-linkedin-in.3.1",
            text="Grazie @cafe per la colazione!",
            at=now(),
            kind="mention",
            post_id="post123456",
        )
    )
    await workers.drain()
    [conversation] = await li.conversations()
    assert conversation.kind is Kind.mention
    assert conversation.thread_key.startswith("urn:li:share:")
    [message] = await li.thread(conversation.thread_key, Kind.mention)
    assert message.text == "Grazie @cafe per la colazione!"
    assert (await li.contact(GIULIA.id)).name == "Giulia Conti"


async def test_fake_notifications_carry_ids_only_and_linkedins_signature(li):
    [delivery] = FAKE.deliveries(
        li.sandbox_channel(),
        SimMessage(
            person=SOFIA,
            message_id="sbx-linkedin-in.4.1",
            text="hola",
            at=now(),
            kind="comment",
            post_id="90412345_post1",
        ),
    )
    assert delivery.headers["X-LI-Signature"] == signature(delivery.body)
    [notification] = json.loads(delivery.body)["notifications"]
    assert notification["action"] == "COMMENT"
    assert notification["organizationalEntity"] == "urn:li:organization:90412345"
    assert "hola" not in delivery.body.decode()
    assert not any(k.startswith("decorated") for k in notification)


async def test_what_linkedin_does_not_notify(li):
    channel = li.sandbox_channel()
    assert FAKE.deliveries(channel, SimRead(person=SOFIA, at=now())) == []
    assert (
        FAKE.deliveries(channel, SimReaction(person=SOFIA, message_id="x", reaction="👍", at=now()))
        == []
    )
    assert (
        FAKE.deliveries(channel, SimMessage(person=SOFIA, message_id="d", text="dm", at=now()))
        == []
    )
    assert (
        FAKE.deliveries(channel, SimEdit(person=SOFIA, message_id="never-seen", text="x", at=now()))
        == []
    )
