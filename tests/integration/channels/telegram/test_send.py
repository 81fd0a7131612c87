"""Replies through the API, sent by the worker to the sandbox's Bot API: the request Telegram
gets, the id we keep, retries on flood control and final errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from bandeja.channels.base import ChannelConfig, SendError, SendRequest
from bandeja.channels.sandbox.app import TEST_SANDBOX_URL, api_base_url, sandbox_transport
from bandeja.channels.sandbox.contract import SandboxChannel, SentRecord, SimPerson
from bandeja.channels.sandbox.state import SandboxState
from bandeja.channels.telegram import CONNECTOR
from bandeja.channels.telegram.fake import FAKE
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.outbox.models import SendStatus

from .conftest import BOT_ID, BOT_NAME, BOT_TOKEN, GROUP_ID, LUCIA, now


async def _conversation(tg, workers, name: str = "message__private_text"):
    await tg.deliver_fixture(name)
    await workers.drain()
    [conversation] = await tg.conversations()
    return conversation


async def _reply(tg, conversation_id: int, text: str, **body: object) -> int:
    response = await tg.reply(conversation_id, text=text, **body)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def test_dm_reply_is_sent_to_the_private_chat(api, workers, sandbox):
    conversation = await _conversation(api, workers)
    message_id = await _reply(
        api,
        conversation.id,
        "¡Hola Lucía! Sí, hoy abrimos hasta las 23:00.",
        idempotency_key="tg-reply-1",
    )
    await workers.drain()
    [sent] = sandbox.sent
    assert sent.recipient_id == LUCIA.id
    assert sent.text == "¡Hola Lucía! Sí, hoy abrimos hasta las 23:00."
    assert sent.payload == {
        "chat_id": int(LUCIA.id),
        "text": "¡Hola Lucía! Sí, hoy abrimos hasta las 23:00.",
    }
    assert sent.idempotency_key == "tg-reply-1"
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.sent
    assert message.external_id == f"{LUCIA.id}:{_telegram_id(sent)}"
    assert (message.direction, message.author_type) == (Direction.outbound, AuthorType.user)
    assert (await api.job(message_id)).status is SendStatus.done


def _telegram_id(sent: SentRecord) -> int:
    from bandeja.channels.telegram.fake import number

    return number(sent.message_id)


async def test_mention_reply_answers_the_mention_in_the_group(api, workers, sandbox):
    conversation = await _conversation(api, workers, "message__group_mention")
    assert conversation.kind is Kind.mention
    message_id = await _reply(api, conversation.id, "¡Hola! El domingo abrimos a las 9:00.")
    await workers.drain()
    [sent] = sandbox.sent
    assert sent.payload == {
        "chat_id": int(GROUP_ID),
        "text": "¡Hola! El domingo abrimos a las 9:00.",
        "reply_parameters": {"message_id": 9120, "allow_sending_without_reply": True},
    }
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.sent
    assert message.external_id == f"{GROUP_ID}:{_telegram_id(sent)}"


async def test_no_echo_comes_back_so_the_reply_stays_single(api, workers, sandbox):
    conversation = await _conversation(api, workers)
    await _reply(api, conversation.id, "Gracias")
    await workers.drain()
    assert FAKE.echoes(api.sandbox_channel(), sandbox.sent[0]) == []
    assert [m.direction for m in await api.messages()] == [Direction.inbound, Direction.outbound]


async def test_flood_control_429_is_retried_after_retry_after(api, workers, sandbox):
    conversation = await _conversation(api, workers)
    sandbox.inject_failure(
        CONNECTOR.platform,
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    message_id = await _reply(api, conversation.id, "Un momento, lo compruebo")
    before = now()
    await workers.drain()
    job = await api.job(message_id)
    assert job.status is SendStatus.pending
    assert before + timedelta(seconds=6) <= job.next_attempt_at <= now() + timedelta(seconds=8)
    assert job.last_error == "429: Too Many Requests: retry after 7"
    assert (await api.message(message_id)).status is DeliveryStatus.queued
    assert sandbox.sent == []


async def test_two_quick_replies_to_one_chat_hit_the_one_per_second_limit(api, workers, sandbox):
    conversation = await _conversation(api, workers)
    ids = [await _reply(api, conversation.id, text) for text in ("Primero", "Segundo")]
    await workers.drain()  # both in one batch, sent at once
    jobs = {i: await api.job(i) for i in ids}
    [done] = [i for i in ids if jobs[i].status is SendStatus.done]
    [held] = [i for i in ids if i != done]
    assert jobs[held].status is SendStatus.pending
    assert jobs[held].last_error.startswith("429: Too Many Requests: retry after")
    assert jobs[held].next_attempt_at <= now() + timedelta(seconds=2)
    assert (await api.message(held)).status is DeliveryStatus.queued
    assert len(sandbox.sent) == 1


async def test_blocked_by_the_user_is_final_with_telegrams_words(api, workers, sandbox):
    conversation = await _conversation(api, workers)
    sandbox.inject_failure(
        CONNECTOR.platform,
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    message_id = await _reply(api, conversation.id, "¿Sigue ahí?")
    await workers.drain()
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.failed
    assert (message.error_code, message.error_message) == (
        "403",
        "Forbidden: bot was blocked by the user",
    )
    assert (await api.job(message_id)).status is SendStatus.failed


def _request(
    chat: str = LUCIA.id, text: str = "Hola", key: str = "k-1", kind: Kind = Kind.dm
) -> SendRequest:
    return SendRequest(
        message_id=1, idempotency_key=key, text=text, kind=kind, thread_key=chat, recipient_id=chat
    )


CONFIG = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.telegram,
    external_id=BOT_ID,
    name=BOT_NAME,
    secrets={"signing_secret": "s", "access_token": BOT_TOKEN},
    settings={"api_base_url": api_base_url(TEST_SANDBOX_URL, Platform.telegram)},
)


@pytest.fixture
async def bot():
    """The sandbox's Bot API alone (no database): the connector against it, request by request."""
    state = SandboxState()
    state.add_channel(
        SandboxChannel(
            bandeja_id=1,
            platform=Platform.telegram,
            external_id=BOT_ID,
            name=BOT_NAME,
            secrets=dict(CONFIG.secrets),
            webhook_url="/",
        )
    )
    async with httpx.AsyncClient(transport=sandbox_transport(state)) as client:
        yield state, client


