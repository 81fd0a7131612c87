"""What a platform told us, in the core's words.

Connectors (``bandeja.channels.<platform>.parse``) turn each verified webhook body into a list of
these events; ``ingest.actions.apply_event`` applies them through the core's actions. Every shape a
platform sends becomes one of these, or an :class:`Ignored` with a reason that is counted.
Times are timezone-aware UTC; ids are the platform's, as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bandeja.core.contacts.actions import IdentityInfo
from bandeja.core.messages.actions import ThreadInfo

Person = IdentityInfo
Thread = ThreadInfo


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A DM, comment or mention written by a customer."""

    thread: Thread
    sender: Person
    external_id: str
    text: str
    sent_at: datetime
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to_external_id: str | None = None
    # Platform details worth keeping: quick-reply or postback payloads, referrals, forwards.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EchoReceived:
    """A message the business account sent: from Bandeja (matched to the reply by ``metadata``
    or external id) or from the platform's native app (stored as "sent outside Bandeja").

    ``recipient`` None: the platform does not say whom it answers (a Page's comment reply); the
    echo then only joins an existing thread, and is counted otherwise."""

    thread: Thread
    recipient: Person | None
    external_id: str
    text: str
    sent_at: datetime
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """Delivery news about an outbound message. Statuses only move forward."""

    external_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    at: datetime
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class ReadUpTo:
    """The person read (or received, with ``status="delivered"``) everything we sent them up to
    ``watermark`` (Messenger watermarks, X read events)."""

    person_external_id: str
    watermark: datetime
    status: Literal["delivered", "read"] = "read"


@dataclass(frozen=True, slots=True)
class ReactionChanged:
    external_id: str
    person_external_id: str
    reaction: str | None  # None: the reaction was removed
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageEdited:
    external_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """Unsent by the customer, or a comment removed."""

    external_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CommentHidden:
    external_id: str
    hidden: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class MarketingPreference:
    """The person opted in to or out of marketing messages on this channel account."""

    person: Person
    opted_in: bool
    at: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """A shape we deliberately do not turn into inbox content; counted per reason."""

    reason: str


PlatformEvent = (
    MessageReceived
    | EchoReceived
    | StatusChanged
    | ReadUpTo
    | ReactionChanged
    | MessageEdited
    | MessageDeleted
    | CommentHidden
    | MarketingPreference
    | Ignored
)
