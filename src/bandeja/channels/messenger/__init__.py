"""Facebook Messenger and Facebook Page comments: one channel account per Facebook Page.

``external_id`` is the Page id (``entry[].id`` in webhooks, the path of the Send API). Webhooks
are Meta's (``object: "page"``, ``X-Hub-Signature-256``, ``hub.challenge``): Messenger events in
``entry[].messaging[]``, Page comments in ``entry[].changes[]`` with ``field: "feed"``. Replies go
through ``POST /{page-id}/messages`` (DMs and private replies) and ``POST /{comment-id}/comments``
(public comment replies). See ``docs/channels/messenger.md``.
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
from bandeja.channels.messenger import parse, profiles, rules, send, verify
from bandeja.channels.registry import register
from bandeja.core.channels.models import Platform
from bandeja.core.ingest.types import PlatformEvent
from bandeja.core.outbox.types import ReplyContext, RuleViolation


class MessengerConnector(Connector):
    platform = Platform.messenger
    default_api_base_url = meta.GRAPH_API

    def handshake(self, channel: ChannelConfig, query: Mapping[str, str]) -> HandshakeReply:
        return verify.handshake(channel, query)

    def verify(self, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> None:
        verify.verify(channel, headers, body)

    def accounts_in(self, body: bytes) -> set[str]:
        return meta.entry_accounts(body)

    def parse(self, channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
        return parse.parse(channel, body)

    async def expand(
        self, client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
    ) -> list[PlatformEvent]:
        return await profiles.expand(client, channel, events)

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        return rules.check_reply(context)

    async def send(
        self, client: httpx.AsyncClient, channel: ChannelConfig, request: SendRequest
    ) -> SendResult:
        return await send.send(client, channel, request)


CONNECTOR = register(MessengerConnector())
