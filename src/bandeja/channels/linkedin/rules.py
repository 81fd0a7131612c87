"""LinkedIn's rules for a reply (DESIGN.md §4).

The Community Management API lets a Page answer comments on its posts and posts that mention it,
always in public, as a comment. It has no Page DMs and no private replies; there is no window.
A comment holds at most 1,250 characters.
"""

from __future__ import annotations

from bandeja.channels import rules as shared
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

NAME = "LinkedIn"
TEXT_LIMIT = 1250


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    found: list[RuleViolation] = []
    if context.kind is Kind.dm:
        found.append(
            RuleViolation(
                "not_supported",
                "LinkedIn Pages cannot send direct messages through the API; "
                "only comments can be answered",
            )
        )
    found += shared.text_length(context, TEXT_LIMIT, platform_name=f"A {NAME} comment")
    if draft.private_reply_to_message_id is not None:
        found.append(
            RuleViolation(
                "not_supported", "LinkedIn has no private replies: answer in the comments"
            )
        )
    if draft.template is not None or draft.tag:
        found.append(
            RuleViolation(
                "not_supported", "LinkedIn comments take plain text: no templates or tags"
            )
        )
    if draft.extra_recipients:
        found.append(
            RuleViolation(
                "too_many_recipients", "a LinkedIn comment answers one thread; it has no recipients"
            )
        )
    return found
