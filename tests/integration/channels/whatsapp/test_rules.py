"""WhatsApp's reply rules: ``check_reply`` on its own, and the API refusing with the rule's code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bandeja.channels.sandbox.contract import SimMessage
from bandeja.channels.whatsapp import rules
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.outbox.types import ReplyContext, ReplyDraft, Template

from .conftest import LUCIA, now

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEMPLATE = Template(name="pedido_listo", language="es_ES", parameters=["Lucía", "1043"])


def context(
    text: str = "¡Hola! Sí, abrimos a las 8:00.",
    *,
    wrote_ago: timedelta | None = timedelta(hours=1),
    kind: Kind = Kind.dm,
    opt_in: bool | None = None,
    **draft: object,
) -> ReplyContext:
    return ReplyContext(
        platform=Platform.whatsapp,
        kind=kind,
        draft=ReplyDraft(text=text, **draft),  # type: ignore[arg-type]
        now=NOW,
        channel_settings={},
        last_inbound_at=None if wrote_ago is None else NOW - wrote_ago,
        recipient_marketing_opt_in=opt_in,
    )


def codes(ctx: ReplyContext) -> list[str]:
    return [v.code for v in rules.check_reply(ctx)]


def test_a_text_inside_the_window_is_fine():
    assert codes(context()) == []
    assert codes(context("x" * 4096, wrote_ago=timedelta(hours=23, minutes=59))) == []


def test_text_limit_is_4096_characters():
    [violation] = rules.check_reply(context("ñ" * 4097))  # characters, not bytes
    assert violation.code == "text_too_long"
    assert "4,096 characters" in violation.message
    assert "4,097" in violation.message


def test_outside_the_window_only_a_template():
    [violation] = rules.check_reply(context(wrote_ago=timedelta(hours=30)))
    assert violation.code == "template_required"
    assert violation.message == (
        "the 24-hour WhatsApp messaging window closed 6 h ago; only an "
        "approved template can be sent now"
    )


def test_the_business_cannot_start_without_a_template():
    [violation] = rules.check_reply(context(wrote_ago=None))
    assert violation.code == "template_required"
    assert "has not written" in violation.message


@pytest.mark.parametrize("wrote_ago", [None, timedelta(days=40), timedelta(minutes=5)])
def test_a_template_goes_anywhere(wrote_ago):
    assert codes(context("", wrote_ago=wrote_ago, template=TEMPLATE)) == []


def test_a_template_with_text_is_refused():
    [violation] = rules.check_reply(context("Hola", template=TEMPLATE))
    assert violation.code == "template_has_text"
    assert "template carries its own" in violation.message


def test_promotional_template_needs_marketing_consent():
    refused = context("", template=TEMPLATE, promotional=True, opt_in=False)
    [violation] = rules.check_reply(refused)
    assert violation.code == "no_marketing_consent"
    assert "stopped marketing messages" in violation.message
    # Not promotional, or consent unknown or given: allowed.
    assert codes(context("", template=TEMPLATE, promotional=False, opt_in=False)) == []
    assert codes(context("", template=TEMPLATE, promotional=True, opt_in=None)) == []
    assert codes(context("", template=TEMPLATE, promotional=True, opt_in=True)) == []


@pytest.mark.parametrize("kind", [Kind.comment, Kind.mention])
def test_only_direct_messages(kind):
    assert codes(context(kind=kind)) == ["not_supported"]


def test_no_tags_and_one_recipient():
    assert codes(context(tag="HUMAN_AGENT")) == ["not_supported"]
    assert codes(context(extra_recipients=["393471234567"])) == ["too_many_recipients"]


def test_every_problem_is_reported():
    assert codes(context("x" * 5000, wrote_ago=timedelta(days=2), tag="HUMAN_AGENT")) == [
        "not_supported",
        "text_too_long",
        "template_required",
    ]


# --- through the API ----------------------------------------------------------------------------


async def _conversation(wa, workers, sandbox, *, at: datetime) -> int:
    await wa.emit(
        SimMessage(
            person=LUCIA,
            message_id=f"wamid.in.{at.timestamp()}",
            text="Hola, ¿tenéis tarta de queso?",
            at=at,
        )
    )
    await workers.drain()
    [conversation] = await wa.conversations()
    return int(conversation.id)


async def test_api_refuses_a_text_outside_the_window(api, workers, sandbox):
    conversation = await _conversation(api, workers, sandbox, at=now() - timedelta(hours=25))
    response = await api.reply(conversation, text="¡Sí! Tenemos tarta de queso.")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "rule:template_required"
    assert "24-hour WhatsApp messaging window closed" in error["message"]
    assert [m.direction.value for m in await api.messages()] == ["inbound"]
    assert sandbox.sent == []


async def test_api_refuses_by_rule_inside_the_window(api, workers, sandbox):
    conversation = await _conversation(api, workers, sandbox, at=now() - timedelta(minutes=3))
    cases: list[tuple[dict[str, object], str]] = [
        ({"text": "a" * 4097}, "rule:text_too_long"),
        (
            {"text": "Hola", "template": {"name": "pedido_listo", "language": "es_ES"}},
            "rule:template_has_text",
        ),
        ({"text": "Hola", "tag": "HUMAN_AGENT"}, "rule:not_supported"),
    ]
    for body, code in cases:
        response = await api.reply(conversation, **body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
    assert [m.direction.value for m in await api.messages()] == ["inbound"]
