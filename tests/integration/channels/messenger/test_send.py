"""Replies to a Page's conversations: the Send API request, echoes, retries and failures, public
and private comment replies, the HUMAN_AGENT tag, and the rules the API enforces."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bandeja.channels.sandbox.contract import SimEcho, SimMessage
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.outbox.models import SendStatus

from .conftest import GIULIA, LUCIA, LUCIA_ID, OLIVIA, PAGE_ID, Page, now

POST = f"{PAGE_ID}_1300000000000001"
TOP = "1300000000000001_2400000000000001"
REPLY = "1300000000000001_2400000000000002"


async def customer_writes(
    page: Page,
    ago: timedelta = timedelta(minutes=3),
    text: str = "Hola, ¿tenéis pan sin gluten hoy?",
) -> int:
    """Lucía writes by DM (through the sandbox's Messenger); returns the conversation id."""
    at = now() - ago
    await page.emit(
        SimMessage(person=LUCIA, message_id=f"m_in_{int(at.timestamp())}", text=text, at=at)
    )
    page.sandbox.wrote(page.sandbox_channel(), LUCIA_ID, at)
    return (await page.conversation(LUCIA_ID)).id


async def comment_thread(page: Page) -> int:
    at = now() - timedelta(hours=2)
    await page.emit(
        SimMessage(
            person=OLIVIA,
            message_id=TOP,
            text="Is this available in the London shops?",
            at=at,
            kind="comment",
            post_id=POST,
        ),
        SimMessage(
            person=GIULIA,
            message_id=REPLY,
            text="Anche a Milano?",
            at=at + timedelta(minutes=5),
            kind="comment",
            post_id=POST,
            parent_id=TOP,
        ),
    )
    return (await page.conversation(TOP, Kind.comment)).id


async def test_a_reply_is_sent_with_the_send_api_shape(page: Page) -> None:
    conversation_id = await customer_writes(page)
    r = await page.reply(conversation_id, text="¡Sí, Lucía! Hoy tenemos hogazas sin gluten.")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    await page.workers.drain()
    message = await page.by_id(r.json()["id"])
    job = await page.job(message.id)
    [sent] = page.sandbox.sent
    assert message.status is DeliveryStatus.sent
    assert message.external_id == sent.message_id
    assert job.status is SendStatus.done
    assert sent.recipient_id == LUCIA_ID
    assert sent.idempotency_key == job.idempotency_key
    assert sent.payload == {
        "recipient": {"id": LUCIA_ID},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "¡Sí, Lucía! Hoy tenemos hogazas sin gluten.",
            "metadata": f"bandeja:{job.idempotency_key}",
        },
    }


async def test_the_echo_delivery_and_read_update_the_same_reply(page: Page) -> None:
    conversation_id = await customer_writes(page)
    r = await page.reply(conversation_id, text="Te la guardamos hasta las 14 h.")
    await page.workers.drain()
    await page.echo_sends()  # echo (with our metadata), delivery, read
    outbound = [m for m in await page.messages() if m.direction is Direction.outbound]
    assert [m.id for m in outbound] == [r.json()["id"]]
    assert outbound[0].status is DeliveryStatus.read
    assert outbound[0].author_type is AuthorType.user
    await page.assert_all_processed()


async def test_an_echo_before_the_send_result_is_matched_by_metadata(page: Page) -> None:
    conversation_id = await customer_writes(page)
    r = await page.reply(
        conversation_id,
        text="¡Hola Lucía! Sí, abrimos los domingos de 9 a 14 h.",
        idempotency_key="fixture-echo-key-0001",
    )
    assert r.status_code == 202, r.text
    # The echo (metadata "bandeja:fixture-echo-key-0001") is processed before the send job.
    await page.deliver_fixtures("message_echo__bandeja")
    message = await page.by_id(r.json()["id"])
    assert (message.external_id or "").startswith("m_Zx9cV8")  # the echo's mid
    assert message.status is DeliveryStatus.sent
    assert len([m for m in await page.messages() if m.direction is Direction.outbound]) == 1


async def test_a_message_sent_from_the_page_inbox_is_kept_as_external(page: Page) -> None:
    await customer_writes(page)
    await page.emit(
        SimEcho(person=LUCIA, message_id="m_native_1", at=now(), text="Te llamamos en 5 minutos.")
    )
    *_, native = await page.thread(LUCIA_ID)
    assert (native.direction, native.author_type) == (Direction.outbound, AuthorType.external)
    assert (native.text, native.status) == ("Te llamamos en 5 minutos.", DeliveryStatus.sent)


async def test_429_with_retry_after_is_retried_later(page: Page) -> None:
    conversation_id = await customer_writes(page)
    page.sandbox.inject_failure(
        page.sandbox_channel().platform,
        429,
        {
            "error": {
                "message": "(#613) Calls to this api have exceeded the rate limit.",
                "type": "OAuthException",
                "code": 613,
                "fbtrace_id": "AbCdEf123",
            }
        },
        {"Retry-After": "120"},
    )
    r = await page.reply(conversation_id, text="Un momento, lo compruebo.")
    before = now()
    await page.workers.drain()
    job = await page.job(r.json()["id"])
    assert job.status is SendStatus.pending
    assert job.attempts == 1
    assert timedelta(seconds=115) < job.next_attempt_at - before < timedelta(seconds=125)
    assert (job.last_error or "").startswith("613: (#613)")
    assert (await page.by_id(r.json()["id"])).status is DeliveryStatus.queued
    assert page.sandbox.sent == []


