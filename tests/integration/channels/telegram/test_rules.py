"""Telegram's reply rules, unit by unit, and one refusal through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.channels.telegram.rules import check_reply
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template

NOW = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)


def context(
    text: str = "¡Hola!",
    *,
    kind: Kind = Kind.dm,
    last_inbound_at: datetime | None = NOW - timedelta(days=40),
    **draft: Any,
):
    return ReplyContext(
        platform=Platform.telegram,
        kind=kind,
        draft=ReplyDraft(text=text, **draft),
        now=NOW,
        channel_settings={},
        last_inbound_at=last_inbound_at,
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in check_reply(ctx)]


def test_a_dm_weeks_after_the_last_message_is_fine_there_is_no_window():
    assert check_reply(context(last_inbound_at=NOW - timedelta(days=400))) == []


def test_4096_characters_pass_4097_do_not():
    assert check_reply(context("a" * 4096)) == []
    [violation] = check_reply(context("ñ" * 4097))
    assert violation.code == "text_too_long"
    assert "4,096" in violation.message
    assert "4,097" in violation.message


def test_the_person_must_press_start_first():
    [violation] = check_reply(context(last_inbound_at=None))
    assert violation.code == "business_cannot_start"
    assert "Start" in violation.message


def test_group_mentions_are_answered_in_the_group():
    assert check_reply(context(kind=Kind.mention)) == []


def test_there_are_no_comment_threads():
    assert codes(context(kind=Kind.comment)) == ["not_supported"]


@pytest.mark.parametrize(
    "draft",
    [
        {"template": Template(name="welcome", language="es")},
        {"tag": "HUMAN_AGENT"},
        {"private_reply_to_message_id": 12},
    ],
)
def test_meta_only_features_are_not_supported(draft):
    assert codes(context(**draft)) == ["not_supported"]


def test_one_chat_per_message():
    assert codes(context(extra_recipients=["4876543210"])) == ["too_many_recipients"]


def test_several_problems_are_all_reported():
    assert codes(context("x" * 5000, last_inbound_at=None)) == [
        "text_too_long",
        "business_cannot_start",
    ]


async def test_api_refuses_a_too_long_reply_with_the_rule_code(api, workers):
    await api.deliver_fixture("message__private_text")
    await workers.drain()
    [conversation] = await api.conversations()
    response = await api.reply(conversation.id, text="ñ" * 4097)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "rule:text_too_long"
    assert "4,096" in error["message"]
    assert [m.direction.value for m in await api.messages()] == ["inbound"]
