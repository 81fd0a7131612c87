"""Instagram's reply rules, judged on ``ReplyContext`` built directly (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bandeja.channels.instagram.rules import check_reply
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def context(
    text: str = "Hola, ¿en qué te ayudo?",
    *,
    kind: Kind = Kind.dm,
    ago: timedelta | None = timedelta(hours=1),
    settings: dict[str, Any] | None = None,
    **draft: Any,
) -> ReplyContext:
    extra = {
        k: draft.pop(k)
        for k in (
            "comment_sent_at",
            "comment_already_private_replied",
            "recipient_accepts_messages",
        )
        if k in draft
    }
    return ReplyContext(
        platform=Platform.instagram,
        kind=kind,
        draft=ReplyDraft(text=text, **draft),
        now=NOW,
        channel_settings=settings or {},
        last_inbound_at=None if ago is None else NOW - ago,
        **extra,
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in check_reply(ctx)]


def test_a_dm_within_the_window_is_fine():
    assert check_reply(context()) == []


def test_dm_limit_is_1000_bytes_not_characters():
    assert codes(context("a" * 1000)) == []
    assert codes(context("a" * 1001)) == ["text_too_long"]
    assert codes(context("😀" * 250)) == []  # 4 bytes each
    assert codes(context("😀" * 251)) == ["text_too_long"]
    [violation] = check_reply(context("è" * 501))  # 501 characters, 1,002 bytes
    assert violation.message == (
        "an Instagram message can be at most 1,000 bytes (accented "
        "letters count 2, emoji 4); this reply has 1,002"
    )


def test_the_person_writes_first():
    [violation] = check_reply(context(ago=None))
    assert violation.code == "business_cannot_start"
    assert "must write first" in violation.message


def test_24_hour_window():
    assert codes(context(ago=timedelta(hours=23, minutes=59))) == []
    [violation] = check_reply(context(ago=timedelta(hours=27)))
    assert violation.code == "window_closed"
    assert violation.message == "the 24-hour Instagram messaging window closed 3 h ago"


def test_human_agent_tag_gives_seven_days_when_enabled():
    enabled = {"human_agent_enabled": True}
    assert codes(context(ago=timedelta(days=3), tag="HUMAN_AGENT", settings=enabled)) == []
    assert codes(context(ago=timedelta(days=3), tag="human_agent", settings=enabled)) == []
    [closed] = check_reply(context(ago=timedelta(days=8), tag="HUMAN_AGENT", settings=enabled))
    assert closed.code == "window_closed"
    assert "7 days" in closed.message
    # Without the tag, the message says how to answer.
    [hint] = check_reply(context(ago=timedelta(days=2), settings=enabled))
    assert hint.code == "window_closed"
    assert "HUMAN_AGENT tag" in hint.message


def test_human_agent_tag_must_be_enabled():
    assert codes(context(ago=timedelta(days=3), tag="HUMAN_AGENT")) == [
        "tag_not_enabled",
        "window_closed",
    ]
    assert codes(context(tag="HUMAN_AGENT")) == ["tag_not_enabled"]


def test_other_tags_and_promotion_under_a_tag():
    assert codes(context(tag="CONFIRMED_EVENT_UPDATE")) == ["tag_not_supported"]
    enabled = {"human_agent_enabled": True}
    assert codes(context(tag="HUMAN_AGENT", promotional=True, settings=enabled)) == [
        "promotional_under_tag"
    ]


def test_one_person_at_a_time_and_no_templates():
    assert codes(context(extra_recipients=["7181960392514783"])) == ["too_many_recipients"]
    assert codes(context(template=Template(name="order_update", language="es"))) == [
        "not_supported"
    ]


def test_a_person_who_does_not_accept_messages():
    assert codes(context(recipient_accepts_messages=False)) == ["recipient_does_not_accept_dms"]
    assert codes(context(recipient_accepts_messages=None)) == []


def private(**kw: Any) -> ReplyContext:
    kw.setdefault("comment_sent_at", NOW - timedelta(days=1))
    kw.setdefault("kind", Kind.comment)
    return context("Ti scriviamo in privato", private_reply_to_message_id=7, **kw)


def test_private_reply_once_within_seven_days():
    assert codes(private()) == []
    assert codes(private(comment_sent_at=NOW - timedelta(days=6, hours=23))) == []
    [expired] = check_reply(private(comment_sent_at=NOW - timedelta(days=8)))
    assert expired.code == "private_reply_expired"
    assert "within 7 days" in expired.message
    assert codes(private(comment_already_private_replied=True)) == ["private_reply_already_sent"]


def test_private_reply_has_no_messaging_window_but_the_dm_size_limit():
    assert codes(private(ago=timedelta(days=5))) == []
    long = context(
        "😀" * 251, kind=Kind.comment, private_reply_to_message_id=7, comment_sent_at=NOW
    )
    assert codes(long) == ["text_too_long"]


def test_no_private_reply_to_a_mention():
    assert codes(private(kind=Kind.mention)) == ["not_supported"]


def test_public_comment_and_mention_replies_have_no_window():
    for kind in (Kind.comment, Kind.mention):
        assert codes(context(kind=kind, ago=timedelta(days=90))) == []
        assert codes(context("😀" * 400, kind=kind)) == []  # 1,600 bytes, 400 characters
        assert codes(context("a" * 2200, kind=kind)) == []
        [long] = check_reply(context("a" * 2201, kind=kind))
        assert long.code == "text_too_long"
        assert "2,200 characters" in long.message
