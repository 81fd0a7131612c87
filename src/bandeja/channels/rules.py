"""Rule checks that several platforms share; each platform's ``rules.py`` composes them with its
own numbers (DESIGN.md §4)."""

from __future__ import annotations

from datetime import timedelta

from bandeja.core.outbox.types import ReplyContext, RuleViolation


def text_length(
    context: ReplyContext, limit: int, *, unit: str = "characters", platform_name: str
) -> list[RuleViolation]:
    text = context.draft.text
    size = len(text.encode()) if unit == "bytes" else len(text)
    if size > limit:
        return [
            RuleViolation(
                "text_too_long",
                f"{platform_name} accepts at most {limit:,} {unit} (this reply has {size:,})",
            )
        ]
    return []


def business_cannot_start(context: ReplyContext, platform_name: str) -> list[RuleViolation]:
    if context.last_inbound_at is None:
        return [
            RuleViolation(
                "business_cannot_start", f"on {platform_name} the person must write first"
            )
        ]
    return []


def window_left(context: ReplyContext, hours: float) -> timedelta | None:
    """Time left in a messaging window of ``hours`` from the person's last message."""
    if context.last_inbound_at is None:
        return None
    return context.last_inbound_at + timedelta(hours=hours) - context.now


def window_closed(
    context: ReplyContext, hours: float, platform_name: str, how: str = ""
) -> list[RuleViolation]:
    left = window_left(context, hours)
    if left is not None and left <= timedelta(0):
        return [
            RuleViolation(
                "window_closed",
                f"the {hours:g}-hour {platform_name} messaging window closed "
                f"{_ago(-left)} ago{how}",
            )
        ]
    return []


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"
