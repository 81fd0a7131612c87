"""Telegram: one channel account is one bot (Bot API webhooks, ``sendMessage``).

``external_id`` is the bot's numeric id, ``access_token`` its token, ``signing_secret`` the
``secret_token`` given to ``setWebhook``. See ``docs/channels/telegram.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import httpx

from bandeja.channels.base import ChannelConfig, Connector, SendRequest, SendResult
from bandeja.channels.registry import register
from bandeja.channels.telegram import parse, rules, send, verify
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class TelegramConnector(Connector):
    platform: ClassVar[Platform] = Platform.telegram
    default_api_base_url: ClassVar[str] = send.BOT_API

    # No handshake: Telegram has none (``setWebhook`` is called by the bot owner), so a GET on
    # the webhook URL is answered 405 by the route.

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        verify.verify(channel, headers, body)

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        return parse.parse(channel, body)

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        return rules.check_reply(context)

    async def send(
        self, client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
    ) -> SendResult:
        return await send.send(client, channel, request)


CONNECTOR = register(TelegramConnector())
