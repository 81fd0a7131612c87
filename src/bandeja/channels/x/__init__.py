"""X (formerly Twitter): direct messages and mentions of one X account.

A channel account is one X account: ``external_id`` is its user id; ``signing_secret`` is the
app's consumer secret (it signs the CRC and every delivery); ``access_token`` is the account's
OAuth 2.0 user token (scopes ``dm.read dm.write tweet.read tweet.write users.read
offline.access``). Webhooks in both the Account Activity API and the X Activity API formats
arrive on the same URL. Setup and threading: docs/channels/x.md.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bandeja.channels.base import (
    ChannelConfig,
    Connector,
    HandshakeReply,
    SendRequest,
    SendResult,
)
from bandeja.channels.registry import register
from bandeja.channels.x import parse, rules, send, verify
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class XConnector(Connector):
    platform = Platform.x
    default_api_base_url = send.DEFAULT_API_BASE_URL

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
        return verify.crc(channel, query)

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


CONNECTOR = register(XConnector())
