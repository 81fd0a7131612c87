"""The contract between the core's reply actions and the platform rules (implemented by the
connectors in ``bandeja.channels``; the core only knows this protocol)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind


@dataclass(frozen=True, slots=True)
class Template:
    """An approved message template (WhatsApp), the only way to write outside the window."""

    name: str
    language: str
    parameters: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    text: str
    # Reply privately (by DM) to this comment message instead of publicly in the thread.
    private_reply_to_message_id: int | None = None
    # Messenger/Instagram message tag, e.g. "HUMAN_AGENT" (7-day window when enabled).
    tag: str | None = None
    template: Template | None = None
    # X group DMs: the other participants' ids (at most 49 besides the sender).
    extra_recipients: list[str] = field(default_factory=list)
    promotional: bool = False
    # Send-guard: the newest message the agent had seen when the draft began (0: none). A reply
    # sent by someone else after it (a teammate, a bot, the native app) refuses this draft unless
    # the agent insists; None skips the check (API clients that do not track the thread).
    seen_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """Everything a platform's rules need to judge a draft, gathered by the core."""

    platform: Platform
    kind: Kind
    draft: ReplyDraft
    now: datetime
    channel_settings: dict[str, Any]
    # Last message from the customer in this conversation (None: they never wrote).
    last_inbound_at: datetime | None
    # Whether the recipient accepts messages from the account (X ``receives_your_dm``).
    recipient_accepts_messages: bool | None = None
    # For a private reply: when the comment was written, and whether one was already sent.
    comment_sent_at: datetime | None = None
    comment_already_private_replied: bool = False
    recipient_marketing_opt_in: bool | None = None


@dataclass(frozen=True, slots=True)
class RuleViolation:
    code: str  # stable, e.g. "window_closed", "text_too_long"
    message: str  # says which rule, in words an agent understands


class ReplyRules(Protocol):
    def check_reply(self, context: ReplyContext) -> list[RuleViolation]: ...
