"""Who is viewing or typing in which conversation. An entry lives ``ttl`` seconds after the
browser's last heartbeat; a change of state (and an expiry) is an event on the stream.

``MemoryPresence`` serves one process; ``RedisPresence`` keeps the entries in Redis, so that
every process sees the same people, and expires them atomically so that exactly one process
announces that someone left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from bandeja.realtime.schemas import PresenceChanged, PresenceState

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    workspace_id: int
    channel_account_id: int
    conversation_id: int
    user_id: int
    name: str
    state: PresenceState
    expires_at: float  # wall clock (time.time()), shared by the processes of a deployment

    @property
    def member(self) -> str:
        return f"{self.conversation_id}:{self.user_id}"

    def event(self, state: PresenceState | None) -> PresenceChanged:
        return PresenceChanged(
            workspace_id=self.workspace_id,
            channel_account_id=self.channel_account_id,
            actor_user_id=self.user_id,
            conversation_id=self.conversation_id,
            user_id=self.user_id,
            name=self.name,
            state=state,
        )


class PresenceStore(Protocol):
    ttl: float

    async def beat(self, entry: PresenceEntry) -> PresenceState | None:
        """Store or refresh ``entry``; returns the state it had before (None: absent)."""

    async def leave(
        self, workspace_id: int, conversation_id: int, user_id: int
    ) -> PresenceEntry | None:
        """Remove an entry now (the browser closed the conversation); returns it if it existed."""

    async def entries(
        self, workspace_id: int, conversation_ids: Iterable[int] | None = None
    ) -> list[PresenceEntry]: ...

    async def expire(self, now: float) -> list[PresenceEntry]:
        """Remove and return the entries past their time (each returned by one process only)."""

    async def close(self) -> None: ...


class MemoryPresence:
    def __init__(self, ttl: float = 20.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[int, int, int], PresenceEntry] = {}

    async def beat(self, entry: PresenceEntry) -> PresenceState | None:
        key = (entry.workspace_id, entry.conversation_id, entry.user_id)
        old = self._entries.get(key)
        self._entries[key] = entry
        return old.state if old else None

    async def leave(
        self, workspace_id: int, conversation_id: int, user_id: int
    ) -> PresenceEntry | None:
        return self._entries.pop((workspace_id, conversation_id, user_id), None)

    async def entries(
        self, workspace_id: int, conversation_ids: Iterable[int] | None = None
    ) -> list[PresenceEntry]:
        wanted = set(conversation_ids) if conversation_ids is not None else None
        now = time.time()
        return [
            e
            for (ws, conv, _), e in self._entries.items()
            if ws == workspace_id and (wanted is None or conv in wanted) and e.expires_at > now
        ]

    async def expire(self, now: float) -> list[PresenceEntry]:
        gone = [k for k, e in self._entries.items() if e.expires_at <= now]
        return [self._entries.pop(k) for k in gone]

    async def close(self) -> None:
        self._entries.clear()


# KEYS: the workspace's hash (member -> entry JSON) and sorted set (member -> expiry).
_BEAT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return old
"""
_LEAVE = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return old
"""
_EXPIRE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 500)
local out = {}
for _, member in ipairs(due) do
  local value = redis.call('HGET', KEYS[1], member)
  redis.call('ZREM', KEYS[2], member)
  redis.call('HDEL', KEYS[1], member)
  if value then table.insert(out, value) end
end
return out
"""


