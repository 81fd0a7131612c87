"""WhatsApp webhooks are signed like every Meta webhook: the ``hub.challenge`` handshake with the
verify token, and ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret)."""

from __future__ import annotations

from collections.abc import Mapping

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig, HandshakeReply


def handshake(channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
    """Meta's subscription check, answered when ``hub.verify_token`` is this channel's."""
    return meta.handshake(channel, query)


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``WebhookRejected`` unless the body is signed with this channel's app secret.

    The HMAC covers the exact bytes Meta sent (it escapes non-ASCII as ``\\uXXXX``): never
    re-serialise a body before checking it.
    """
    meta.verify(channel, headers, body)
