"""Replies through the WhatsApp Cloud API (played by the sandbox): the request shape, statuses
coming back, echoes, retries and final failures with WhatsApp's own codes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest

from bandeja.channels.base import ChannelConfig, SendError, SendRequest
from bandeja.channels.sandbox.app import sandbox_transport
from bandeja.channels.sandbox.contract import SandboxChannel, SimEcho, SimMessage, SimStatus
from bandeja.channels.sandbox.state import SandboxState
from bandeja.channels.whatsapp import CONNECTOR
from bandeja.channels.whatsapp import send as wa_send
from bandeja.channels.whatsapp.fake import FAKE
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from bandeja.core.outbox.models import SendStatus
from bandeja.core.outbox.types import Template

from .conftest import ACCESS_TOKEN, GIULIA, LUCIA, PHONE_ID, now

REPLY = "¡Hola Lucía! Sí, mañana abrimos a las 8:00. ¿Te guardamos la tarta?"


async def _conversation(
    wa, workers, sandbox, person=LUCIA, *, ago=timedelta(minutes=2), wrote: bool = True
) -> tuple[int, str]:
    """A customer wrote ``ago``; returns the conversation id and their message's wamid."""
    at = now() - ago
    wamid = f"wamid.HBgL{person.id}{int(at.timestamp())}"
    await wa.emit(SimMessage(person=person, message_id=wamid, text="Hola, ¿abrís mañana?", at=at))
    await workers.drain()
    if wrote:  # what the sandbox knows of the window (its traffic generator does this)
        sandbox.wrote(wa.sandbox_channel(), person.id, at)
    conversation = next(c for c in await wa.conversations() if c.thread_key == person.id)
    return conversation.id, wamid


async def _reply(wa, conversation: int, **body) -> int:
    response = await wa.reply(conversation, **body)
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


async def test_reply_is_sent_with_the_cloud_api_request_shape(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    message_id = await _reply(api, conversation, text=REPLY)
    assert (await api.message(message_id)).status is DeliveryStatus.queued
    await workers.drain()
    [record] = sandbox.sent
    job = await api.job(message_id)
    assert record.payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": LUCIA.id,
        "type": "text",
        "text": {"body": REPLY, "preview_url": False},
        "biz_opaque_callback_data": f"bandeja:{job.idempotency_key}",
    }
    assert (record.recipient_id, record.text, record.idempotency_key) == (
        LUCIA.id,
        REPLY,
        job.idempotency_key,
    )
    assert record.channel_external_id == PHONE_ID
    message = await api.message(message_id)
    assert (message.status, message.external_id) == (DeliveryStatus.sent, record.message_id)
    assert job.status is SendStatus.done


async def test_statuses_after_the_send_move_the_reply_to_read(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    [record] = sandbox.sent
    reported = FAKE.echoes(api.sandbox_channel(), record)
    assert [e.status for e in reported if isinstance(e, SimStatus)] == ["sent", "delivered", "read"]
    for event in reversed(reported):  # even in the worst order
        await api.emit(event)
    await workers.drain()
    assert (await api.message(message_id)).status is DeliveryStatus.read
    assert [m.direction for m in await api.thread(LUCIA.id)] == [
        Direction.inbound,
        Direction.outbound,
    ]
    assert await api.ignored() == {}


async def test_an_echo_of_our_own_reply_is_matched_not_duplicated(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    [record] = sandbox.sent
    await api.emit(SimEcho(person=LUCIA, message_id=record.message_id, text=REPLY, at=now()))
    await workers.drain()
    outbound = [m for m in await api.thread(LUCIA.id) if m.direction is Direction.outbound]
    assert [(m.id, m.author_type) for m in outbound] == [(message_id, AuthorType.user)]


async def test_a_message_from_the_business_app_is_stored_as_external(api, workers, sandbox):
    await _conversation(api, workers, sandbox)
    await api.emit(
        SimEcho(
            person=LUCIA,
            message_id="wamid.HBgLapp.1",
            at=now(),
            text="Te llamo en cinco minutos 📞",
        )
    )
    await workers.drain()
    [_, echo] = await api.thread(LUCIA.id)
    assert (echo.direction, echo.author_type, echo.status, echo.text, echo.external_id) == (
        Direction.outbound,
        AuthorType.external,
        DeliveryStatus.sent,
        "Te llamo en cinco minutos 📞",
        "wamid.HBgLapp.1",
    )
    assert sandbox.sent == []


async def test_template_outside_the_window(api, workers, sandbox):
    conversation, _ = await _conversation(
        api, workers, sandbox, person=GIULIA, ago=timedelta(days=3)
    )
    message_id = await _reply(
        api,
        conversation,
        template={"name": "ordine_pronto", "language": "it", "parameters": ["Giulia", "1043"]},
    )
    await workers.drain()
    [record] = sandbox.sent
    assert record.payload["type"] == "template"
    assert record.payload["template"] == {
        "name": "ordine_pronto",
        "language": {"code": "it"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Giulia"},
                    {"type": "text", "text": "1043"},
                ],
            }
        ],
    }
    assert "text" not in record.payload
    message = await api.message(message_id)
    assert (message.status, message.external_id) == (DeliveryStatus.sent, record.message_id)


