"""The Send API request and how Graph's answers become results or SendErrors (no database:
an httpx MockTransport plays Graph)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bandeja.channels.base import ChannelConfig, SendError, SendRequest
from bandeja.channels.messenger import CONNECTOR
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind

PAGE = "104857600123456"
CHANNEL = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.messenger,
    external_id=PAGE,
    name="Horno Bandeja",
    secrets={"access_token": "EAAG-token"},
    settings={},
)


def request(**changes: Any) -> SendRequest:
    fields: dict[str, Any] = {
        "message_id": 1,
        "idempotency_key": "bdj-abc",
        "text": "¡Hola!",
        "kind": Kind.dm,
        "thread_key": "7234561098765432",
        "recipient_id": "7234561098765432",
    }
    return SendRequest(**{**fields, **changes})


async def send(
    req: SendRequest,
    status: int = 200,
    answer: Any = None,
    headers: dict[str, str] | None = None,
    channel: ChannelConfig = CHANNEL,
) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        body = (
            answer
            if answer is not None
            else {"recipient_id": "7234561098765432", "message_id": "m_out_1"}
        )
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers or {})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        try:
            result: Any = await CONNECTOR.send(client, channel, req)
        except SendError as exc:
            result = exc
    return result, seen


async def test_a_dm_request() -> None:
    result, [sent] = await send(request())
    assert (result.external_id, result.recipient_id) == ("m_out_1", "7234561098765432")
    assert str(sent.url) == f"https://graph.facebook.com/v23.0/{PAGE}/messages"
    assert sent.headers["authorization"] == "Bearer EAAG-token"
    assert sent.headers["idempotency-key"] == "bdj-abc"
    assert "access_token" not in str(sent.url)  # never in a URL that may be logged
    assert json.loads(sent.content) == {
        "recipient": {"id": "7234561098765432"},
        "messaging_type": "RESPONSE",
        "message": {"text": "¡Hola!", "metadata": "bandeja:bdj-abc"},
    }


async def test_a_tagged_dm_and_a_private_reply() -> None:
    _, [tagged] = await send(request(tag="HUMAN_AGENT"))
    body = json.loads(tagged.content)
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    _, [private] = await send(
        request(
            kind=Kind.comment,
            thread_key="11_22",
            recipient_id="8765",
            private_reply_to_external_id="11_33",
        )
    )
    assert json.loads(private.content)["recipient"] == {"comment_id": "11_33"}
    assert private.url.path == f"/v23.0/{PAGE}/messages"


async def test_a_public_comment_reply_goes_to_the_threads_top_level_comment() -> None:
    result, [sent] = await send(
        request(kind=Kind.comment, thread_key="11_22", reply_to_external_id="11_33"),
        answer={"id": "11_44"},
    )
    assert result.external_id == "11_44"
    assert str(sent.url) == "https://graph.facebook.com/v23.0/11_22/comments"
    assert json.loads(sent.content) == {"message": "¡Hola!"}


async def test_the_base_url_comes_from_the_channel_settings() -> None:
    channel = ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.messenger,
        external_id=PAGE,
        name="x",
        secrets={"access_token": "t"},
        settings={"api_base_url": "http://localhost:8700/messenger/"},
    )
    _, [sent] = await send(request(), channel=channel)
    assert str(sent.url) == f"http://localhost:8700/messenger/{PAGE}/messages"


def graph_error(
    code: int, subcode: int | None = None, message: str = "(#x) boom", **more: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A1b2C3",
        **more,
    }
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "answer", "headers", "code", "retryable", "retry_after"),
    [
        (400, graph_error(10, 2018278), None, "10.2018278", False, None),
        (400, graph_error(551, 1545041), None, "551.1545041", False, None),
        (400, graph_error(190, 463), None, "190.463", False, None),
        (400, graph_error(100), None, "100", False, None),
        (400, graph_error(613), None, "613", True, None),
        (400, graph_error(4), None, "4", True, None),
        (403, graph_error(17), None, "17", True, None),
        (400, graph_error(1200, is_transient=True), None, "1200", True, None),
        (429, graph_error(613), {"Retry-After": "30"}, "613", True, 30.0),
        (500, graph_error(2), None, "2", True, None),
        (502, b"<html>Bad Gateway</html>", None, "http_502", True, None),
    ],
)
async def test_graph_errors(
    status: int,
    answer: Any,
    headers: dict[str, str] | None,
    code: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    error, _ = await send(request(), status=status, answer=answer, headers=headers)
    assert isinstance(error, SendError)
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    assert not error.ambiguous
    if isinstance(answer, dict):
        assert error.message == answer["error"]["message"]


async def test_an_unreadable_success_still_counts_as_sent() -> None:
    result, _ = await send(request(), answer=b"ok")
    assert result.external_id is None


async def test_without_a_token_nothing_is_sent() -> None:
    channel = ChannelConfig(
        id=1,
        workspace_id=1,
        platform=Platform.messenger,
        external_id=PAGE,
        name="x",
        secrets={},
        settings={},
    )
    error, seen = await send(request(), channel=channel)
    assert isinstance(error, SendError)
    assert error.code == "no_access_token"
    assert not error.retryable
    assert seen == []


async def test_mentions_cannot_be_answered() -> None:
    error, seen = await send(request(kind=Kind.mention))
    assert isinstance(error, SendError)
    assert error.code == "not_supported"
    assert seen == []
