"""Webhooks: ``/webhooks/<platform>/<channel-account-id>``.

Hostile until proven otherwise: the signature is checked on the raw body, in constant time,
before anything else. A verified delivery is stored (one insert) before the platform gets its 2xx;
the ingest worker does the rest. Platforms retry for hours on a non-2xx and Meta unsubscribes an
endpoint that keeps failing, so this path stays small and fast.

It is served by :class:`Webhooks`, a plain ASGI endpoint that the application calls before any of
FastAPI's layers (telemetry, body limits, middleware, routing): the webhook path needs none of
them, and they cost several times what verifying and storing a delivery does. Errors have the
API's shape, ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers, QueryParams, State
from starlette.types import Receive, Scope, Send

from bandeja.channels.base import ChannelConfig, WebhookRejected
from bandeja.channels.config import channel_config
from bandeja.channels.registry import connector_for
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.ingest.actions import count_ignored
from bandeja.core.ingest.recorder import Delivery, Recorder
from bandeja.core.security import SecretBox
from bandeja.web.errors import error_body

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # platforms send kilobytes; anything bigger is not theirs
CACHE_TTL_S = 30.0
PREFIX = "/webhooks/"
_PATH = re.compile(r"/webhooks/([a-z]+)/([0-9]{1,18})")


@dataclass
class _Cached:
    config: ChannelConfig
    expires: float


class ChannelCache:
    """Channel accounts with decrypted secrets, kept briefly: a webhook should not pay a query
    and a decryption before it even knows the signature is right.

    At a thousand deliveries a second, an entry that expires would send every request of the
    next few milliseconds to the database at once. So concurrent misses share one read, and an
    expired entry keeps answering while one read in the background refreshes it.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self.sessions = sessions
        self.box = box
        self._entries: dict[int, _Cached] = {}
        self._reads: dict[int, asyncio.Task[ChannelConfig | None]] = {}
        # Bumped by ``forget``: a read that started before a change does not store what it read.
        self._generation: dict[int, int] = {}

    async def get(self, channel_id: int) -> ChannelConfig | None:
        cached = self._entries.get(channel_id)
        if cached is not None:
            if cached.expires <= time.monotonic():
                self._read(channel_id)
            return cached.config
        return await asyncio.shield(self._read(channel_id))

    def _read(self, channel_id: int) -> asyncio.Task[ChannelConfig | None]:
        task = self._reads.get(channel_id)
        if task is None:
            task = self._reads[channel_id] = asyncio.create_task(self._load(channel_id))
            task.add_done_callback(lambda done: self._read_done(channel_id, done))
        return task

    def _read_done(self, channel_id: int, task: asyncio.Task[ChannelConfig | None]) -> None:
        if self._reads.get(channel_id) is task:
            del self._reads[channel_id]
        if not task.cancelled() and task.exception() is not None:
            # A miss waiting on it gets the error too; a refresh keeps the entry it had.
            log.warning("channel account %s cannot be read", channel_id, exc_info=task.exception())

    async def _load(self, channel_id: int) -> ChannelConfig | None:
        generation = self._generation.get(channel_id, 0)
        async with self.sessions() as session:
            channel = await session.get(ChannelAccount, channel_id)
            config = channel_config(channel, self.box) if channel else None
        if generation != self._generation.get(channel_id, 0):
            return config
        if config is None:
            self._entries.pop(channel_id, None)
        else:
            self._entries[channel_id] = _Cached(config, time.monotonic() + CACHE_TTL_S)
        return config

    def forget(self, channel_id: int) -> None:
        """The account changed or is gone: the next delivery reads it again."""
        self._entries.pop(channel_id, None)
        self._reads.pop(channel_id, None)
        self._generation[channel_id] = self._generation.get(channel_id, 0) + 1


class Webhooks:
    """The ASGI endpoint of every request under ``/webhooks/`` (see ``app.Bandeja``).

    ``state`` is the application's: ``channel_cache``, ``recorder`` (how a delivery is stored),
    ``sessions`` (to count rejected deliveries) and ``workers`` (woken when one is stored).
    """

    def __init__(self, state: State) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, media_type = await self._answer(scope, receive)
        except _ClientGone:
            return
        except Exception:
            # Outside FastAPI's error handlers: the same answer they give (errors.py).
            log.exception("webhook %s %s failed", scope["method"], scope["path"])
            status, body, media_type = _error(500, "internal", "internal error; it has been logged")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, bytes, str]:
        matched = _PATH.fullmatch(scope["path"])
        platform = _platform(matched.group(1)) if matched else None
        if matched is None or platform is None:
            return _error(404, "not_found", "unknown webhook")
        cache: ChannelCache = self.state.channel_cache
        try:
            config = await cache.get(int(matched.group(2)))
        except Exception:
            # The database cannot be read (restarting, unreachable): the platform sends it again.
            log.exception("channel account of %s cannot be read", scope["path"])
            return _error(503, "unavailable", "the delivery cannot be taken now; send it again")
        if config is None or config.platform is not platform:
            return _error(404, "not_found", "unknown webhook")
        if scope["method"] == "GET":
            reply = connector_for(platform).handshake(config, QueryParams(scope["query_string"]))
            if reply is None:
                return _error(405, "method_not_allowed", "no handshake on this platform")
            return reply.status, reply.body.encode(), _text(reply.media_type)
        if scope["method"] != "POST":
            return _error(405, "method_not_allowed", "webhooks take GET (handshake) or POST")
        headers = Headers(scope=scope)
        body = await _read_body(headers, receive)
        if body is None:
            return _error(413, "too_large", f"a delivery is at most {MAX_BODY} bytes")
        return await self._deliver(config, headers, body)

    async def _deliver(
        self, config: ChannelConfig, headers: Headers, body: bytes
    ) -> tuple[int, bytes, str]:
        try:
            connector_for(config.platform).verify(config, headers, body)
        except WebhookRejected as exc:
            # Counted, never stored: an unsigned body is not evidence of anything.
            sessions: async_sessionmaker[AsyncSession] = self.state.sessions
            async with sessions() as session:
                await count_ignored(session, config.id, f"rejected:{exc.reason}")
                await session.commit()
            code = "unauthenticated" if exc.status == 401 else "permission_denied"
            return _error(exc.status, code, exc.reason)
        recorder: Recorder = self.state.recorder
        delivery = Delivery(
            workspace_id=config.workspace_id,
            channel_account_id=config.id,
            platform=config.platform.value,
            body=body,
            headers=headers,
        )
        try:
            stored = await recorder.record(delivery)
        except Exception:
            # Not stored, so not acknowledged: the platform sends it again later.
            log.exception("a verified delivery for channel account %s cannot be stored", config.id)
            return _error(503, "unavailable", "the delivery cannot be stored now; send it again")
        workers = getattr(self.state, "workers", None)
        if stored is not None and workers is not None:
            workers.ingest.wake.set()
        return 200, b"ok", _text("text/plain")


class _ClientGone(Exception):
    """The platform closed the connection before sending the whole body."""


def _platform(name: str) -> Platform | None:
    try:
        return Platform(name)
    except ValueError:
        return None


async def _read_body(headers: Headers, receive: Receive) -> bytes | None:
    """The request body; None when it is bigger than ``MAX_BODY`` (stops reading there)."""
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _text(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def _error(status: int, code: str, message: str) -> tuple[int, bytes, str]:
    return status, json.dumps(error_body(code, message)).encode(), "application/json"