async def test_429_with_retry_after_is_retried_later(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    sandbox.inject_failure(
        Platform.whatsapp,
        429,
        {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Cloud API message throughput has been reached.",
                },
                "fbtrace_id": "AbCdEf",
            }
        },
        {"Retry-After": "120"},
    )
    message_id = await _reply(api, conversation, text=REPLY)
    before = now()
    await workers.drain()
    job = await api.job(message_id)
    assert (job.status, job.attempts) == (SendStatus.pending, 1)
    assert before + timedelta(seconds=115) <= job.next_attempt_at <= now() + timedelta(seconds=121)
    assert job.last_error.startswith("130429: (#130429) Rate limit hit")
    assert (await api.message(message_id)).status is DeliveryStatus.queued
    assert sandbox.sent == []


async def test_whatsapp_rate_limit_and_outage_codes_are_retried(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    codes = [130429, 131056, 80007, 131000]
    for code in codes:  # Graph answers them with HTTP 400: the code decides
        sandbox.inject_failure(
            Platform.whatsapp,
            400,
            {"error": {"message": f"(#{code}) Try later", "type": "OAuthException", "code": code}},
        )
    replies = [await _reply(api, conversation, text=f"{REPLY} ({i})") for i in range(len(codes))]
    await workers.drain()
    jobs = [await api.job(message_id) for message_id in replies]
    assert [j.status for j in jobs] == [SendStatus.pending] * len(codes)
    assert sorted(j.last_error.split(":")[0] for j in jobs) == sorted(map(str, codes))
    assert {(await api.message(m)).status for m in replies} == {DeliveryStatus.queued}
    assert sandbox.sent == []


async def test_a_permanent_error_fails_with_whatsapp_code_and_words(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    sandbox.inject_failure(
        Platform.whatsapp,
        400,
        {
            "error": {
                "message": "(#131026) Message undeliverable",
                "type": "OAuthException",
                "code": 131026,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Unable to deliver message.",
                },
                "fbtrace_id": "AbCdEf",
            }
        },
    )
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    message = await api.message(message_id)
    assert message.status is DeliveryStatus.failed
    assert message.error_code == "131026"
    assert message.error_message == "(#131026) Message undeliverable: Unable to deliver message."
    assert (await api.job(message_id)).status is SendStatus.failed


async def test_window_closed_on_whatsapps_side_fails_with_131047(api, workers, sandbox):
    # Bandeja saw the message, WhatsApp's clock disagrees (here: the sandbox never saw it).
    conversation, _ = await _conversation(api, workers, sandbox, wrote=False)
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    message = await api.message(message_id)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "131047")
    assert message.error_message.startswith("(#131047) Re-engagement message: Message failed")
    assert sandbox.sent == []


async def test_131047_reported_later_as_a_failed_status(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    [record] = sandbox.sent
    await api.emit(
        SimStatus(
            person=LUCIA,
            message_id=record.message_id,
            status="failed",
            at=now(),
            error_code="131047",
        )
    )
    await workers.drain()
    message = await api.message(message_id)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "131047")
    assert "24 hours" in message.error_message


async def test_a_person_who_cannot_receive_messages(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    sandbox.add_person(Platform.whatsapp, dataclasses.replace(LUCIA, accepts_dms=False))
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    message = await api.message(message_id)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "131026")


