"""Telegram's webhook authenticity: the ``secret_token`` set with ``setWebhook`` comes back in the
``X-Telegram-Bot-Api-Secret-Token`` header of every update. There is no body signature and no
handshake, so the secret is the only proof: compared in constant time."""

from __future__ import annotations

from collections.abc import Mapping

from bandeja.channels.base import ChannelConfig, WebhookRejected, header, same

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
    sent = header(headers, SECRET_HEADER)
    if not sent:
        raise WebhookRejected(401, "missing X-Telegram-Bot-Api-Secret-Token")
    if not channel.signing_secret:
        raise WebhookRejected(403, "no secret_token configured for this channel account")
    if not same(sent, channel.signing_secret):
        raise WebhookRejected(401, "bad secret token")
