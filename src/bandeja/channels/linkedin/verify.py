"""LinkedIn's webhook authenticity (learn.microsoft.com …/shared/api-guide/webhook-validation).

- Validation (GET): LinkedIn sends ``?challengeCode=<uuid>`` (and ``applicationId`` for
  parent-child apps) when the webhook is registered and every 2 hours after; the answer is JSON
  ``{"challengeCode": …, "challengeResponse": hex(HMAC-SHA256(clientSecret, challengeCode))}``
  within 3 seconds. Three failures in a row block the webhook.
- Every POST carries ``X-LI-Signature``: the HMAC-SHA256, keyed with the app's client secret, of
  the raw body prefixed by ``hmacsha256=`` (the documented string to sign), in lowercase hex. The
  header holds the digest; a header that repeats the ``hmacsha256=`` prefix is accepted too,
  since integrations read the documentation both ways. Nothing else is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bandeja.channels.base import (
    ChannelConfig,
    HandshakeReply,
    WebhookRejected,
    header,
    hmac_sha256_hex,
    same,
)

SIGNATURE_HEADER = "X-LI-Signature"
SIGNED_PREFIX = b"hmacsha256="


def signature(secret: str, body: bytes) -> str:
    return hmac_sha256_hex(secret, SIGNED_PREFIX + body)


def handshake(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    code = query.get("challengeCode", "")
    if not code:
        return HandshakeReply(
            400, json.dumps({"error": "challengeCode is missing"}), "application/json"
        )
    if not channel.signing_secret:
        return HandshakeReply(
            403, json.dumps({"error": "no client secret configured"}), "application/json"
        )
    answer = {
        "challengeCode": code,
        "challengeResponse": hmac_sha256_hex(channel.signing_secret, code.encode()),
    }
    return HandshakeReply(200, json.dumps(answer), "application/json")


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    sent = header(headers, SIGNATURE_HEADER)
    if not sent:
        raise WebhookRejected(401, "missing X-LI-Signature")
    if not channel.signing_secret:
        raise WebhookRejected(403, "no client secret configured for this channel account")
    digest = sent.strip().lower().removeprefix("hmacsha256=")
    if not same(digest, signature(channel.signing_secret, body)):
        raise WebhookRejected(401, "bad signature")
