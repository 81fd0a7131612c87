"""Replies through the WhatsApp Cloud API: ``POST {base}/{phone-number-id}/messages``.

A text inside the customer-service window, or an approved template anywhere. Each request
carries ``biz_opaque_callback_data = "bandeja:<idempotency key>"`` (WhatsApp echoes it in the
statuses of the message) and an ``Idempotency-Key`` header (the sandbox deduplicates on it; the
Cloud API ignores it).

Errors keep WhatsApp's code and words. Graph answers most of them with HTTP 400, so whether to
try again is decided by the code: rate limits and outages retry, policy errors are final.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bandeja.channels import meta
from bandeja.channels.base import (
    ChannelConfig,
    SendError,
    SendRequest,
    SendResult,
    send_error_from_response,
)
from bandeja.channels.whatsapp.content import obj, string

# What to do about an error is decided by WhatsApp's code, because Graph answers nearly all of
# them with HTTP 400.
RETRYABLE_CODES: frozenset[int] = frozenset(
    {130429, 131056, 80007, 131048}  # throughput, pair rate, account rate, spam rate limits
    | {131000, 131016, 133004}  # something went wrong, service unavailable
    | {1, 2, 4}  # Graph's temporary errors
)
FINAL_CODES: frozenset[int] = frozenset(
    {131047, 131050, 131026, 131051}  # window closed, marketing stopped, undeliverable, type
    | {100, 131008, 131009}  # bad or missing parameter
    | {132000, 132001, 132005, 132007, 132012, 132015, 132016}  # template problems
    | {190, 10, 200}  # expired or bad token, missing permission
    | {131031, 368}  # account or number restricted
)


def payload(channel: ChannelConfig, request: SendRequest) -> dict[str, Any]:
    """The Cloud API request body for ``request``."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": request.recipient_id,
    }
    if request.template is not None:
        template: dict[str, Any] = {
            "name": request.template.name,
            "language": {"code": request.template.language},
        }
        if request.template.parameters:
            template["components"] = [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": p} for p in request.template.parameters
                    ],
                }
            ]
        body["type"], body["template"] = "template", template
    else:
        body["type"] = "text"
        body["text"] = {
            "body": request.text,
            "preview_url": bool(channel.settings.get("preview_url", False)),
        }
    # The worker names the customer's latest message as ``reply_to_external_id`` for every
    # conversation; on WhatsApp a context turns each answer into a quoted bubble, which only
    # some teams want (channel setting ``quote_replies``).
    if channel.settings.get("quote_replies") and request.reply_to_external_id:
        body["context"] = {"message_id": request.reply_to_external_id}
    body["biz_opaque_callback_data"] = f"bandeja:{request.idempotency_key}"
    return body


async def send(
    client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
) -> SendResult:
    token = channel.secrets.get("access_token", "")
    if not token:
        raise SendError(
            "no_access_token", "this WhatsApp channel has no access token; add one in its settings"
        )
    base = channel.api_base_url(meta.GRAPH_API)
    response = await client.post(
        f"{base}/{quote(channel.external_id, safe='')}/messages",
        json=payload(channel, request),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": request.idempotency_key},
    )
    if not response.is_success:
        raise send_error(response)
    try:
        answer = response.json()
        message_id = answer["messages"][0]["id"]
        contacts = answer.get("contacts") or [{}]
        recipient = contacts[0].get("wa_id")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        # Accepted (2xx) but not in the shape we know: WhatsApp may well deliver it.
        raise SendError(
            "unexpected_answer",
            f"WhatsApp accepted the request but answered {response.text[:200]!r}",
            ambiguous=True,
        ) from None
    if not isinstance(message_id, str) or not message_id:
        raise SendError(
            "unexpected_answer", "WhatsApp answered without a message id", ambiguous=True
        )
    return SendResult(
        external_id=message_id, recipient_id=recipient if isinstance(recipient, str) else None
    )


def send_error(response: httpx.Response) -> SendError:
    """A Graph error answer as a SendError, retryable by WhatsApp's own codes."""
    error = _error_body(response)
    if not error:
        # Not a Graph error body (a proxy's HTML page, a JSON array…): the HTTP status decides.
        # (meta.graph_error expects a JSON object and would raise AttributeError on an array.)
        return send_error_from_response(response)
    base = meta.graph_error(response)
    code = error.get("code")
    retryable = base.retryable
    if code in RETRYABLE_CODES:
        retryable = True
    elif code in FINAL_CODES:
        retryable = False
    message = base.message
    details = string(obj(error.get("error_data")).get("details"))
    if details and details not in message:
        message = f"{message}: {details}"
    return SendError(base.code, message, retryable=retryable, retry_after=base.retry_after)


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return obj(obj(body).get("error"))
