"""The contract between the sandbox engine and each platform's fake (``channels/<p>/fake.py``).

A fake does two things for its platform:
  - ``deliveries(channel, event)``: the signed HTTP request(s) the platform would send to a
    webhook for a simulated event (the engine adds duplicates, reordering and retries);
  - ``routes(api)``: the platform's send API paths, which record what Bandeja sent and answer
    as the platform would (success shape, error shape and codes), using ``SandboxApi`` for the
    state that decides errors (messaging windows, who accepts DMs, rate limits, injected
    failures, idempotency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from starlette.routing import BaseRoute

from bandeja.core.channels.models import Platform


@dataclass(frozen=True, slots=True)
class SandboxChannel:
    """A Bandeja channel account the sandbox plays the platform for."""

    bandeja_id: int
    platform: Platform
    external_id: str  # page id, IG account id, phone-number id, X user id, org id, bot id
    name: str
    secrets: dict[str, str]  # signing_secret, verify_token, access_token (as Bandeja has them)
    webhook_url: str


@dataclass(frozen=True, slots=True)
class SimPerson:
    id: str  # the platform's id for the person (PSID, IGSID, wa_id, user id, chat id)
    name: str
    handle: str
    language: Literal["en", "es", "it"]
    accepts_dms: bool = True


@dataclass(frozen=True, slots=True)
class SimMessage:
    """A customer writes: a DM, a comment on a post, or a mention."""

    person: SimPerson
    message_id: str
    text: str
    at: datetime
    kind: Literal["dm", "comment", "mention"] = "dm"
    post_id: str | None = None  # comments and mentions: the post
    post_text: str | None = None
    parent_id: str | None = None  # a reply to another comment
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SimReaction:
    person: SimPerson
    message_id: str  # the message reacted to
    reaction: str | None  # None: removed
    at: datetime


@dataclass(frozen=True, slots=True)
class SimEdit:
    person: SimPerson
    message_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SimDelete:
    person: SimPerson
    message_id: str
    at: datetime
    kind: Literal["dm", "comment", "mention"] = "dm"
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class SimRead:
    """The person read (or received) what the business sent, up to ``at``."""

    person: SimPerson
    at: datetime
    message_id: str | None = None
    status: Literal["delivered", "read"] = "read"


@dataclass(frozen=True, slots=True)
class SimStatus:
    """Delivery news about a message Bandeja sent (WhatsApp statuses and the like)."""

    person: SimPerson
    message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    at: datetime
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class SimEcho:
    """The platform's echo of a message the business sent (through the API or its own app)."""

    person: SimPerson
    message_id: str
    text: str
    at: datetime
    metadata: str | None = None


@dataclass(frozen=True, slots=True)
class SimOptOut:
    person: SimPerson
    opted_in: bool
    at: datetime


SimEvent = (
    SimMessage | SimReaction | SimEdit | SimDelete | SimRead | SimStatus | SimEcho | SimOptOut
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One HTTP request to a webhook: the engine POSTs ``body`` with ``headers`` to ``url``."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class SentRecord:
    """What Bandeja sent through a fake send API (for tests and the sandbox's own page)."""

    platform: Platform
    channel_external_id: str
    recipient_id: str
    message_id: str
    text: str
    payload: dict[str, Any]
    idempotency_key: str | None
    at: datetime


class SandboxApi(Protocol):
    """The sandbox state a fake's routes use to answer as the platform would."""

    def channel_by_external_id(
        self, platform: Platform, external_id: str
    ) -> SandboxChannel | None: ...

    def channel_by_token(self, platform: Platform, access_token: str) -> SandboxChannel | None: ...

    def person(self, platform: Platform, person_id: str) -> SimPerson | None: ...

    def last_inbound_at(self, channel: SandboxChannel, person_id: str) -> datetime | None:
        """When this person last wrote to this channel (the messaging window's start)."""

    def injected_failure(
        self, platform: Platform
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """A failure a test asked for: (HTTP status, JSON body, headers), consumed once."""

    def rate_limited(self, key: str, limit: int, per_seconds: float) -> float | None:
        """Count a send against ``key``; returns seconds to wait when over the limit."""

    def replay(self, idempotency_key: str | None) -> SentRecord | None:
        """The earlier send with this idempotency key, if any: answer it again, send nothing."""

    def record_send(
        self,
        channel: SandboxChannel,
        recipient_id: str,
        text: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
    ) -> SentRecord:
        """Store a send, allocate its platform message id, and schedule what the platform sends
        back (echo, statuses) through the fake's ``deliveries``."""

    def new_id(self, prefix: str) -> str: ...

    def now(self) -> datetime: ...


class PlatformFake(Protocol):
    platform: Platform

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        """Signed webhook request(s) for ``event``; [] when the platform sends nothing for it."""

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        """What the platform reports after a send (echo, sent/delivered/read statuses)."""

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        """The platform's send API paths (relative to the sandbox's base URL)."""