async def test_a_policy_error_fails_the_reply_with_meta_code_and_message(page: Page) -> None:
    conversation_id = await customer_writes(page)
    page.sandbox.inject_failure(
        page.sandbox_channel().platform,
        400,
        {
            "error": {
                "message": "(#551) This person isn't available right now.",
                "type": "OAuthException",
                "code": 551,
                "error_subcode": 1545041,
                "fbtrace_id": "AhB2c3D4e5",
            }
        },
    )
    r = await page.reply(conversation_id, text="¿Sigues ahí?")
    await page.workers.drain()
    message = await page.by_id(r.json()["id"])
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "551.1545041"
    assert message.error_message == "(#551) This person isn't available right now."
    assert (await page.job(message.id)).status is SendStatus.failed


async def test_meta_refusing_outside_its_window_fails_with_2018278(page: Page) -> None:
    """Bandeja saw a recent message, but Meta did not (the sandbox was never told she wrote)."""
    at = now() - timedelta(minutes=1)
    await page.emit(SimMessage(person=LUCIA, message_id="m_unseen", text="Hola", at=at))
    r = await page.reply((await page.conversation(LUCIA_ID)).id, text="¡Hola!")
    await page.workers.drain()
    message = await page.by_id(r.json()["id"])
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "10.2018278"
    assert (message.error_message or "").startswith(
        "(#10) This message is sent outside of allowed window"
    )


async def test_a_public_comment_reply_goes_under_the_top_level_comment(page: Page) -> None:
    conversation_id = await comment_thread(page)
    r = await page.reply(conversation_id, text="Yes! London and Milan from Monday ☕")
    assert r.status_code == 202, r.text
    await page.workers.drain()
    [sent] = page.sandbox.sent
    # Facebook nests one level: the parent is the thread's top-level comment, not the reply.
    assert (sent.recipient_id, sent.payload) == (
        TOP,
        {"message": "Yes! London and Milan from Monday ☕"},
    )
    message = await page.by_id(r.json()["id"])
    assert (message.status, message.external_id) == (DeliveryStatus.sent, sent.message_id)
    await page.echo_sends()  # the feed notification of the Page's own comment
    thread = await page.thread(TOP, Kind.comment)
    assert [(m.direction, m.author_type) for m in thread] == [
        (Direction.inbound, AuthorType.contact),
        (Direction.inbound, AuthorType.contact),
        (Direction.outbound, AuthorType.user),
    ]
    await page.assert_all_processed()


async def test_a_private_reply_is_sent_once_by_messenger(page: Page) -> None:
    conversation_id = await comment_thread(page)
    top = await page.message(TOP)
    r = await page.reply(
        conversation_id,
        text="Hi Olivia, we've sent you the details by DM.",
        private_reply_to=top.id,
    )
    assert r.status_code == 202, r.text
    await page.workers.drain()
    [sent] = page.sandbox.sent
    assert sent.payload["recipient"] == {"comment_id": TOP}
    assert sent.payload["messaging_type"] == "RESPONSE"
    message = await page.by_id(r.json()["id"])
    assert message.is_private_reply
    assert message.status is DeliveryStatus.sent
    assert (await page.stored(TOP)).private_replied_at is not None
    await page.echo_sends()  # Messenger echoes it in the DM thread: matched, not duplicated
    assert len(await page.conversations()) == 1
    again = await page.reply(conversation_id, text="One more thing…", private_reply_to=top.id)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "rule:private_reply_already_sent"


async def test_human_agent_tag_answers_after_24_hours_when_enabled(page: Page) -> None:
    conversation_id = await customer_writes(page, ago=timedelta(days=3))
    closed = await page.reply(conversation_id, text="Perdona la espera.")
    assert (closed.status_code, closed.json()["error"]["code"]) == (422, "rule:window_closed")
    not_enabled = await page.reply(conversation_id, text="Perdona la espera.", tag="HUMAN_AGENT")
    assert not_enabled.json()["error"]["code"] == "rule:tag_not_enabled"
    assert "HUMAN_AGENT tag is not enabled for this Page" in not_enabled.json()["error"]["message"]
    await page.set_settings(human_agent_enabled=True)
    r = await page.reply(conversation_id, text="Perdona la espera.", tag="HUMAN_AGENT")
    assert r.status_code == 202, r.text
    await page.workers.drain()
    [sent] = page.sandbox.sent
    assert (sent.payload["messaging_type"], sent.payload["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert (await page.by_id(r.json()["id"])).status is DeliveryStatus.sent


async def test_the_api_refuses_what_messenger_would_refuse(page: Page) -> None:
    conversation_id = await customer_writes(page)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"text": "x" * 2001}, "rule:text_too_long", "Messenger accepts at most 2,000"),
        ({"text": "Hola", "tag": "CONFIRMED_EVENT_REMINDER"}, "rule:unknown_tag", "no message tag"),
        ({"text": "Hola", "extra_recipients": ["123"]}, "rule:too_many_recipients", "one person"),
    ]
    for body, code, words in cases:
        r = await page.reply(conversation_id, **body)
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == code
        assert words in r.json()["error"]["message"]
    # A thread the Page started from its inbox: the person never wrote.
    await page.deliver_fixtures("message_echo__page_inbox")
    giulia = (await page.conversation(GIULIA.id)).id
    r = await page.reply(giulia, text="Ciao!")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "rule:business_cannot_start")
    assert page.sandbox.sent == []
