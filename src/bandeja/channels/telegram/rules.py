"""Telegram's rules for a bot's reply (DESIGN.md §4).

A bot can only write to a person who started it (pressed Start, i.e. wrote first); there is no
messaging window after that. Text is at most 4,096 characters. Replies to a group mention go to
the group chat. Telegram has no comments, templates, tags or private replies.
"""

from __future__ import annotations

from bandeja.channels import rules as shared
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

NAME = "Telegram"
TEXT_LIMIT = 4096


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    found: list[RuleViolation] = []
    if context.kind is Kind.comment:
        found.append(
            RuleViolation("not_supported", "Telegram has no comment threads a bot can answer")
        )
    found += shared.text_length(context, TEXT_LIMIT, platform_name=NAME)
    if context.kind is Kind.dm:
        # A bot cannot open a chat: the person must press Start (write to the bot) first.
        found += (
            [
                RuleViolation(
                    "business_cannot_start",
                    "on Telegram the person must press Start (write to the bot) "
                    "before the bot can write to them",
                )
            ]
            if context.last_inbound_at is None
            else []
        )
    if draft.private_reply_to_message_id is not None:
        found.append(RuleViolation("not_supported", "Telegram has no private replies"))
    if draft.template is not None:
        found.append(
            RuleViolation("not_supported", "Telegram has no message templates: write the text")
        )
    if draft.tag:
        found.append(
            RuleViolation("not_supported", "message tags are a Meta rule; Telegram has none")
        )
    if draft.extra_recipients:
        found.append(
            RuleViolation("too_many_recipients", "a Telegram bot message goes to exactly one chat")
        )
    return found
