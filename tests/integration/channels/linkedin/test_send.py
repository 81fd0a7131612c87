"""Replies through the API, sent by the worker to the sandbox's Comments API: the request
LinkedIn gets, the comment URN we keep, the ``ADMIN_COMMENT`` echo, retries and final errors."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from bandeja.channels.base import ChannelConfig, SendError, SendRequest
from bandeja.channels.linkedin import CONNECTOR, urns
from bandeja.channels.linkedin.fake import FAKE
from bandeja.channels.sandbox.app import TEST_SANDBOX_URL, api_base_url, sandbox_transport
from bandeja.channels.sandbox.contract import SandboxChannel, SimEcho, SimMessage
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.outbox.models import SendStatus

from .conftest import (
    ACCESS_TOKEN,
    ACTIVITY,
    GIULIA,
    MENTION_SHARE,
    ORG,
    ORG_ID,
    SOFIA,
    TOP,
    now,
    seed_api,
)


async def _comment_thread(li, workers, name: str = "comment__ids_only"):
    seed_api()
    await li.deliver_fixture(name)
    await workers.drain()
    [conversation] = await li.conversations()
    return conversation


async def _reply(li, conversation_id: int, text: str, **body: object) -> int:
    response = await li.reply(conversation_id, text=text, **body)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def _echo_back(li, workers, sandbox) -> None:
    """Deliver what LinkedIn notifies after the Page commented (``ADMIN_COMMENT``)."""
    for record in sandbox.sent:
        for event in FAKE.echoes(li.sandbox_channel(), record):
            assert await li.emit(event) == 1
    await workers.drain()


async def test_comment_reply_is_a_nested_comment_on_the_thread(api, workers, sandbox):
    conversation = await _comment_thread(api, workers)
    message_id = await _reply(
        api, conversation.id, "¡Sí! Enviamos a Canarias en 72 h.", idempotency_key="li-reply-1"
    )
    await workers.drain()
    [sent] = sandbox.sent
    assert sent.payload == {
        "actor": ORG,
        "object": ACTIVITY,
        "message": {"text": "¡Sí! Enviamos a Canarias en 72 h."},
        "parentComment": TOP,
    }
    assert sent.recipient_id == SOFIA.id
    assert sent.idempotency_key == "li-reply-1"
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.sent
    parts = urns.comment_parts(message.external_id)
    assert parts is not None
    assert parts[0] == ACTIVITY
    # LinkedIn then notifies the Page's comment: matched to the reply, not stored twice.
    await _echo_back(api, workers, sandbox)
    outbound = [m for m in await api.thread(TOP) if m.direction is Direction.outbound]
    assert [(m.id, m.author_type) for m in outbound] == [(message_id, AuthorType.user)]


async def test_reply_to_a_nested_comment_answers_its_top_level_thread(api, workers, sandbox):
    seed_api()
    await api.deliver_fixture("comment__ids_only")
    conversation = await _comment_thread(api, workers, "comment__reply_nested")
    await _reply(api, conversation.id, "Sì, anche a Palermo!")
    await workers.drain()
    [sent] = sandbox.sent
    assert sent.payload["parentComment"] == TOP
    assert sent.recipient_id == SOFIA.id  # the thread's top-level author


async def test_mention_reply_is_a_comment_on_the_mentioning_post(api, workers, sandbox):
    conversation = await _comment_thread(api, workers, "share_mention__ids_only")
    assert conversation.kind is Kind.mention
    message_id = await _reply(api, conversation.id, "Grazie Giulia! A presto ☕")
    await workers.drain()
    [sent] = sandbox.sent
    assert sent.payload == {
        "actor": ORG,
        "object": MENTION_SHARE,
        "message": {"text": "Grazie Giulia! A presto ☕"},
    }
    assert sent.recipient_id == GIULIA.id
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.sent
    assert message.external_id.startswith(f"urn:li:comment:({MENTION_SHARE},")


async def test_page_comment_from_linkedin_itself_is_stored_as_outside_reply(api, workers, sandbox):
    at = now() - timedelta(minutes=3)
    await api.emit(
        SimMessage(
            person=GIULIA,
            message_id="sbx-linkedin-in.9.1",
            text="Avete opzioni senza lattosio?",
            at=at,
            kind="comment",
            post_id="90412345_post1",
        )
    )
    await workers.drain()
    [conversation] = await api.conversations()
    await api.emit(
        SimEcho(
            person=GIULIA,
            message_id="native-page-comment-1",
            text="Sì, latte d'avena e di soia!",
            at=at + timedelta(minutes=1),
        )
    )
    await workers.drain()
    customer, page = await api.thread(conversation.thread_key)
    assert customer.text == "Avete opzioni senza lattosio?"
    assert (page.direction, page.author_type, page.text) == (
        Direction.outbound,
        AuthorType.external,
        "Sì, latte d'avena e di soia!",
    )


async def test_throttle_429_is_retried_after_retry_after(api, workers, sandbox):
    conversation = await _comment_thread(api, workers)
    sandbox.inject_failure(
        CONNECTOR.platform,
        429,
        {
            "status": 429,
            "serviceErrorCode": 101,
            "code": "TOO_MANY_REQUESTS",
            "message": "Resource level throttle APPLICATION DAY limit for calls to this "
            "resource is reached.",
        },
        {"Retry-After": "30"},
    )
    message_id = await _reply(api, conversation.id, "Gracias por escribir")
    before = now()
    await workers.drain()
    job = await api.job(message_id)
    assert job.status is SendStatus.pending
    assert before + timedelta(seconds=29) <= job.next_attempt_at <= now() + timedelta(seconds=31)
    assert job.last_error.startswith("101.TOO_MANY_REQUESTS: Resource level throttle")
    assert (await api.message(message_id)).status is DeliveryStatus.queued


async def test_permission_error_is_final_with_linkedins_code(api, workers, sandbox):
    conversation = await _comment_thread(api, workers)
    sandbox.inject_failure(
        CONNECTOR.platform,
        403,
        {
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: partnerApiSocialActions.CREATE.20251001",
        },
    )
    message_id = await _reply(api, conversation.id, "Gracias")
    await workers.drain()
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "100.ACCESS_DENIED"
    assert message.error_message.startswith("Not enough permissions")
    assert (await api.job(message_id)).status is SendStatus.failed


def _request(
    kind: Kind = Kind.comment, thread: str = TOP, key: str = "k-1", text: str = "Thanks!"
) -> SendRequest:
    return SendRequest(
        message_id=1,
        idempotency_key=key,
        text=text,
        kind=kind,
        thread_key=thread,
        recipient_id=SOFIA.id,
        reply_to_external_id=thread,
    )


CONFIG = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.linkedin,
    external_id=ORG_ID,
    name="Café Aurora Group",
    secrets={"signing_secret": "s", "access_token": ACCESS_TOKEN},
    settings={"api_base_url": api_base_url(TEST_SANDBOX_URL, Platform.linkedin)},
)


@pytest.fixture
async def page():
    """The sandbox's LinkedIn API alone (no database): the connector against it."""
    state = SandboxState()
    state.add_channel(
        SandboxChannel(
            bandeja_id=1,
            platform=Platform.linkedin,
            external_id=ORG_ID,
            name="Café Aurora Group",
            secrets=dict(CONFIG.secrets),
            webhook_url="/",
        )
    )
    async with httpx.AsyncClient(transport=sandbox_transport(state)) as client:
        yield state, client


