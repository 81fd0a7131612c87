"""The realtime service of a process, built from the settings: in-process without
``BANDEJA_REDIS_URL``, over Redis with it."""

from __future__ import annotations

from dataclasses import dataclass

from bandeja.config import Settings
from bandeja.realtime.broker import Broker, MemoryBroker
from bandeja.realtime.hub import Hub
from bandeja.realtime.presence import MemoryPresence, PresenceService, PresenceStore


@dataclass
class Realtime:
    hub: Hub
    presence: PresenceService
    shared: bool  # events and presence cross processes (Redis)

    async def start(self, *, serve_clients: bool = True) -> None:
        await self.hub.start(serve_clients=serve_clients)
        if serve_clients:
            self.presence.start()

    async def stop(self) -> None:
        await self.presence.stop()
        await self.hub.stop()


def build_realtime(settings: Settings) -> Realtime:
    broker: Broker
    store: PresenceStore
    if settings.redis_url:
        from bandeja.realtime.presence import RedisPresence
        from bandeja.realtime.redis_broker import RedisBroker

        broker = RedisBroker(settings.redis_url, settings.realtime_replay)
        store = RedisPresence(settings.redis_url, settings.presence_ttl_s)
    else:
        broker = MemoryBroker(settings.realtime_replay)
        store = MemoryPresence(settings.presence_ttl_s)
    hub = Hub(broker, keepalive_s=settings.sse_keepalive_s)
    return Realtime(
        hub=hub,
        presence=PresenceService(store, hub.publish),
        shared=bool(settings.redis_url),
    )
