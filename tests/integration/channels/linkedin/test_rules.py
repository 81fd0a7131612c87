"""LinkedIn's reply rules, unit by unit, and refusals through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.channels.linkedin.rules import check_reply
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template

from .conftest import seed_api

NOW = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)


def context(text: str = "Thanks!", *, kind: Kind = Kind.comment, **draft: Any):
    return ReplyContext(
        platform=Platform.linkedin,
        kind=kind,
        draft=ReplyDraft(text=text, **draft),
        now=NOW,
        channel_settings={},
        last_inbound_at=NOW - timedelta(days=90),
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in check_reply(ctx)]


def test_comment_and_mention_replies_have_no_window():
    assert check_reply(context()) == []
    assert check_reply(context(kind=Kind.mention)) == []


def test_1250_characters_pass_1251_do_not():
    assert check_reply(context("a" * 1250)) == []
    [violation] = check_reply(context("é" * 1251))
    assert violation.code == "text_too_long"
    assert "1,250" in violation.message
    assert "comment" in violation.message


def test_pages_cannot_send_direct_messages():
    [violation] = check_reply(context(kind=Kind.dm))
    assert violation.code == "not_supported"
    assert "direct messages" in violation.message


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        ({"private_reply_to_message_id": 3}, "not_supported"),
        ({"template": Template(name="x", language="en")}, "not_supported"),
        ({"tag": "HUMAN_AGENT"}, "not_supported"),
        ({"extra_recipients": ["urn:li:person:abc"]}, "too_many_recipients"),
    ],
)
def test_what_comments_cannot_do(draft, code):
    assert codes(context(**draft)) == [code]


async def test_api_refuses_a_too_long_comment_with_the_rule_code(api, workers, sandbox):
    seed_api()
    await api.deliver_fixture("comment__ids_only")
    await workers.drain()
    [conversation] = await api.conversations()
    response = await api.reply(conversation.id, text="é" * 1251)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rule:text_too_long"
    assert sandbox.sent == []


async def test_api_refuses_a_private_reply(api, workers, sandbox):
    seed_api()
    await api.deliver_fixture("comment__ids_only")
    await workers.drain()
    [conversation] = await api.conversations()
    [comment] = await api.messages()
    response = await api.reply(
        conversation.id, text="Te escribo por privado", private_reply_to=comment.id
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rule:not_supported"
