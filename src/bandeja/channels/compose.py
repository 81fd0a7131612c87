"""The numbers a composer shows before the agent writes (text limit and unit, window length),
taken from each platform's ``rules.py`` so that the composer and the rules never disagree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bandeja.channels.instagram import rules as instagram
from bandeja.channels.linkedin import rules as linkedin
from bandeja.channels.messenger import rules as messenger
from bandeja.channels.registry import Rules
from bandeja.channels.telegram import rules as telegram
from bandeja.channels.whatsapp import rules as whatsapp
from bandeja.channels.x import rules as x
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.compose import TextLimit


def text_limit(
    platform: Platform, kind: Kind, *, private: bool, settings: Mapping[str, Any]
) -> TextLimit | None:
    """The limit of a reply in a conversation of ``kind``; ``private``: a DM answering a comment."""
    if platform is Platform.messenger:
        if kind is Kind.comment and not private:
            return TextLimit(messenger.COMMENT_TEXT_LIMIT)
        return TextLimit(messenger.TEXT_LIMIT)
    if platform is Platform.instagram:
        if kind is Kind.dm or private:
            return TextLimit(instagram.DM_LIMIT_BYTES, "bytes")
        return TextLimit(instagram.COMMENT_LIMIT_CHARS)
    if platform is Platform.whatsapp:
        return TextLimit(whatsapp.TEXT_LIMIT)
    if platform is Platform.x:
        if kind is Kind.dm:
            return TextLimit(x.DM_TEXT_LIMIT)
        long_posts = bool(settings.get("long_posts"))
        return TextLimit(
            x.LONG_POST_TEXT_LIMIT if long_posts else x.POST_TEXT_LIMIT, counting="x_post"
        )
    if platform is Platform.telegram:
        return TextLimit(telegram.TEXT_LIMIT)
    if platform is Platform.linkedin:
        return TextLimit(linkedin.TEXT_LIMIT)
    return None


def window_hours(platform: Platform, kind: Kind, settings: Mapping[str, Any]) -> float | None:
    """The standard messaging window from the person's last message; None: no window."""
    if kind is not Kind.dm:
        return None
    return {
        Platform.messenger: float(messenger.WINDOW_HOURS),
        Platform.instagram: instagram.WINDOW_HOURS,
        Platform.whatsapp: whatsapp.WINDOW_HOURS,
    }.get(platform)


class ComposeRules(Rules):
    """Every connector's rules and composer numbers, as the core's ``ComposeRules``."""

    def text_limit(
        self, platform: Platform, kind: Kind, *, private: bool, settings: Mapping[str, Any]
    ) -> TextLimit | None:
        return text_limit(platform, kind, private=private, settings=settings)

    def window_hours(
        self, platform: Platform, kind: Kind, settings: Mapping[str, Any]
    ) -> float | None:
        return window_hours(platform, kind, settings)
