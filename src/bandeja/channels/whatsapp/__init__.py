"""WhatsApp Cloud API: one channel account per WhatsApp business phone number.

``external_id`` is the phone-number id (``value.metadata.phone_number_id`` in webhooks, the path
of the send API). Webhooks are Meta's (``X-Hub-Signature-256``, ``hub.challenge``); replies go
through ``POST /{phone-number-id}/messages``. See ``docs/channels/whatsapp.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bandeja.channels import meta
from bandeja.channels.base import (
    ChannelConfig,
    Connector,
    HandshakeReply,
    SendRequest,
    SendResult,
)
from bandeja.channels.registry import register
from bandeja.channels.whatsapp import parse, rules, send, verify
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class WhatsAppConnector(Connector):
    platform = Platform.whatsapp
    default_api_base_url = meta.GRAPH_API

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
        return verify.handshake(channel, query)

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        verify.verify(channel, headers, body)

    def accounts_in(self, body: bytes) -> set[str]:
        return meta.entry_accounts(body)

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        return parse.parse(channel, body)

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        return rules.check_reply(context)

    async def send(
        self, client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
    ) -> SendResult:
        return await send.send(client, channel, request)


CONNECTOR = register(WhatsAppConnector())
