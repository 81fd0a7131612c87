"""X's rules for a reply: unit checks of ``check_reply``, and the API refusing with the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.channels.x import rules
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template
from tests.integration.channels.x.conftest import GIULIA, LUCIA

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def context(
    text: str = "¡Gracias!",
    *,
    kind: Kind = Kind.dm,
    settings: dict[str, Any] | None = None,
    last_inbound_at: datetime | None = NOW - timedelta(minutes=5),
    accepts: bool | None = None,
    **draft: Any,
) -> ReplyContext:
    return ReplyContext(
        platform=Platform.x,
        kind=kind,
        draft=ReplyDraft(text=text, **draft),
        now=NOW,
        channel_settings=settings or {},
        last_inbound_at=last_inbound_at,
        recipient_accepts_messages=accepts,
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in rules.check_reply(ctx)]


def test_a_dm_may_have_10000_characters_not_more():
    assert codes(context("a" * 10_000)) == []
    [violation] = rules.check_reply(context("a" * 10_001))
    assert violation.code == "text_too_long"
    assert "10,000" in violation.message
    assert "10,001" in violation.message


def test_the_account_may_write_first_with_no_window():
    assert codes(context(last_inbound_at=None)) == []
    assert codes(context(last_inbound_at=NOW - timedelta(days=400))) == []


def test_a_person_who_does_not_accept_dms_cannot_be_written_to():
    [violation] = rules.check_reply(context(accepts=False))
    assert violation.code == "recipient_does_not_accept_dms"
    assert "does not accept direct messages" in violation.message
    assert codes(context(accepts=True)) == []
    assert codes(context(accepts=None)) == []  # unknown: X decides (349)


def test_a_group_dm_holds_at_most_50_people():
    others = [str(1_000_000 + n) for n in range(48)]
    assert codes(context(extra_recipients=others)) == []  # 49 others + the account
    [violation] = rules.check_reply(context(extra_recipients=[*others, "999"]))
    assert violation.code == "too_many_recipients"
    assert "50 people" in violation.message
    assert "50 others" in violation.message


def test_a_mention_reply_is_a_post_of_280():
    assert codes(context("a" * 280, kind=Kind.mention)) == []
    [violation] = rules.check_reply(context("a" * 281, kind=Kind.mention))
    assert violation.code == "text_too_long"
    assert "280 characters for a post reply" in violation.message
    assert "X Premium accounts may post longer" in violation.message


def test_x_counts_links_as_23_and_wide_characters_as_2():
    link = "https://cafeaurora.example/" + "x" * 200
    assert rules.post_length(f"Mira {link}") == 5 + 23
    assert rules.post_length("咖啡") == 4
    assert rules.post_length("☕") == 2
    assert rules.post_length("👍🏽") == 2
    assert rules.post_length("café") == 4
    assert codes(context("咖" * 141, kind=Kind.mention)) == ["text_too_long"]
    assert codes(context(f"{'a' * 250} {link}", kind=Kind.mention)) == []


def test_long_posts_raise_the_limit_for_premium_accounts():
    long_text = "Grazie " * 1000  # 7,000 characters
    assert codes(context(long_text, kind=Kind.mention, settings={"long_posts": True})) == []
    [violation] = rules.check_reply(
        context("a" * 25_001, kind=Kind.mention, settings={"long_posts": True})
    )
    assert violation.code == "text_too_long"
    assert "25,000" in violation.message


@pytest.mark.parametrize(
    ("kind", "draft"),
    [
        (Kind.dm, {"template": Template(name="welcome", language="en")}),
        (Kind.dm, {"tag": "HUMAN_AGENT"}),
        (Kind.mention, {"extra_recipients": ["123"]}),
        (Kind.mention, {"private_reply_to_message_id": 7}),
    ],
)
def test_what_x_does_not_have_is_refused(kind, draft):
    assert codes(context(kind=kind, **draft)) == ["not_supported"]


async def test_the_api_refuses_a_dm_to_someone_who_does_not_accept_them(x, workers):
    await x.deliver_fixture("direct_message_events__media")  # Giulia: receives_your_dm false
    await workers.drain()
    conversation = await x.detail(GIULIA.id)
    response = await x.reply(conversation.id, text="Ci scusiamo, ti rimborsiamo subito")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "rule:recipient_does_not_accept_dms"
    assert "does not accept direct messages" in error["message"]
    assert len(await x.thread(GIULIA.id)) == 1  # nothing stored, nothing queued


async def test_the_api_refuses_a_post_reply_over_280_unless_long_posts(x, workers, db):
    await x.deliver_fixture("tweet_create_events__reply_to_us")
    await workers.drain()
    conversation = (await x.conversations())[0]
    text = "¡Sí! " + "Tenemos el menú de otoño en todas las tiendas. " * 6
    response = await x.reply(conversation.id, text=text)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rule:text_too_long"

    x.channel.settings = {**x.channel.settings, "long_posts": True}
    db.add(x.channel)
    await db.commit()
    response = await x.reply(conversation.id, text=text)
    assert response.status_code == 202, response.text


async def test_the_api_refuses_a_group_dm_of_51(x, workers):
    await x.deliver_fixture("direct_message_events__text")
    await workers.drain()
    conversation = await x.detail(LUCIA.id)
    extra = [str(2_000_000 + n) for n in range(49)]
    response = await x.reply(conversation.id, text="Hola a todos", extra_recipients=extra)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rule:too_many_recipients"
