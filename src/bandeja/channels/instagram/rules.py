"""Instagram's rules for a reply (DESIGN.md §4), checked before a reply is queued.

- Direct messages: at most 1,000 bytes of UTF-8 (an accented letter counts 2, an emoji 4); the
  person writes first; 24 hours from their last message, or 7 days with the ``HUMAN_AGENT`` tag
  when the channel setting ``human_agent_enabled`` is on (the only tag Instagram accepts, and
  never for promotion); one person at a time (no group sends through the API).
- Private reply to a comment (a DM to the commenter): one per comment, within 7 days of it,
  1,000 bytes; only for comments on the account's own media (not for mentions elsewhere).
- Public replies to comments and mentions: no window; an Instagram comment holds at most
  2,200 characters.
"""

from __future__ import annotations

from datetime import timedelta

from bandeja.channels.rules import business_cannot_start, window_closed
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

NAME = "Instagram"
DM_LIMIT_BYTES = 1000
COMMENT_LIMIT_CHARS = 2200
WINDOW_HOURS = 24.0
HUMAN_AGENT_HOURS = 7 * 24.0
HUMAN_AGENT = "HUMAN_AGENT"
PRIVATE_REPLY_WINDOW = timedelta(days=7)


def human_agent_enabled(context: ReplyContext) -> bool:
    return bool(context.channel_settings.get("human_agent_enabled"))


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    violations: list[RuleViolation] = []
    if draft.extra_recipients:
        violations.append(
            RuleViolation(
                "too_many_recipients",
                "Instagram's API sends a message to one person at a time; remove the other "
                "recipients",
            )
        )
    if draft.template is not None:
        violations.append(
            RuleViolation(
                "not_supported", "Instagram has no message templates; write the reply as text"
            )
        )
    if draft.private_reply_to_message_id is not None:
        violations.extend(_private_reply(context))
    elif context.kind is Kind.dm:
        violations.extend(_direct_message(context))
    else:
        violations.extend(_public_reply(context))
    return violations


def _dm_length(context: ReplyContext) -> list[RuleViolation]:
    size = len(context.draft.text.encode())
    if size > DM_LIMIT_BYTES:
        return [
            RuleViolation(
                "text_too_long",
                f"an Instagram message can be at most {DM_LIMIT_BYTES:,} bytes (accented letters "
                f"count 2, emoji 4); this reply has {size:,}",
            )
        ]
    return []


def _direct_message(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    violations = _dm_length(context)
    tag = (draft.tag or "").strip().upper() or None
    enabled = human_agent_enabled(context)
    if tag is not None and tag != HUMAN_AGENT:
        violations.append(
            RuleViolation(
                "tag_not_supported",
                f"Instagram accepts only the {HUMAN_AGENT} message tag, not {draft.tag}",
            )
        )
    elif tag == HUMAN_AGENT and not enabled:
        violations.append(
            RuleViolation(
                "tag_not_enabled",
                f"the {HUMAN_AGENT} tag is not enabled for this Instagram account (channel setting "
                "human_agent_enabled)",
            )
        )
    if tag is not None and draft.promotional:
        violations.append(
            RuleViolation(
                "promotional_under_tag", "a message sent with a message tag cannot be promotional"
            )
        )
    if context.recipient_accepts_messages is False:
        violations.append(
            RuleViolation(
                "recipient_does_not_accept_dms",
                "this person does not accept messages from the account on Instagram",
            )
        )
    start = business_cannot_start(context, NAME)
    if start:
        return violations + start
    if tag == HUMAN_AGENT and enabled:
        violations.extend(
            window_closed(
                context, HUMAN_AGENT_HOURS, NAME, f" (the {HUMAN_AGENT} tag allows 7 days)"
            )
        )
    else:
        hint = f"; send it with the {HUMAN_AGENT} tag to answer within 7 days" if enabled else ""
        violations.extend(window_closed(context, WINDOW_HOURS, NAME, hint))
    return violations


def _private_reply(context: ReplyContext) -> list[RuleViolation]:
    if context.kind is not Kind.comment:
        return [
            RuleViolation(
                "not_supported",
                "Instagram allows private replies to comments on the account's own media only",
            )
        ]
    violations = _dm_length(context)
    if context.comment_already_private_replied:
        violations.append(
            RuleViolation(
                "private_reply_already_sent",
                "Instagram allows one private reply per comment, and this comment already has one",
            )
        )
    elif (
        context.comment_sent_at is not None
        and context.now - context.comment_sent_at > PRIVATE_REPLY_WINDOW
    ):
        age = context.now - context.comment_sent_at
        violations.append(
            RuleViolation(
                "private_reply_expired",
                f"Instagram allows a private reply within 7 days of the comment; this comment is "
                f"{age.days} days old",
            )
        )
    return violations


def _public_reply(context: ReplyContext) -> list[RuleViolation]:
    size = len(context.draft.text)
    if size > COMMENT_LIMIT_CHARS:
        return [
            RuleViolation(
                "text_too_long",
                f"an Instagram comment can be at most {COMMENT_LIMIT_CHARS:,} characters; this "
                f"reply has {size:,}",
            )
        ]
    return []
