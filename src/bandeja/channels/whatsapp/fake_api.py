"""The sandbox's WhatsApp Cloud API send endpoint: ``POST /{phone-number-id}/messages``.

It answers as the Cloud API does, success and errors in Graph's shape: the token (190), the
number (100, subcode 33), the body (100; text over 4,096 characters), throughput (130429) and
pair rate (131056), a recipient who cannot receive messages (131026) and the 24-hour window
(131047). The last two are refused in the answer, where the Cloud API often accepts the request
and reports a ``failed`` status later: the sandbox's agents see why at once, and the parser
handles both ways. Templates are accepted anywhere. The same ``Idempotency-Key`` gets the same
answer and sends nothing new.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from starlette.responses import JSONResponse

from bandeja.channels.sandbox.contract import SandboxApi, SentRecord
from bandeja.core.channels.models import Platform

TEXT_LIMIT = 4096
WINDOW = timedelta(hours=24)
# Cloud API throughput: 80 messages per second per number by default; and a burst of about 45
# messages to the same person within 6 seconds ("pair rate limit").
THROUGHPUT_PER_S = 80
PAIR_BURST, PAIR_WINDOW_S = 45, 6.0
# What WhatsApp says in a failed status for the codes the sandbox simulates.
ERROR_TITLES = {
    "131047": (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have "
        "passed since the customer last replied to this number.",
    ),
    "131026": (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the "
        "recipient phone number is not a WhatsApp phone number.",
    ),
    "131050": (
        "Unable to deliver the message. This recipient has chosen to stop receiving "
        "marketing messages on WhatsApp from your business",
        "Marketing messages stopped",
    ),
}


class SendApi:
    """``POST /{phone-number-id}/messages`` as the Cloud API answers it."""

    def __init__(self, api: SandboxApi) -> None:
        self.api = api

    def answer(self, phone_number_id: str, headers: Any, raw: bytes) -> JSONResponse:
        auth = str(headers.get("authorization") or "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        channel = self.api.channel_by_token(Platform.whatsapp, token) if token else None
        if channel is None:
            return _error(
                401,
                190,
                "Invalid OAuth access token - Cannot parse access token",
                kind="OAuthException",
            )
        if channel.external_id != phone_number_id:
            return _error(
                400,
                100,
                f"Unsupported post request. Object with ID "
                f"'{phone_number_id}' does not exist, cannot be loaded due to missing "
                "permissions, or does not support this operation.",
                subcode=33,
                kind="GraphMethodException",
            )
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, 100, "(#100) Invalid parameter")
        key = headers.get("idempotency-key")
        earlier = self.api.replay(key)
        if earlier is not None:
            return _success(earlier)
        failure = self.api.injected_failure(Platform.whatsapp)
        if failure is not None:
            status, failure_body, failure_headers = failure
            return JSONResponse(failure_body, status_code=status, headers=failure_headers)
        checked = _check(body)
        if isinstance(checked, JSONResponse):
            return checked
        to, text = checked
        if self.api.rate_limited(f"whatsapp:{channel.external_id}", THROUGHPUT_PER_S, 1.0):
            return _error(
                400,
                130429,
                "(#130429) Rate limit hit",
                details="Cloud API message throughput has been reached.",
            )
        if self.api.rate_limited(f"whatsapp:{channel.external_id}:{to}", PAIR_BURST, PAIR_WINDOW_S):
            return _error(
                400,
                131056,
                "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                details="Message failed to send because there were "
                "too many messages sent from this phone number to the same phone "
                "number in a short period of time.",
            )
        person = self.api.person(Platform.whatsapp, to)
        if person is not None and not person.accepts_dms:
            title, details = ERROR_TITLES["131026"]
            return _error(400, 131026, f"(#131026) {title}", details=details)
        if body["type"] == "text":
            last = self.api.last_inbound_at(channel, to)
            if last is None or self.api.now() - last > WINDOW:
                title, details = ERROR_TITLES["131047"]
                return _error(400, 131047, f"(#131047) {title}", details=details)
        return _success(self.api.record_send(channel, to, text, body, key))


def _check(body: dict[str, Any]) -> tuple[str, str] | JSONResponse:
    """(recipient, text for the record) of a valid request, or the Cloud API's error."""
    if body.get("messaging_product") != "whatsapp":
        return _error(400, 100, "(#100) The parameter messaging_product is required.")
    to = body.get("to")
    if not isinstance(to, str) or not to.strip():
        return _error(400, 100, "(#100) The parameter to is required.")
    kind = body.get("type", "text")
    if kind == "text":
        text = body.get("text")
        words = text.get("body") if isinstance(text, dict) else None
        if not isinstance(words, str) or not words:
            return _error(400, 100, "(#100) The parameter text['body'] is required.")
        if len(words) > TEXT_LIMIT:
            return _error(
                400, 100, f"(#100) Param text['body'] must be at most {TEXT_LIMIT} characters long."
            )
        return to, words
    if kind == "template":
        template = body.get("template")
        name = template.get("name") if isinstance(template, dict) else None
        language = template.get("language") if isinstance(template, dict) else None
        if not isinstance(name, str) or not name:
            return _error(400, 100, "(#100) The parameter template['name'] is required.")
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            return _error(400, 100, "(#100) The parameter template['language'] is required.")
        assert isinstance(template, dict)
        words = [
            str(p.get("text", ""))
            for c in template.get("components") or []
            if isinstance(c, dict)
            for p in c.get("parameters") or []
            if isinstance(p, dict)
        ]
        return to, f"[template {name}]" + (" " + " | ".join(words) if words else "")
    return _error(
        400,
        100,
        f"(#100) Param type must be one of the supported types "
        f"(the sandbox sends text and template; got {str(kind)[:30]!r})",
    )


def _success(record: SentRecord) -> JSONResponse:
    answer: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": record.recipient_id, "wa_id": record.recipient_id}],
        "messages": [{"id": record.message_id}],
    }
    if record.payload.get("type") == "template":
        answer["messages"][0]["message_status"] = "accepted"
    return JSONResponse(answer)


def _error(
    status: int,
    code: int,
    message: str,
    *,
    kind: str = "OAuthException",
    subcode: int | None = None,
    details: str | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = secrets.token_urlsafe(12)
    return JSONResponse({"error": error}, status_code=status)
