"""What the composer may do now in one conversation: the platform's text limit and its unit, the
messaging window's end, whether a reply is allowed (and if not, the rule and why), and whether a
private reply to the comment is possible. The composer and the API show the same answer that
``queue_reply`` would give, because both ask the same platform rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.errors import DomainError
from bandeja.core.messages.models import Direction, Message
from bandeja.core.outbox.actions import reply_context
from bandeja.core.outbox.types import ReplyDraft, ReplyRules, RuleViolation
from bandeja.storage.base import utcnow

Unit = Literal["characters", "bytes"]
# "x_post": X's weighted count for posts (links 23, most CJK and emoji 2).
Counting = Literal["plain", "x_post"]
# Rules about the text itself: they judge the draft, not whether one may write at all.
_TEXT_RULES = {"text_too_long"}
# A probe draft: one character, so that only the rules about the situation speak.
_PROBE = "."


@dataclass(frozen=True, slots=True)
class TextLimit:
    max_length: int
    unit: Unit = "characters"
    counting: Counting = "plain"


class ComposeRules(ReplyRules, Protocol):
    """The platform rules, plus the numbers a composer shows before the agent writes."""

    def text_limit(
        self, platform: Platform, kind: Kind, *, private: bool, settings: Mapping[str, Any]
    ) -> TextLimit | None: ...

    def window_hours(
        self, platform: Platform, kind: Kind, settings: Mapping[str, Any]
    ) -> float | None: ...


class Refusal(BaseModel):
    code: str
    message: str


class PrivateReplyOut(BaseModel):
    """Answering a comment by a direct message to its author (Messenger, Instagram)."""

    message_id: int
    allowed: bool
    reason: Refusal | None
    max_length: int | None
    unit: Unit
    counting: Counting


class ComposeOut(BaseModel):
    conversation_id: int
    platform: Platform
    kind: Kind
    max_length: int | None
    unit: Unit
    counting: Counting
    window_hours: float | None
    window_ends_at: datetime | None
    can_reply: bool
    reason: Refusal | None
    private_reply: PrivateReplyOut | None
    # The newest message of the thread: a draft started now sends it as ``seen_message_id``.
    seen_message_id: int


def _blocking(violations: list[RuleViolation]) -> Refusal | None:
    for violation in violations:
        if violation.code not in _TEXT_RULES:
            return Refusal(code=f"rule:{violation.code}", message=violation.message)
    return None


async def _judge(
    session: AsyncSession,
    conversation: Conversation,
    channel: ChannelAccount,
    rules: ComposeRules,
    draft: ReplyDraft,
    now: datetime,
) -> Refusal | None:
    try:
        context = await reply_context(session, conversation, channel, draft, now)
        return _blocking(rules.check_reply(context))
    except DomainError as exc:  # no connector for the platform, a comment that is not one...
        return Refusal(code=exc.code, message=exc.message)


async def compose_context(
    session: AsyncSession,
    actor: Actor,
    conversation_id: int,
    rules: ComposeRules,
    *,
    now: datetime | None = None,
) -> ComposeOut:
    conversation = await get_conversation(session, actor, conversation_id)
    channel = await session.get(ChannelAccount, conversation.channel_account_id)
    assert channel is not None
    now = now or utcnow()
    settings = dict(channel.settings)
    reason = await _judge(
        session, conversation, channel, rules, ReplyDraft(text=_PROBE, seen_message_id=None), now
    )
    limit = rules.text_limit(channel.platform, conversation.kind, private=False, settings=settings)
    hours = rules.window_hours(channel.platform, conversation.kind, settings)
    ends = (
        conversation.last_inbound_at + timedelta(hours=hours)
        if hours is not None and conversation.last_inbound_at is not None
        else None
    )
    newest = await session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    private = None
    if conversation.kind is Kind.comment:
        private = await _private_reply(session, conversation, channel, rules, settings, now)
    return ComposeOut(
        conversation_id=conversation.id,
        platform=channel.platform,
        kind=conversation.kind,
        max_length=limit.max_length if limit else None,
        unit=limit.unit if limit else "characters",
        counting=limit.counting if limit else "plain",
        window_hours=hours,
        window_ends_at=ends,
        can_reply=reason is None,
        reason=reason,
        private_reply=private,
        seen_message_id=newest or 0,
    )


async def _private_reply(
    session: AsyncSession,
    conversation: Conversation,
    channel: ChannelAccount,
    rules: ComposeRules,
    settings: dict[str, Any],
    now: datetime,
) -> PrivateReplyOut | None:
    """About the customer's newest comment in the thread (the one an agent answers)."""
    comment_id = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.inbound,
            Message.deleted_at.is_(None),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )
    if comment_id is None:
        return None
    draft = ReplyDraft(text=_PROBE, private_reply_to_message_id=comment_id, seen_message_id=None)
    reason = await _judge(session, conversation, channel, rules, draft, now)
    limit = rules.text_limit(channel.platform, conversation.kind, private=True, settings=settings)
    return PrivateReplyOut(
        message_id=comment_id,
        allowed=reason is None,
        reason=reason,
        max_length=limit.max_length if limit else None,
        unit=limit.unit if limit else "characters",
        counting=limit.counting if limit else "plain",
    )