async def test_a_token_whatsapp_refuses_fails_for_good(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    sandbox.add_channel(
        dataclasses.replace(api.sandbox_channel(), secrets={"access_token": "a-newer-token"})
    )
    message_id = await _reply(api, conversation, text=REPLY)
    await workers.drain()
    message = await api.message(message_id)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "190")
    assert "Invalid OAuth access token" in message.error_message


async def test_the_same_idempotency_key_never_sends_twice(api, workers, sandbox):
    conversation, _ = await _conversation(api, workers, sandbox)
    first = await api.reply(conversation, text=REPLY, idempotency_key="agent-7-draft-31")
    again = await api.reply(conversation, text=REPLY, idempotency_key="agent-7-draft-31")
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    await workers.drain()
    assert [r.idempotency_key for r in sandbox.sent] == ["agent-7-draft-31"]
    # A retried request (the worker died after sending) is answered again, not sent again.
    request = SendRequest(
        message_id=1,
        idempotency_key="agent-7-draft-31",
        text=REPLY,
        kind=Kind.dm,
        thread_key=LUCIA.id,
        recipient_id=LUCIA.id,
    )
    async with httpx.AsyncClient(transport=sandbox_transport(sandbox)) as client:
        result = await CONNECTOR.send(client, _config(), request)
    assert result.external_id == sandbox.sent[0].message_id
    assert len(sandbox.sent) == 1


# --- the connector and the fake API, directly ---------------------------------------------------


def _config(**settings) -> ChannelConfig:
    return ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        secrets={"access_token": ACCESS_TOKEN},
        settings={"api_base_url": "http://sandbox/whatsapp", **settings},
    )


def _request(**fields) -> SendRequest:
    return SendRequest(
        **{
            "message_id": 1,
            "idempotency_key": "bdj-k1",
            "text": REPLY,
            "kind": Kind.dm,
            "thread_key": LUCIA.id,
            "recipient_id": LUCIA.id,
            "reply_to_external_id": "wamid.in.1",
            **fields,
        }
    )


def test_payload_quotes_the_customer_only_when_the_channel_asks():
    assert "context" not in wa_send.payload(_config(), _request())
    quoted = wa_send.payload(_config(quote_replies=True, preview_url=True), _request())
    assert quoted["context"] == {"message_id": "wamid.in.1"}
    assert quoted["text"] == {"body": REPLY, "preview_url": True}


def test_template_without_parameters_has_no_components():
    body = wa_send.payload(_config(), _request(text="", template=Template("hello_world", "en_US")))
    assert body["template"] == {"name": "hello_world", "language": {"code": "en_US"}}


async def test_request_headers_and_url():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": LUCIA.id, "wa_id": LUCIA.id}],
                "messages": [{"id": "wamid.OUT1"}],
            },
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await CONNECTOR.send(client, _config(api_base_url=""), _request())
    [request] = seen
    assert str(request.url) == f"https://graph.facebook.com/v23.0/{PHONE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["idempotency-key"] == "bdj-k1"
    assert (result.external_id, result.recipient_id) == ("wamid.OUT1", LUCIA.id)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"messaging_product": "whatsapp", "messages": []}),
        httpx.Response(200, text="<html>ok</html>"),
        httpx.Response(200, json={"messages": [{"id": ""}]}),
    ],
)
async def test_an_accepted_request_without_an_id_is_ambiguous(answer):
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answer)) as client:
        with pytest.raises(SendError) as failed:
            await CONNECTOR.send(client, _config(), _request())
    assert failed.value.ambiguous
    assert failed.value.code == "unexpected_answer"


