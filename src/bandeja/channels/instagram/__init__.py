"""Instagram: DMs, comments on the account's media, and @mentions of the account.

A channel account is one Instagram professional account; its ``external_id`` is the IG user id
(``entry[].id`` in webhooks). Secrets: ``signing_secret`` (the Meta app secret),
``verify_token``, ``access_token``. Settings: ``human_agent_enabled``, ``fetch_profiles``
(default on), ``ignore_live_comments``, ``api_base_url``. See ``docs/channels/instagram.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from bandeja.channels import meta
from bandeja.channels.base import (
    ChannelConfig,
    Connector,
    HandshakeReply,
    SendRequest,
    SendResult,
)
from bandeja.channels.instagram import expand, parse, rules, send, verify
from bandeja.channels.registry import register
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class InstagramConnector(Connector):
    platform = Platform.instagram
    default_api_base_url = meta.GRAPH_API

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
        return verify.handshake(channel, query)

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        verify.verify(channel, headers, body)

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        return parse.parse(channel, body)

    def accounts_in(self, body: bytes) -> set[str]:
        # A Meta app posts every subscribed account's events to one callback URL.
        return meta.entry_accounts(body)

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


CONNECTOR = register(InstagramConnector())