class RedisPresence:
    """Per workspace a hash of entries and a sorted set of expiry times. The scripts run
    atomically in Redis: of two processes sweeping at once, one gets each expired entry. Both
    keys also carry a TTL so that a workspace nobody looks at leaves nothing behind."""

    def __init__(self, url: str, ttl: float = 20.0, *, prefix: str = "bandeja") -> None:
        self.ttl = ttl
        self.prefix = prefix
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self._beat = self.redis.register_script(_BEAT)
        self._leave = self.redis.register_script(_LEAVE)
        self._expire = self.redis.register_script(_EXPIRE)

    def _keys(self, workspace_id: int) -> list[str]:
        base = f"{self.prefix}:presence:{workspace_id}"
        return [base, f"{base}:expiry", f"{self.prefix}:presence:workspaces"]

    @staticmethod
    def _decode(value: str | None) -> PresenceEntry | None:
        if not value:
            return None
        return PresenceEntry(**json.loads(value))

    async def beat(self, entry: PresenceEntry) -> PresenceState | None:
        old = await self._beat(
            keys=self._keys(entry.workspace_id),
            args=[
                entry.member,
                json.dumps(asdict(entry)),
                entry.expires_at,
                entry.workspace_id,
                int(self.ttl * 3) + 60,
            ],
        )
        previous = self._decode(old)
        return previous.state if previous else None

    async def leave(
        self, workspace_id: int, conversation_id: int, user_id: int
    ) -> PresenceEntry | None:
        old = await self._leave(
            keys=self._keys(workspace_id)[:2], args=[f"{conversation_id}:{user_id}"]
        )
        return self._decode(old)

    async def entries(
        self, workspace_id: int, conversation_ids: Iterable[int] | None = None
    ) -> list[PresenceEntry]:
        key = self._keys(workspace_id)[0]
        now = time.time()
        values: list[Any]
        if conversation_ids is None:
            values = list((await self.redis.hgetall(key)).values())
        else:
            wanted = {str(c) for c in conversation_ids}
            members: list[Any] = await self.redis.hkeys(key)
            chosen = [m for m in members if str(m).split(":", 1)[0] in wanted]
            values = list(await self.redis.hmget(key, chosen)) if chosen else []
        out = [self._decode(v) for v in values]
        return [e for e in out if e is not None and e.expires_at > now]

    async def expire(self, now: float) -> list[PresenceEntry]:
        gone: list[PresenceEntry] = []
        workspaces = await self.redis.smembers(self._keys(0)[2])
        for workspace in workspaces:
            keys = self._keys(int(workspace))[:2]
            values = await self._expire(keys=keys, args=[now])
            gone.extend(e for e in map(self._decode, values) if e is not None)
            if not await self.redis.exists(keys[0]):
                await self.redis.srem(self._keys(0)[2], workspace)
        return gone

    async def close(self) -> None:
        await self.redis.aclose()


class PresenceService:
    """Heartbeats in, ``presence.changed`` events out (through ``publish``: the hub)."""

    def __init__(
        self, store: PresenceStore, publish: Callable[[int, list[dict[str, Any]]], None]
    ) -> None:
        self.store = store
        self.publish = publish
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def ttl(self) -> float:
        return self.store.ttl

    async def report(
        self,
        *,
        workspace_id: int,
        channel_account_id: int,
        conversation_id: int,
        user_id: int,
        name: str,
        state: PresenceState | None,
    ) -> None:
        """A browser's heartbeat; ``state`` None: it left the conversation."""
        if state is None:
            left = await self.store.leave(workspace_id, conversation_id, user_id)
            if left is not None:
                self._announce(left, None)
            return
        entry = PresenceEntry(
            workspace_id,
            channel_account_id,
            conversation_id,
            user_id,
            name,
            state,
            time.time() + self.store.ttl,
        )
        # Heartbeats repeat every few seconds; only a change of state is news.
        if await self.store.beat(entry) != state:
            self._announce(entry, state)

    def _announce(self, entry: PresenceEntry, state: PresenceState | None) -> None:
        self.publish(entry.workspace_id, [entry.event(state).model_dump(mode="json")])

    async def sweep(self, now: float | None = None) -> int:
        gone = await self.store.expire(time.time() if now is None else now)
        for entry in gone:
            self._announce(entry, None)
        return len(gone)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await self.sweep()
            except Exception:  # Redis away for a moment: the next sweep catches up
                log.exception("presence sweep failed")

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="presence-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.store.close()
