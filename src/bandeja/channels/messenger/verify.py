"""Webhook authenticity for a Facebook Page: Meta's ``hub.challenge`` handshake and
``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret), both in
``channels/meta.py``, shared with Instagram and WhatsApp."""

from __future__ import annotations

from collections.abc import Mapping

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig, HandshakeReply


def handshake(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    """``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``: echo the challenge."""
    return meta.handshake(channel, query)


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``WebhookRejected`` unless the body carries a valid app-secret signature."""
    meta.verify(channel, headers, body)
