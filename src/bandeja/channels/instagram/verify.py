"""Instagram webhooks are Meta webhooks: the ``hub.challenge`` subscription check and
``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the Meta app secret)."""

from __future__ import annotations

from collections.abc import Mapping

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig, HandshakeReply


def handshake(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    return meta.handshake(channel, query)


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    """Raises ``WebhookRejected`` unless the body was signed with this channel's app secret."""
    meta.verify(channel, headers, body)