def _sandbox_channel(state: SandboxState) -> SandboxChannel:
    return state.channels[1]


async def test_the_sandbox_refuses_a_person_who_never_pressed_start(bot):
    _state, client = bot
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, CONFIG, _request())
    assert (refused.value.code, refused.value.retryable) == ("403", False)
    assert refused.value.message == "Forbidden: bot can't initiate conversation with a user"


async def test_a_person_who_blocked_the_bot_is_refused(bot):
    state, client = bot
    state.add_person(
        Platform.telegram,
        SimPerson(id=LUCIA.id, name="Lucía", handle="", language="es", accepts_dms=False),
    )
    state.wrote(_sandbox_channel(state), LUCIA.id, now())
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, CONFIG, _request())
    assert (refused.value.code, refused.value.message) == (
        "403",
        "Forbidden: bot was blocked by the user",
    )


async def test_same_idempotency_key_is_answered_once(bot):
    state, client = bot
    state.wrote(_sandbox_channel(state), LUCIA.id, now())
    first = await CONNECTOR.send(client, CONFIG, _request(key="same"))
    again = await CONNECTOR.send(client, CONFIG, _request(key="same"))
    assert first == again
    assert first.external_id
    assert first.external_id.startswith(f"{LUCIA.id}:")
    assert len(state.sent) == 1


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("x" * 4097, "Bad Request: message is too long"),
        ("   ", "Bad Request: message text is empty"),
    ],
)
async def test_bad_requests_are_final(bot, text, description):
    state, client = bot
    state.wrote(_sandbox_channel(state), LUCIA.id, now())
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, CONFIG, _request(text=text))
    assert (refused.value.code, refused.value.message, refused.value.retryable) == (
        "400",
        description,
        False,
    )


async def test_revoked_token_is_unauthorized_and_final(bot):
    _state, client = bot
    revoked = replace(CONFIG, secrets={**CONFIG.secrets, "access_token": BOT_TOKEN + "x"})
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, revoked, _request())
    assert (refused.value.code, refused.value.message, refused.value.retryable) == (
        "401",
        "Unauthorized",
        False,
    )


async def test_server_errors_are_retryable(bot):
    state, client = bot
    state.inject_failure(
        Platform.telegram, 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    )
    with pytest.raises(SendError) as failed:
        await CONNECTOR.send(client, CONFIG, _request())
    assert (failed.value.code, failed.value.retryable) == ("502", True)


async def test_group_upgrade_error_names_the_new_chat(bot):
    state, client = bot
    state.inject_failure(
        Platform.telegram,
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1001999000111},
        },
    )
    with pytest.raises(SendError) as failed:
        await CONNECTOR.send(client, CONFIG, _request(chat="-4001122", kind=Kind.mention))
    assert failed.value.code == "400"
    assert not failed.value.retryable
    assert "-1001999000111" in failed.value.message


async def test_the_token_never_appears_in_an_error(bot):
    state, client = bot
    state.inject_failure(
        Platform.telegram, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
    )
    with pytest.raises(SendError) as failed:
        await CONNECTOR.send(client, CONFIG, _request())
    assert BOT_TOKEN not in str(failed.value)
    assert BOT_TOKEN.split(":")[1] not in str(failed.value)
