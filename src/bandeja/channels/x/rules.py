"""X's rules for a reply (DESIGN.md §4).

- DMs: at most 10,000 characters; the account may write first, as long as the person accepts
  DMs from it (``receives_your_dm``; unknown counts as yes: X refuses with 349 if not); no
  messaging window; a group DM holds at most 50 people (the account and 49 others).
- Mention replies are public posts: 280 characters, counted the way X counts them (links are 23,
  most CJK characters and emoji 2); X Premium accounts may post up to 25,000, which the channel
  setting ``long_posts`` turns on.
- 15 DMs per 15 minutes per account is enforced by X itself (429); the sender retries after the
  reset time X gives.
"""

from __future__ import annotations

import re
import unicodedata

from bandeja.channels.rules import text_length
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, RuleViolation

DM_TEXT_LIMIT = 10_000
POST_TEXT_LIMIT = 280
LONG_POST_TEXT_LIMIT = 25_000
GROUP_DM_MAX_OTHERS = 49  # 50 people with the account itself
URL_WEIGHT = 23

# twitter-text v3: code points in these ranges weigh 1, every other one 2.
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# Joiners and variation selectors are part of the emoji before them, not characters of their own.
_ZERO_WEIGHT = {0x200D, 0xFE0E, 0xFE0F}


def post_length(text: str) -> int:
    """The length X counts for a post (approximates twitter-text: NFC, URLs count 23)."""
    text = unicodedata.normalize("NFC", text)
    weight = 0
    for part in _URL.split(text):
        for char in part:
            point = ord(char)
            if point in _ZERO_WEIGHT or 0x1F3FB <= point <= 0x1F3FF:  # skin tones too
                continue
            weight += 1 if any(lo <= point <= hi for lo, hi in _LIGHT) else 2
    return weight + URL_WEIGHT * len(_URL.findall(text))


def check_reply(context: ReplyContext) -> list[RuleViolation]:
    draft = context.draft
    violations: list[RuleViolation] = []
    if draft.template is not None:
        violations.append(RuleViolation("not_supported", "X has no message templates"))
    if draft.tag:
        violations.append(RuleViolation("not_supported", "X has no message tags"))
    if context.kind is Kind.dm:
        violations += text_length(context, DM_TEXT_LIMIT, platform_name="An X direct message")
        if context.recipient_accepts_messages is False:
            violations.append(
                RuleViolation(
                    "recipient_does_not_accept_dms",
                    "this person does not accept direct messages from the account on X "
                    "(their message settings); answer with a mention instead",
                )
            )
        others = 1 + len(draft.extra_recipients)
        if others > GROUP_DM_MAX_OTHERS:
            violations.append(
                RuleViolation(
                    "too_many_recipients",
                    f"an X group direct message holds at most 50 people, the account and "
                    f"{GROUP_DM_MAX_OTHERS} others (this one would have {others} others)",
                )
            )
        return violations
    if draft.extra_recipients:
        violations.append(
            RuleViolation("not_supported", "only X direct messages can have several recipients")
        )
    if draft.private_reply_to_message_id is not None:
        violations.append(
            RuleViolation(
                "not_supported",
                "X has no private replies to posts; write the person a direct message instead",
            )
        )
    long_posts = bool(context.channel_settings.get("long_posts"))
    limit = LONG_POST_TEXT_LIMIT if long_posts else POST_TEXT_LIMIT
    size = post_length(draft.text)
    if size > limit:
        why = (
            "25,000 characters for a post reply from an X Premium account"
            if long_posts
            else "280 characters for a post reply; X Premium accounts may post longer "
            "(turn on long posts in the channel settings)"
        )
        violations.append(
            RuleViolation(
                "text_too_long", f"X allows {why}; this reply counts {size:,} (links count 23)"
            )
        )
    return violations