async def test_no_access_token_is_a_final_error():
    config = dataclasses.replace(_config(), secrets={})
    async with httpx.AsyncClient() as client:
        with pytest.raises(SendError) as failed:
            await CONNECTOR.send(client, config, _request())
    assert (failed.value.code, failed.value.retryable) == ("no_access_token", False)


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "retry_after"),
    [
        (
            400,
            {"error": {"code": 131047, "message": "(#131047) Re-engagement message"}},
            {},
            "131047",
            False,
            None,
        ),
        (
            500,
            {"error": {"code": 131047, "message": "(#131047) Re-engagement message"}},
            {},
            "131047",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131050, "message": "(#131050) Marketing stopped"}},
            {},
            "131050",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131051, "message": "(#131051) Unsupported message type"}},
            {},
            "131051",
            False,
            None,
        ),
        (
            401,
            {"error": {"code": 190, "error_subcode": 463, "message": "Session has expired"}},
            {},
            "190.463",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 130429, "message": "(#130429) Rate limit hit"}},
            {},
            "130429",
            True,
            None,
        ),
        (
            400,
            {"error": {"code": 80007, "message": "(#80007) Rate limit issues"}},
            {},
            "80007",
            True,
            None,
        ),
        (
            500,
            {"error": {"code": 131000, "message": "Something went wrong"}},
            {},
            "131000",
            True,
            None,
        ),
        (
            503,
            {"error": {"code": 131016, "message": "Service unavailable"}},
            {"Retry-After": "30"},
            "131016",
            True,
            30.0,
        ),
        (
            400,
            {"error": {"code": 2, "message": "Service temporarily unavailable"}},
            {},
            "2",
            True,
            None,
        ),
        (502, "<html>Bad gateway</html>", {}, "http_502", True, None),
        (400, [{"unexpected": "array"}], {}, "http_400", False, None),
        (429, {"error": "too many"}, {"Retry-After": "7"}, "http_429", True, 7.0),
    ],
)
def test_error_mapping(status, body, headers, code, retryable, retry_after):
    if isinstance(body, str):
        response = httpx.Response(status, text=body, headers=headers)
    else:
        response = httpx.Response(status, json=body, headers=headers)
    error = wa_send.send_error(response)
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    assert not error.ambiguous


@pytest.fixture
async def graph():
    """The sandbox's WhatsApp API on its own (no database): Lucía wrote a minute ago, Giulia
    never did."""
    state = SandboxState()
    channel = SandboxChannel(
        bandeja_id=1,
        platform=Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        secrets={"access_token": ACCESS_TOKEN},
        webhook_url="http://testserver/webhooks/whatsapp/1",
    )
    state.add_channel(channel)
    for person in (LUCIA, GIULIA):
        state.add_person(Platform.whatsapp, person)
    state.wrote(channel, LUCIA.id, now() - timedelta(minutes=1))
    async with httpx.AsyncClient(
        transport=sandbox_transport(state), base_url="http://sandbox/whatsapp"
    ) as client:
        yield client


def _text(to: str = LUCIA.id, body: str = "Hola") -> dict[str, object]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "code"),
    [
        (f"/{PHONE_ID}/messages", {}, _text(), 401, 190),
        (f"/{PHONE_ID}/messages", {"Authorization": "Bearer nope"}, _text(), 401, 190),
        ("/999/messages", None, _text(), 400, 100),
        (f"/{PHONE_ID}/messages", None, _text(body="x" * 4097), 400, 100),
        (f"/{PHONE_ID}/messages", None, {**_text(), "messaging_product": "sms"}, 400, 100),
        (f"/{PHONE_ID}/messages", None, {**_text(), "to": ""}, 400, 100),
        (f"/{PHONE_ID}/messages", None, {**_text(), "type": "image"}, 400, 100),
        (f"/{PHONE_ID}/messages", None, {**_text(), "type": "template", "template": {}}, 400, 100),
        (f"/{PHONE_ID}/messages", None, _text(to=GIULIA.id), 400, 131047),  # never wrote
    ],
)
async def test_fake_api_answers_errors_in_the_graph_shape(graph, path, headers, body, status, code):
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"} if headers is None else headers
    response = await graph.post(path, json=body, headers=auth)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["fbtrace_id"]
    assert error["type"] in ("OAuthException", "GraphMethodException")


async def test_fake_api_serves_a_versioned_path_and_rate_limits_a_pair(graph):
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    ok = await graph.post(f"/v23.0/{PHONE_ID}/messages", json=_text(), headers=auth)
    assert ok.status_code == 200
    assert ok.json()["contacts"] == [{"input": LUCIA.id, "wa_id": LUCIA.id}]
    codes = set()
    for _ in range(50):
        response = await graph.post(f"/{PHONE_ID}/messages", json=_text(), headers=auth)
        codes.add(response.json().get("error", {}).get("code"))
    assert codes == {None, 131056}
