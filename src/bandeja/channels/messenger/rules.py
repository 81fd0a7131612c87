"""Messenger's rules for a reply (DESIGN.md §4), checked before a reply is queued.

DMs: at most 2,000 characters; the person writes first; a 24-hour window from their last
message. With the ``HUMAN_AGENT`` tag (only when the Page has that permission, channel setting
``human_agent_enabled``) the window is 7 days. Other tags (``ACCOUNT_UPDATE``,
``CONFIRMED_EVENT_UPDATE``, ``POST_PURCHASE_UPDATE``) reach the person outside the window for
their stated purpose only; nothing promotional may be sent under any tag.

Comments: a public reply has no window (Facebook comments take up to 8,000 characters). A
private reply (by Messenger, to a comment) is allowed once per comment, within 7 days of it.
"""

from __future__ import annotations

from datetime import timedelta

from bandeja.channels import rules as shared
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

NAME = "Messenger"
TEXT_LIMIT = 2_000
COMMENT_TEXT_LIMIT = 8_000
WINDOW_HOURS = 24
HUMAN_AGENT_HOURS = 7 * 24
PRIVATE_REPLY_DAYS = 7
HUMAN_AGENT = "HUMAN_AGENT"
# Tags that send outside the window without a time limit, for their purpose only.
PURPOSE_TAGS = frozenset({"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
TAGS = PURPOSE_TAGS | {HUMAN_AGENT}


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    violations: list[RuleViolation] = []
    if draft.template is not None:
        violations.append(
            RuleViolation(
                "not_supported", "Messenger has no message templates; write the reply as text"
            )
        )
    if draft.extra_recipients:
        violations.append(
            RuleViolation("too_many_recipients", "a Messenger reply goes to one person only")
        )
    if context.kind is Kind.comment:
        return violations + _comment(context)
    if context.kind is not Kind.dm:
        return [
            *violations,
            RuleViolation(
                "not_supported", "Facebook Pages have no mentions to answer through Bandeja"
            ),
        ]
    if draft.private_reply_to_message_id is not None:
        violations.append(
            RuleViolation(
                "not_supported", "private replies answer comments; this is a Messenger conversation"
            )
        )
    violations += shared.text_length(context, TEXT_LIMIT, platform_name=NAME)
    return violations + _window(context)


def _window(context: ReplyContext) -> list[RuleViolation]:
    started = shared.business_cannot_start(context, NAME)
    if started:
        return started
    tag = context.draft.tag
    human_agent = bool(context.channel_settings.get("human_agent_enabled"))
    if tag is None:
        how = ""
        left = shared.window_left(context, HUMAN_AGENT_HOURS)
        if human_agent and left is not None and left > timedelta(0):
            how = "; send it with the HUMAN_AGENT tag (7 days) to answer now"
        return shared.window_closed(context, WINDOW_HOURS, NAME, how)
    if tag not in TAGS:
        return [
            RuleViolation(
                "unknown_tag",
                f"Messenger has no message tag {tag!r}; use one of " + ", ".join(sorted(TAGS)),
            )
        ]
    if context.draft.promotional:
        return [
            RuleViolation(
                "promotional_under_tag",
                f"a message sent with the {tag} tag must not be promotional",
            )
        ]
    if tag != HUMAN_AGENT:
        return []
    if not human_agent:
        return [
            RuleViolation(
                "tag_not_enabled",
                "the HUMAN_AGENT tag is not enabled for this Page (Meta grants "
                "it to the app; then turn on human_agent_enabled in the channel settings)",
            )
        ]
    return shared.window_closed(context, HUMAN_AGENT_HOURS, NAME, " (HUMAN_AGENT tag: 7 days)")


def _comment(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    violations: list[RuleViolation] = []
    if draft.tag is not None:
        violations.append(
            RuleViolation(
                "not_supported", "message tags apply to Messenger conversations, not to comments"
            )
        )
    if draft.private_reply_to_message_id is None:
        return violations + shared.text_length(
            context, COMMENT_TEXT_LIMIT, platform_name="A Facebook comment"
        )
    violations += shared.text_length(context, TEXT_LIMIT, platform_name=NAME)
    if context.comment_already_private_replied:
        violations.append(
            RuleViolation(
                "private_reply_already_sent",
                "Facebook allows one private reply per comment, and this comment already has one",
            )
        )
    elif context.comment_sent_at is not None:
        age = context.now - context.comment_sent_at
        if age > timedelta(days=PRIVATE_REPLY_DAYS):
            violations.append(
                RuleViolation(
                    "private_reply_expired",
                    f"a private reply must be sent within {PRIVATE_REPLY_DAYS} days of the comment "
                    f"(this one is {age.days} days old)",
                )
            )
    return violations
