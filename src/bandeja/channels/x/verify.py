"""X's webhook authenticity: the CRC handshake and the signature of every delivery.

Both use the app's consumer secret (API key secret), stored as the channel account's
``signing_secret``, and both are ``base64(HMAC-SHA256(consumer secret, message))``:
  - CRC: X sends ``GET <webhook>?crc_token=...`` when the webhook is registered and about every
    hour after; we answer ``{"response_token": "sha256=<base64 HMAC of the crc_token>"}``. A
    webhook that stops answering is marked invalid by X and receives nothing.
  - Deliveries carry ``x-twitter-webhooks-signature: sha256=<base64 HMAC of the raw body>``.
The Account Activity API and the X Activity API (XAA) sign the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from bandeja.channels.base import ChannelConfig, HandshakeReply, WebhookRejected, header, same

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
PREFIX = "sha256="


def sign(secret: str, message: bytes) -> str:
    """``sha256=<base64 HMAC-SHA256(secret, message)>``: X's signature of a body or CRC token."""
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return PREFIX + base64.b64encode(digest).decode()


def crc(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    token = query.get("crc_token")
    if not token:
        return HandshakeReply(
            400, json.dumps({"error": "crc_token is required"}), "application/json"
        )
    if not channel.signing_secret:
        return HandshakeReply(
            403, json.dumps({"error": "no consumer secret configured"}), "application/json"
        )
    body = json.dumps({"response_token": sign(channel.signing_secret, token.encode())})
    return HandshakeReply(200, body, "application/json")


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    sent = header(headers, SIGNATURE_HEADER)
    if not sent:
        raise WebhookRejected(401, "missing x-twitter-webhooks-signature")
    if not channel.signing_secret:
        raise WebhookRejected(403, "no consumer secret configured for this channel account")
    sent = sent.strip()
    # The prefix is case-insensitive; base64 is not, so only the prefix is normalised.
    if sent[: len(PREFIX)].lower() == PREFIX:
        sent = PREFIX + sent[len(PREFIX) :]
    if not same(sent, sign(channel.signing_secret, body)):
        raise WebhookRejected(401, "bad signature")