async def test_request_shape_headers_and_encoded_path():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            201, json={"commentUrn": "urn:li:comment:(activity:1,2)"}, headers={"x-restli-id": "2"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        result = await CONNECTOR.send(client, CONFIG, _request())
    [request] = seen
    assert request.method == "POST"
    assert request.url.raw_path.decode() == (
        "/linkedin/rest/socialActions/urn%3Ali%3Aactivity%3A7270123456789012481/comments"
    )
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["LinkedIn-Version"] == "202510"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["Idempotency-Key"] == "k-1"
    assert json.loads(request.content)["parentComment"] == TOP
    assert result.external_id == "urn:li:comment:(urn:li:activity:1,2)"


async def test_comment_id_from_the_restli_header_when_the_body_is_empty():
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["LinkedIn-Version"] == "202601"  # the channel's setting wins
        return httpx.Response(201, headers={"x-restli-id": "7270234567890199999"})

    config = replace(CONFIG, settings={**CONFIG.settings, "linkedin_version": "202601"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        result = await CONNECTOR.send(client, config, _request())
    assert result.external_id == f"urn:li:comment:({ACTIVITY},7270234567890199999)"


async def test_same_idempotency_key_is_answered_once(page):
    state, client = page
    first = await CONNECTOR.send(client, CONFIG, _request(key="same"))
    again = await CONNECTOR.send(client, CONFIG, _request(key="same"))
    assert first.external_id == again.external_id
    assert len(state.sent) == 1


async def test_dm_is_refused_before_any_request(page):
    state, client = page
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, CONFIG, _request(kind=Kind.dm, thread=SOFIA.id))
    assert (refused.value.code, refused.value.retryable) == ("not_supported", False)
    assert state.sent == []


async def test_server_errors_are_retryable(page):
    state, client = page
    state.inject_failure(Platform.linkedin, 503, {"status": 503, "message": "Unavailable"})
    with pytest.raises(SendError) as failed:
        await CONNECTOR.send(client, CONFIG, _request())
    assert (failed.value.code, failed.value.retryable) == ("http_503", True)


async def test_too_long_for_linkedin_is_final(page):
    _state, client = page
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, CONFIG, _request(text="x" * 1251))
    assert (refused.value.code, refused.value.retryable) == ("UNPROCESSABLE_ENTITY", False)


async def test_revoked_token_is_final(page):
    _state, client = page
    revoked = replace(CONFIG, secrets={**CONFIG.secrets, "access_token": "expired"})
    with pytest.raises(SendError) as refused:
        await CONNECTOR.send(client, revoked, _request())
    assert (refused.value.code, refused.value.retryable) == ("65600.INVALID_ACCESS_TOKEN", False)


async def test_a_missing_version_header_is_what_linkedin_refuses(page):
    _state, client = page
    response = await client.post(
        f"{CONFIG.settings['api_base_url']}/rest/socialActions/{urns.path(ACTIVITY)}/comments",
        json={"actor": ORG, "object": ACTIVITY, "message": {"text": "hi"}},
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VERSION_MISSING"
