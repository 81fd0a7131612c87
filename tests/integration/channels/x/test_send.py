"""Replies on X: through the API, the send worker and the sandbox's X, and back as echoes."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update

from bandeja.channels.sandbox.contract import SimEcho, SimMessage, SimPerson
from bandeja.channels.x.fake import FAKE
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.schemas import ConversationDetail
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.outbox.models import SendJob, SendStatus
from bandeja.jobs.runner import Workers
from bandeja.storage.base import utcnow
from tests.integration.channels.x.conftest import LUCIA, MARCO, TOM, X, now

GROUP = "2121558257955910337"


async def _dm_conversation(
    x: X, workers: Workers, fixture_name: str = "direct_message_events__text", key: str = LUCIA.id
) -> ConversationDetail:
    await x.deliver_fixture(fixture_name)
    await workers.drain()
    return await x.detail(key)


async def test_a_dm_reply_is_sent_to_the_person_and_matched_with_its_echo(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers)
    response = await x.reply(conversation.id, text="¡Hola Lucía! Sí, enviamos a Sevilla en 24 h.")
    assert response.status_code == 202, response.text
    reply = response.json()
    assert reply["status"] == "queued"
    await workers.drain()

    [record] = sandbox.sent
    job = await x.job(reply["id"])
    assert record.recipient_id == LUCIA.id
    assert record.payload == {"text": "¡Hola Lucía! Sí, enviamos a Sevilla en 24 h."}
    assert record.idempotency_key == job.idempotency_key
    sent = await x.message(reply["id"])
    assert sent.status is DeliveryStatus.sent
    assert sent.external_id == record.message_id
    assert job.status is SendStatus.done

    # X delivers the account's own DM back: it is the same message, not a second one.
    [echo] = FAKE.echoes(x.sandbox_channel(), record)
    assert await x.emit(echo) == 1
    await workers.drain()
    outbound = [m for m in await x.thread(LUCIA.id) if m.direction is Direction.outbound]
    assert [m.id for m in outbound] == [reply["id"]]
    assert outbound[0].author_type is AuthorType.user


async def test_an_echo_that_arrives_before_the_send_result_is_matched_by_text(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers)
    reply = (await x.reply(conversation.id, text="Te paso el enlace ahora mismo")).json()
    # The echo overtakes X's answer to the send request.
    await x.emit(
        SimEcho(
            person=LUCIA,
            message_id="2120830000000000001",
            text="Te paso el enlace ahora mismo",
            at=now(),
        )
    )
    await workers.ingest.run_once()
    early = await x.message(reply["id"])
    assert (early.status, early.external_id) == (DeliveryStatus.sent, "2120830000000000001")
    await workers.drain()
    assert len(sandbox.sent) == 1
    outbound = [m for m in await x.thread(LUCIA.id) if m.direction is Direction.outbound]
    assert [m.id for m in outbound] == [reply["id"]]
    assert outbound[0].status is DeliveryStatus.sent


async def test_a_mention_reply_is_a_post_in_reply_to_the_latest_customer_post(x, workers, sandbox):
    mention = SimMessage(
        person=TOM,
        message_id="2124000000000000001",
        kind="mention",
        text="@cafeaurora are you open on bank holidays?",
        at=now(),
    )
    await x.emit(mention)
    await workers.drain()
    conversation = await x.detail(mention.message_id)
    response = await x.reply(conversation.id, text="Yes, 9am to 2pm!")
    assert response.status_code == 202, response.text
    await workers.drain()
    [record] = sandbox.sent
    assert record.payload == {
        "text": "Yes, 9am to 2pm!",
        "reply": {"in_reply_to_tweet_id": mention.message_id},
    }
    sent = await x.message(response.json()["id"])
    assert (sent.status, sent.external_id) == (DeliveryStatus.sent, record.message_id)

    # The post comes back through tweet_create_events, "@tomharris_uk " first: still matched.
    [echo] = FAKE.echoes(x.sandbox_channel(), record)
    await x.emit(echo)
    await workers.drain()
    messages = await x.thread(mention.message_id)
    assert [m.direction for m in messages] == [Direction.inbound, Direction.outbound]
    assert messages[1].text == "Yes, 9am to 2pm!"
    assert await x.ignored() == {}


async def test_a_reply_in_a_group_dm_goes_to_the_group(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers, "direct_message_events__group", GROUP)
    response = await x.reply(conversation.id, text="Confermato: venerdì alle 18, 6 persone")
    assert response.status_code == 202
    await workers.drain()
    [record] = sandbox.sent
    assert record.recipient_id == GROUP
    assert record.payload == {"text": "Confermato: venerdì alle 18, 6 persone"}
    assert (await x.message(response.json()["id"])).status is DeliveryStatus.sent


async def test_a_reply_with_extra_recipients_creates_a_group(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers)
    response = await x.reply(
        conversation.id, text="Os presento a Marco y Tom", extra_recipients=[TOM.id, MARCO.id]
    )
    assert response.status_code == 202
    await workers.drain()
    [record] = sandbox.sent
    assert record.payload == {
        "conversation_type": "Group",
        "participant_ids": [LUCIA.id, TOM.id, MARCO.id],
        "message": {"text": "Os presento a Marco y Tom"},
    }
    assert (await x.message(response.json()["id"])).status is DeliveryStatus.sent


async def test_rate_limited_sends_wait_for_the_reset_x_gives(x, workers, sandbox, sessions):
    conversation = await _dm_conversation(x, workers)
    reset = int(time.time()) + 120
    sandbox.inject_failure(
        Platform.x,
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        {
            "x-rate-limit-limit": "15",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    reply = (await x.reply(conversation.id, text="Un momento, lo compruebo")).json()
    before = utcnow()
    await workers.drain()
    job = await x.job(reply["id"])
    assert job.status is SendStatus.pending
    wait = job.next_attempt_at - before
    assert timedelta(seconds=100) < wait <= timedelta(seconds=125), wait
    assert job.last_error.startswith("http_429")
    assert (await x.message(reply["id"])).status is DeliveryStatus.queued
    assert sandbox.sent == []

    # The reset time has come.
    async with sessions() as session:
        await session.execute(
            update(SendJob).where(SendJob.id == job.id).values(next_attempt_at=utcnow())
        )
        await session.commit()
    await workers.drain()
    assert (await x.message(reply["id"])).status is DeliveryStatus.sent
    assert len(sandbox.sent) == 1


async def test_a_server_error_is_retried_with_backoff(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers)
    sandbox.inject_failure(
        Platform.x,
        503,
        {
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "type": "about:blank",
            "status": 503,
        },
    )
    reply = (await x.reply(conversation.id, text="Ahora te digo")).json()
    await workers.drain()
    job = await x.job(reply["id"])
    assert job.status is SendStatus.pending
    assert job.attempts == 1
    assert job.last_error == "http_503: Service Unavailable"


async def test_x_refusing_a_person_fails_the_message_with_x_code(x, workers, sandbox):
    # Tom's profile in the batch says nothing about DMs, so the rules let it through; X refuses.
    sandbox.add_person(
        Platform.x,
        SimPerson(id=TOM.id, name=TOM.name, handle=TOM.handle, language="en", accepts_dms=False),
    )
    conversation = await _dm_conversation(x, workers, "direct_message_events__batch", TOM.id)
    reply = (await x.reply(conversation.id, text="Yes, 10am to 4pm on Sundays")).json()
    await workers.drain()
    failed = await x.message(reply["id"])
    assert failed.status is DeliveryStatus.failed
    assert failed.error_code == "349"
    assert failed.error_message == "You cannot send messages to this user."
    assert (await x.job(reply["id"])).status is SendStatus.failed
    assert sandbox.sent == []


async def test_an_expired_token_fails_for_good(x, workers, sandbox):
    conversation = await _dm_conversation(x, workers)
    sandbox.inject_failure(
        Platform.x,
        401,
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    reply = (await x.reply(conversation.id, text="Hola")).json()
    await workers.drain()
    failed = await x.message(reply["id"])
    assert (failed.status, failed.error_code, failed.error_message) == (
        DeliveryStatus.failed,
        "http_401",
        "Unauthorized",
    )
