"""Replies to Instagram: refused by the rules through the API, or sent by the worker to the
sandbox's Graph API, with the right request shape, echoes matched, failures kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bandeja.channels.instagram.fake import FAKE
from bandeja.channels.sandbox.contract import SentRecord, SimEcho, SimMessage, SimPerson, SimRead
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox.models import SendStatus
from bandeja.jobs.runner import Workers
from tests.integration.channels.instagram.conftest import (
    ACCOUNT,
    GIULIA,
    LUCIA,
    OLIVIA,
    Instagram,
)


def now() -> datetime:
    return datetime.now(UTC)


async def dm_from(
    ig: Instagram,
    sandbox: SandboxState,
    workers: Workers,
    person: SimPerson = LUCIA,
    *,
    ago: timedelta = timedelta(minutes=3),
    text: str = "Hola, ¿hacéis envíos a Canarias?",
    message_id: str = "mid.in.1",
) -> Conversation:
    """The person writes (through the fake's webhook); the sandbox knows when (its window)."""
    at = now() - ago
    await ig.emit(SimMessage(person=person, message_id=message_id, text=text, at=at))
    sandbox.wrote(ig.sandbox_channel(), person.id, at)
    await workers.drain()
    return await ig.conversation(person.id, Kind.dm)


async def comment_from(
    ig: Instagram,
    workers: Workers,
    person: SimPerson = GIULIA,
    *,
    message_id: str = "18046812397560300",
    parent_id: str | None = None,
    ago: timedelta = timedelta(minutes=10),
    text: str = "Quanto costa? 😍",
) -> Conversation:
    await ig.emit(
        SimMessage(
            person=person,
            message_id=message_id,
            text=text,
            kind="comment",
            at=now() - ago,
            post_id="18073159453512496",
            parent_id=parent_id,
        )
    )
    await workers.drain()
    return await ig.conversation(parent_id or message_id, Kind.comment)


async def replied(ig: Instagram, workers: Workers, conversation_id: int, **body: Any) -> MessageOut:
    response = await ig.reply(conversation_id, **body)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    await workers.drain()
    messages = {m.id: m for m in await ig.messages(conversation_id)}
    return messages[message_id]


async def echo_back(ig: Instagram, sandbox: SandboxState, record: SentRecord) -> int:
    """Deliver what Instagram sends back after ``record`` was sent (echo / comment change)."""
    count = 0
    for event in FAKE.echoes(ig.sandbox_channel(), record):
        count += await ig.emit(event)
    return count


# --- direct messages ---------------------------------------------------------------------------


async def test_dm_reply_is_sent_with_instagrams_request_shape(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    message = await replied(ig, workers, conversation.id, text="¡Hola Lucía! Sí, en 3-5 días 🚚")
    [record] = sandbox.sent
    assert message.status is DeliveryStatus.sent
    assert message.external_id == record.message_id
    assert (record.channel_external_id, record.recipient_id) == (ACCOUNT, LUCIA.id)
    assert record.payload == {
        "recipient": {"id": LUCIA.id},
        "message": {"text": "¡Hola Lucía! Sí, en 3-5 días 🚚"},
    }
    job = await ig.job(message.id)
    assert record.idempotency_key == job.idempotency_key
    assert job.status is SendStatus.done
    # The contact's name came from the profile the sandbox serves.
    _, contact = await ig.identity_and_contact(LUCIA.id)
    assert contact.name == "Lucía Fernández"


async def test_the_echo_of_our_reply_is_matched_not_duplicated(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    message = await replied(ig, workers, conversation.id, text="Sí, también a Canarias.")
    [record] = sandbox.sent
    assert await echo_back(ig, sandbox, record) == 1
    await workers.drain()
    outbound = [m for m in await ig.messages(conversation.id) if m.direction is Direction.outbound]
    assert [(m.id, m.status, m.author_type) for m in outbound] == [
        (message.id, DeliveryStatus.sent, AuthorType.user)
    ]


async def test_an_echo_before_the_send_result_is_matched_by_text(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    response = await ig.reply(conversation.id, text="Te lo enviamos mañana.")
    assert response.status_code == 202
    # Instagram's echo overtakes our own bookkeeping: the same text, moments later.
    await ig.emit(
        SimEcho(
            person=LUCIA, message_id="aWdfZG1fZWNob18x", text="Te lo enviamos mañana.", at=now()
        )
    )
    await workers.drain()
    outbound = [m for m in await ig.messages(conversation.id) if m.direction is Direction.outbound]
    assert len(outbound) == 1
    assert outbound[0].author_type is AuthorType.user
    assert outbound[0].status is DeliveryStatus.sent


async def test_read_then_a_late_echo_stays_read(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    message = await replied(ig, workers, conversation.id, text="¿Algo más?")
    [record] = sandbox.sent
    await ig.emit(SimRead(person=LUCIA, at=now(), message_id=record.message_id))
    await workers.drain()
    await echo_back(ig, sandbox, record)  # delivered after the read
    await workers.drain()
    read = await ig.message(record.message_id)
    assert read is not None
    assert (read.id, read.status) == (message.id, DeliveryStatus.read)


async def test_a_message_sent_from_the_instagram_app_is_kept_as_external(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers, OLIVIA, text="Is the shop open today?")
    await ig.emit(
        SimEcho(person=OLIVIA, message_id="aWdfZG1fbmF0aXZlXzE", at=now(), text="Yes, until 7pm!")
    )
    await workers.drain()
    _, native = await ig.messages(conversation.id)
    assert (native.direction, native.author_type) == (Direction.outbound, AuthorType.external)
    assert (native.text, native.status) == ("Yes, until 7pm!", DeliveryStatus.sent)
    assert sandbox.sent == []


async def test_human_agent_tag_answers_after_24_hours_when_enabled(ig, workers, sandbox):
    await ig.set_settings(human_agent_enabled=True)
    conversation = await dm_from(ig, sandbox, workers, GIULIA, ago=timedelta(days=3))
    refused = await ig.reply(conversation.id, text="Ciao Giulia!")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "rule:window_closed"
    message = await replied(ig, workers, conversation.id, text="Ciao Giulia!", tag="HUMAN_AGENT")
    assert message.status is DeliveryStatus.sent
    [record] = sandbox.sent
    assert record.payload == {
        "recipient": {"id": GIULIA.id},
        "message": {"text": "Ciao Giulia!"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
    }


async def test_rules_refuse_through_the_api_with_the_rule_code(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "😀" * 251}, "rule:text_too_long"),
        ({"text": "Hola", "extra_recipients": [GIULIA.id]}, "rule:too_many_recipients"),
        ({"text": "Hola", "tag": "HUMAN_AGENT"}, "rule:tag_not_enabled"),
        (
            {"text": "Hola", "template": {"name": "order_update", "language": "es"}},
            "rule:not_supported",
        ),
    ]
    for body, code in cases:
        response = await ig.reply(conversation.id, **body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == code
        assert "Instagram" in error["message"] or "HUMAN_AGENT" in error["message"]
    assert (
        "1,000 bytes"
        in (await ig.reply(conversation.id, text="é" * 501)).json()["error"]["message"]
    )
    await workers.drain()
    assert sandbox.sent == []
    assert len(await ig.messages(conversation.id)) == 1


# --- failures ------------------------------------------------------------------------------------


async def test_rate_limited_send_is_retried_after_retry_after(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    sandbox.inject_failure(
        Platform.instagram,
        429,
        {
            "error": {
                "message": "(#4) Application request limit reached",
                "type": "OAuthException",
                "code": 4,
                "fbtrace_id": "AxYz",
            }
        },
        {"Retry-After": "120"},
    )
    before = now()
    response = await ig.reply(conversation.id, text="Un momento, por favor.")
    await workers.drain()
    message_id = response.json()["id"]
    job = await ig.job(message_id)
    assert job.status is SendStatus.pending
    assert job.attempts == 1
    assert job.last_error == "4: (#4) Application request limit reached"
    wait = (job.next_attempt_at - before).total_seconds()
    assert 115 <= wait <= 130
    [message] = [m for m in await ig.messages(conversation.id) if m.id == message_id]
    assert message.status is DeliveryStatus.queued
    assert sandbox.sent == []


async def test_graph_rate_limit_code_is_retried(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    sandbox.inject_failure(
        Platform.instagram,
        400,
        {
            "error": {
                "message": "(#613) Calls to this api have exceeded the rate limit.",
                "type": "OAuthException",
                "code": 613,
                "fbtrace_id": "AxYz",
            }
        },
    )
    response = await ig.reply(conversation.id, text="Un momento.")
    await workers.drain()
    job = await ig.job(response.json()["id"])
    assert (job.status, job.attempts) == (SendStatus.pending, 1)
    assert job.next_attempt_at > now()


async def test_permanent_graph_error_fails_with_metas_code_and_message(ig, workers, sandbox):
    conversation = await dm_from(ig, sandbox, workers)
    sandbox.inject_failure(
        Platform.instagram,
        400,
        {
            "error": {
                "message": "(#100) Invalid parameter",
                "type": "OAuthException",
                "code": 100,
                "error_subcode": 2018001,
                "fbtrace_id": "AxYz",
            }
        },
    )
    message = await replied(ig, workers, conversation.id, text="Hola")
    assert message.status is DeliveryStatus.failed
    assert (message.error_code, message.error_message) == (
        "100.2018001",
        "(#100) Invalid parameter",
    )
    assert (await ig.job(message.id)).status is SendStatus.failed


async def test_outside_the_window_instagram_refuses_and_the_reply_fails(ig, workers, sandbox):
    # Bandeja saw the message, but Instagram's window for this person is closed (the sandbox
    # was told nothing): Graph answers code 10, subcode 2534022.
    await ig.emit(SimMessage(person=OLIVIA, message_id="mid.in.old", text="Hello?", at=now()))
    await workers.drain()
    conversation = await ig.conversation(OLIVIA.id, Kind.dm)
    message = await replied(ig, workers, conversation.id, text="Hi Olivia!")
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "10.2534022"
    assert message.error_message is not None
    assert "outside of allowed window" in message.error_message


# --- comments and mentions -----------------------------------------------------------------------


async def test_public_reply_goes_to_the_top_level_comment(ig, workers, sandbox):
    await comment_from(ig, workers)
    conversation = await comment_from(
        ig,
        workers,
        LUCIA,
        message_id="18046812397560301",
        parent_id="18046812397560300",
        text="¡Yo también!",
    )
    message = await replied(ig, workers, conversation.id, text="Ciao! 49 € 🙌")
    [record] = sandbox.sent
    assert record.recipient_id == "18046812397560300"  # the thread, not the latest reply
    assert record.payload == {"message": "Ciao! 49 € 🙌"}
    assert (message.status, message.external_id) == (DeliveryStatus.sent, record.message_id)
    # Instagram reports the account's own comment back: it is our reply, not a new one.
    assert await echo_back(ig, sandbox, record) == 1
    await workers.drain()
    outbound = [m for m in await ig.messages(conversation.id) if m.direction is Direction.outbound]
    assert [m.id for m in outbound] == [message.id]


async def test_private_reply_to_a_comment_once(ig, workers, sandbox):
    conversation = await comment_from(ig, workers)
    [comment] = await ig.messages(conversation.id)
    message = await replied(
        ig, workers, conversation.id, text="Ti scriviamo in privato!", private_reply_to=comment.id
    )
    assert message.status is DeliveryStatus.sent
    [record] = sandbox.sent
    assert record.payload == {
        "recipient": {"comment_id": comment.external_id},
        "message": {"text": "Ti scriviamo in privato!"},
    }
    assert record.recipient_id == GIULIA.id
    # The echo arrives as a DM to Giulia: matched to the private reply, no new conversation.
    assert await echo_back(ig, sandbox, record) == 1
    await workers.drain()
    assert [c.kind for c in await ig.conversations()] == [Kind.comment]
    again = await ig.reply(conversation.id, text="Ancora!", private_reply_to=comment.id)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "rule:private_reply_already_sent"


async def test_private_reply_after_seven_days_is_refused(ig, workers, sandbox):
    conversation = await comment_from(ig, workers, ago=timedelta(days=8))
    [comment] = await ig.messages(conversation.id)
    response = await ig.reply(conversation.id, text="Ciao", private_reply_to=comment.id)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rule:private_reply_expired"
    # A public reply has no window.
    message = await replied(ig, workers, conversation.id, text="Ciao Giulia!")
    assert message.status is DeliveryStatus.sent


async def test_reply_to_a_comment_mention(ig, workers, sandbox):
    await ig.emit(
        SimMessage(
            person=OLIVIA,
            message_id="17899912230051155",
            kind="mention",
            text="Best cannoli in town @bottega.aurora",
            at=now(),
            post_id="17910320517622461",
        )
    )
    await workers.drain()
    conversation = await ig.conversation("17910320517622461_17899912230051155", Kind.mention)
    message = await replied(ig, workers, conversation.id, text="Thank you Olivia! 💛")
    [record] = sandbox.sent
    assert record.payload == {
        "media_id": "17910320517622461",
        "comment_id": "17899912230051155",
        "message": "Thank you Olivia! 💛",
    }
    assert (message.status, message.external_id) == (DeliveryStatus.sent, record.message_id)
    assert await echo_back(ig, sandbox, record) == 0  # a comment on someone else's media


async def test_reply_to_a_caption_mention(ig, workers, sandbox):
    await ig.emit(
        SimMessage(
            person=LUCIA,
            message_id="18004561297533899",
            kind="mention",
            text="Merienda en @bottega.aurora ☕",
            at=now(),
            post_id="18004561297533899",
        )
    )
    await workers.drain()
    conversation = await ig.conversation("18004561297533899", Kind.mention)
    await replied(ig, workers, conversation.id, text="¡Gracias Lucía!")
    [record] = sandbox.sent
    assert record.payload == {"media_id": "18004561297533899", "message": "¡Gracias Lucía!"}
