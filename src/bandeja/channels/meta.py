"""What Messenger, Instagram and WhatsApp share: Meta's webhook handshake and signature, and the
Graph API error shape."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from bandeja.channels.base import (
    ChannelConfig,
    HandshakeReply,
    SendError,
    WebhookRejected,
    header,
    hmac_sha256_hex,
    same,
)

GRAPH_API = "https://graph.facebook.com/v23.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"

# Rate limits and temporary outages: retry later.
_TRANSIENT = {1, 2, 4, 17, 32, 341, 613, 80006, 130429, 131048, 131056, 133004}


def entry_accounts(body: bytes) -> set[str]:
    """The accounts a Meta delivery is about: ``entry[].id`` (Pages, Instagram accounts) and
    ``changes[].value.metadata.phone_number_id`` (WhatsApp numbers)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return set()
    entries = payload.get("entry") if isinstance(payload, dict) else None
    found: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("id") is not None:
            found.add(str(entry["id"]))
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and metadata.get("phone_number_id"):
                found.add(str(metadata["phone_number_id"]))
    return found


def handshake(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    """Meta's subscription check: echo ``hub.challenge`` if ``hub.verify_token`` is ours."""
    expected = channel.secrets.get("verify_token", "")
    if (
        query.get("hub.mode") == "subscribe"
        and expected
        and same(query.get("hub.verify_token", ""), expected)
    ):
        return HandshakeReply(200, query.get("hub.challenge", ""))
    return HandshakeReply(403, "verify token mismatch")


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``."""
    sent = header(headers, SIGNATURE_HEADER)
    if not sent:
        raise WebhookRejected(401, "missing X-Hub-Signature-256")
    if not channel.signing_secret:
        raise WebhookRejected(403, "no app secret configured for this channel account")
    expected = "sha256=" + hmac_sha256_hex(channel.signing_secret, body)
    if not same(sent.strip().lower(), expected):
        raise WebhookRejected(401, "bad signature")


def graph_error(response: httpx.Response) -> SendError:
    """Turn a Graph API error answer into a SendError that keeps Meta's code and message."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or response.text[:300] or response.reason_phrase)
    label = f"{code}" + (f".{subcode}" if subcode else "") if code is not None else None
    retry_after: float | None = None
    if response.headers.get("retry-after"):
        try:
            retry_after = float(response.headers["retry-after"])
        except ValueError:
            retry_after = None
    transient = response.status_code == 429 or response.status_code >= 500 or code in _TRANSIENT
    return SendError(
        label or f"http_{response.status_code}",
        message,
        retryable=transient,
        retry_after=retry_after,
    )
