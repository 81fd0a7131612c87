"""WhatsApp's rules for a reply (DESIGN.md §4).

- Text: at most 4,096 characters.
- The 24-hour customer-service window opens with each message from the person. Inside it the
  business writes freely; outside it, or before the person ever wrote, only an approved message
  template can be sent (the Cloud API answers error 131047 otherwise).
- A template carries its own text: a draft with both is ambiguous and refused.
- A promotional template is not sent to a person who stopped marketing messages (their choice
  arrives as a ``user_preferences`` webhook; the API would fail it with 131050).
- WhatsApp has only one-to-one chats: no comments or mentions, no message tags, one recipient.
"""

from __future__ import annotations

from bandeja.channels import rules as shared
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

PLATFORM = "WhatsApp"
TEXT_LIMIT = 4096
WINDOW_HOURS = 24.0


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    if context.kind is not Kind.dm:
        return [
            RuleViolation(
                "not_supported",
                "WhatsApp has only one-to-one chats: there is no comment or mention to answer",
            )
        ]
    violations: list[RuleViolation] = []
    if draft.tag:
        violations.append(
            RuleViolation(
                "not_supported",
                "WhatsApp has no message tags; outside the 24-hour window send an approved "
                "template",
            )
        )
    if draft.extra_recipients:
        violations.append(
            RuleViolation("too_many_recipients", "a WhatsApp message goes to one person only")
        )
    if draft.template is None:
        violations += shared.text_length(context, TEXT_LIMIT, platform_name=PLATFORM)
        violations += _window(context)
    else:
        if draft.text.strip():
            violations.append(
                RuleViolation(
                    "template_has_text",
                    "a WhatsApp template carries its own approved text: send the template "
                    "without a message, or a message without the template",
                )
            )
        if draft.promotional and context.recipient_marketing_opt_in is False:
            violations.append(
                RuleViolation(
                    "no_marketing_consent",
                    "this person stopped marketing messages from this WhatsApp number: "
                    "promotional templates cannot be sent to them",
                )
            )
    return violations


def _window(context: ReplyContext) -> list[RuleViolation]:
    """Free-form messages only inside the 24-hour window; a template otherwise."""
    if context.last_inbound_at is None:
        return [
            RuleViolation(
                "template_required",
                "this person has not written to this WhatsApp number yet: only "
                "an approved template can start the conversation",
            )
        ]
    return [
        RuleViolation("template_required", v.message)
        for v in shared.window_closed(
            context, WINDOW_HOURS, PLATFORM, how="; only an approved template can be sent now"
        )
    ]
