"""LinkedIn: one channel account is one organization Page (Community Management API).

``external_id`` is the organization id (``2414183`` or ``urn:li:organization:2414183``),
``signing_secret`` the app's client secret, ``access_token`` a token of a Page admin with
``rw_organization_admin`` and the social read/write permissions. See ``docs/channels/linkedin.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import httpx

from bandeja.channels.base import (
    ChannelConfig,
    Connector,
    HandshakeReply,
    SendRequest,
    SendResult,
)
from bandeja.channels.linkedin import expand, parse, rules, send, verify
from bandeja.channels.linkedin.api import REST_API
from bandeja.channels.registry import register
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class LinkedInConnector(Connector):
    platform: ClassVar[Platform] = Platform.linkedin
    default_api_base_url: ClassVar[str] = REST_API

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
        return verify.handshake(channel, query)

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        verify.verify(channel, headers, body)

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        return parse.parse(channel, body)

    async def expand(
        self, client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
    ) -> list[PlatformEvent]:
        return await expand.expand(client, channel, events)

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        return rules.check_reply(context)

    async def send(
        self, client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
    ) -> SendResult:
        return await send.send(client, channel, request)


CONNECTOR = register(LinkedInConnector())
