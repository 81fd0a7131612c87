"""Messenger's reply rules, judged on ReplyContexts built directly (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.channels.messenger.rules import check_reply
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def context(
    *,
    kind: Kind = Kind.dm,
    ago: timedelta | None = timedelta(hours=1),
    human_agent: bool = False,
    comment_ago: timedelta | None = None,
    already: bool = False,
    **draft: Any,
) -> ReplyContext:
    return ReplyContext(
        platform=Platform.messenger,
        kind=kind,
        draft=ReplyDraft(**{"text": "Hola", **draft}),
        now=NOW,
        channel_settings={"human_agent_enabled": human_agent},
        last_inbound_at=None if ago is None else NOW - ago,
        comment_sent_at=None if comment_ago is None else NOW - comment_ago,
        comment_already_private_replied=already,
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in check_reply(ctx)]


def test_a_reply_within_the_window_is_allowed() -> None:
    assert check_reply(context()) == []
    assert check_reply(context(ago=timedelta(hours=23, minutes=59), text="x" * 2000)) == []


def test_text_is_at_most_2000_characters() -> None:
    [violation] = check_reply(context(text="é" * 2001))
    assert violation.code == "text_too_long"
    assert violation.message == "Messenger accepts at most 2,000 characters (this reply has 2,001)"


def test_the_person_writes_first() -> None:
    [violation] = check_reply(context(ago=None))
    assert violation.code == "business_cannot_start"
    assert "must write first" in violation.message
    # A tag does not let the Page start a conversation either.
    assert codes(context(ago=None, tag="ACCOUNT_UPDATE")) == ["business_cannot_start"]


def test_the_24_hour_window() -> None:
    [violation] = check_reply(context(ago=timedelta(hours=26)))
    assert violation.code == "window_closed"
    assert violation.message == "the 24-hour Messenger messaging window closed 2 h ago"


def test_a_closed_window_suggests_human_agent_when_the_page_has_it() -> None:
    [violation] = check_reply(context(ago=timedelta(days=2), human_agent=True))
    assert "HUMAN_AGENT tag (7 days)" in violation.message
    [beyond] = check_reply(context(ago=timedelta(days=8), human_agent=True))
    assert "HUMAN_AGENT" not in beyond.message


def test_human_agent_tag_gives_7_days_only_when_enabled() -> None:
    assert codes(context(ago=timedelta(days=6), tag="HUMAN_AGENT", human_agent=True)) == []
    [closed] = check_reply(
        context(ago=timedelta(days=7, hours=1), tag="HUMAN_AGENT", human_agent=True)
    )
    assert closed.code == "window_closed"
    assert "168-hour" in closed.message
    [off] = check_reply(context(ago=timedelta(days=2), tag="HUMAN_AGENT"))
    assert off.code == "tag_not_enabled"
    assert "the HUMAN_AGENT tag is not enabled for this Page" in off.message


def test_purpose_tags_reach_outside_the_window() -> None:
    for tag in ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"):
        assert codes(context(ago=timedelta(days=30), tag=tag)) == [], tag


def test_nothing_promotional_under_a_tag() -> None:
    [violation] = check_reply(context(tag="POST_PURCHASE_UPDATE", promotional=True))
    assert violation.code == "promotional_under_tag"
    assert "POST_PURCHASE_UPDATE tag must not be promotional" in violation.message
    assert codes(context(tag="HUMAN_AGENT", human_agent=True, promotional=True)) == [
        "promotional_under_tag"
    ]
    # Inside the window, without a tag, a promotional message is the Page's business.
    assert codes(context(promotional=True)) == []


def test_unknown_tags_are_refused() -> None:
    [violation] = check_reply(context(tag="SHIPPING_UPDATE"))
    assert violation.code == "unknown_tag"
    assert "'SHIPPING_UPDATE'" in violation.message
    assert "HUMAN_AGENT" in violation.message


def test_one_recipient_and_no_templates() -> None:
    assert codes(context(extra_recipients=["1", "2"])) == ["too_many_recipients"]
    assert codes(context(template=Template(name="hello_world", language="en"))) == ["not_supported"]


def test_public_comment_replies_have_no_window() -> None:
    assert codes(context(kind=Kind.comment, ago=timedelta(days=60))) == []
    assert codes(context(kind=Kind.comment, ago=None, text="x" * 8000)) == []
    [long] = check_reply(context(kind=Kind.comment, text="x" * 8001))
    assert (long.code, long.message) == (
        "text_too_long",
        "A Facebook comment accepts at most 8,000 characters (this reply has 8,001)",
    )
    assert codes(context(kind=Kind.comment, tag="HUMAN_AGENT")) == ["not_supported"]


def test_a_private_reply_once_within_7_days() -> None:
    ok = context(
        kind=Kind.comment,
        private_reply_to_message_id=7,
        comment_ago=timedelta(days=6, hours=23),
        ago=timedelta(days=6, hours=23),
    )
    assert check_reply(ok) == []
    [expired] = check_reply(
        context(kind=Kind.comment, private_reply_to_message_id=7, comment_ago=timedelta(days=8))
    )
    assert expired.code == "private_reply_expired"
    assert "within 7 days of the comment (this one is 8 days old)" in expired.message
    [again] = check_reply(
        context(
            kind=Kind.comment,
            private_reply_to_message_id=7,
            comment_ago=timedelta(hours=1),
            already=True,
        )
    )
    assert again.code == "private_reply_already_sent"
    assert "one private reply per comment" in again.message
    # A private reply is a Messenger message: 2,000 characters.
    assert codes(
        context(
            kind=Kind.comment,
            private_reply_to_message_id=7,
            comment_ago=timedelta(hours=1),
            text="x" * 2001,
        )
    ) == ["text_too_long"]


@pytest.mark.parametrize(
    ("kind", "draft"),
    [
        (Kind.mention, {}),
        (Kind.dm, {"private_reply_to_message_id": 3}),
    ],
)
def test_what_a_page_cannot_do(kind: Kind, draft: dict[str, Any]) -> None:
    assert "not_supported" in codes(context(kind=kind, **draft))
