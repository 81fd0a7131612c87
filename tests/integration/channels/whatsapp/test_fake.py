"""The sandbox's WhatsApp is faithful: what it delivers is signed as Meta signs and reads back, by
the real parser, as the event that was simulated; and the whole loop runs through the engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.sandbox.contract import (
    SandboxChannel,
    SimDelete,
    SimEcho,
    SimEdit,
    SimEvent,
    SimMessage,
    SimOptOut,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.channels.sandbox.engine import Sandbox
from bandeja.channels.whatsapp import CONNECTOR
from bandeja.channels.whatsapp.fake import FAKE
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.ingest.types import (
    EchoReceived,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    PlatformEvent,
    ReactionChanged,
    StatusChanged,
)
from bandeja.core.messages.models import DeliveryStatus, Direction

from .conftest import APP_SECRET, GIULIA, LUCIA, PHONE_ID, WhatsApp

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _sandbox_channel() -> SandboxChannel:
    return SandboxChannel(
        bandeja_id=7,
        platform=Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        secrets={"signing_secret": APP_SECRET},
        webhook_url="http://testserver/webhooks/whatsapp/7",
    )


def _config() -> ChannelConfig:
    return ChannelConfig(
        id=7,
        workspace_id=1,
        platform=Platform.whatsapp,
        external_id=PHONE_ID,
        name="Pastelería Sol",
        secrets={"signing_secret": APP_SECRET},
        settings={},
    )


def _round_trip(event: SimEvent) -> list[PlatformEvent]:
    [delivery] = FAKE.deliveries(_sandbox_channel(), event)
    assert delivery.url == "http://testserver/webhooks/whatsapp/7"
    assert delivery.headers["Content-Type"] == "application/json"
    CONNECTOR.verify(_config(), delivery.headers, delivery.body)  # raises if not Meta's scheme
    delivery.body.decode("ascii")  # non-ASCII is escaped, as Meta sends it
    return CONNECTOR.parse(_config(), delivery.body)


def test_a_customer_message():
    [event] = _round_trip(
        SimMessage(
            person=LUCIA,
            message_id="wamid.in1",
            at=AT,
            text="¿Tenéis roscón de Reyes?",
            reply_to_message_id="wamid.out1",
        )
    )
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.external_id, event.text) == (
        Kind.dm,
        LUCIA.id,
        "wamid.in1",
        "¿Tenéis roscón de Reyes?",
    )
    assert (event.sender.display_name, event.sender.handle) == ("Lucía Fernández", LUCIA.id)
    assert (event.sent_at, event.reply_to_external_id) == (AT, "wamid.out1")


@pytest.mark.parametrize(
    ("attachment", "expected"),
    [
        (
            {"type": "image", "mime_type": "image/png", "media_id": "42"},
            {"type": "image", "media_id": "42", "mime_type": "image/png"},
        ),
        (
            {"type": "document", "name": "menu.pdf"},
            {"type": "document", "mime_type": "application/pdf", "name": "menu.pdf"},
        ),
        (
            {"type": "audio"},
            {"type": "audio", "mime_type": "audio/ogg; codecs=opus", "voice": True},
        ),
        (
            {"type": "location", "latitude": 45.4642, "longitude": 9.19, "name": "Duomo"},
            {"type": "location", "latitude": 45.4642, "longitude": 9.19, "name": "Duomo"},
        ),
    ],
)
def test_attachments(attachment, expected):
    [event] = _round_trip(
        SimMessage(
            person=GIULIA,
            message_id="wamid.in2",
            at=AT,
            text="Guarda qui",
            attachments=[attachment],
        )
    )
    assert isinstance(event, MessageReceived)
    [got] = event.attachments
    assert {k: v for k, v in got.items() if k not in ("sha256", "media_id")} == {
        k: v for k, v in expected.items() if k != "media_id"
    }
    if "media_id" in expected:
        assert got["media_id"] == expected["media_id"]


def test_comments_and_mentions_do_not_exist_on_whatsapp():
    for kind in ("comment", "mention"):
        event = SimMessage(
            person=LUCIA, message_id="x", text="hola", at=AT, kind=kind, post_id="p1"
        )
        assert FAKE.deliveries(_sandbox_channel(), event) == []
    assert FAKE.deliveries(_sandbox_channel(), SimRead(person=LUCIA, at=AT)) == []
    assert (
        FAKE.deliveries(
            _sandbox_channel(), SimDelete(person=LUCIA, message_id="x", at=AT, kind="comment")
        )
        == []
    )


def test_reactions_edits_and_revokes():
    [added] = _round_trip(SimReaction(person=LUCIA, message_id="wamid.out1", reaction="🎉", at=AT))
    [removed] = _round_trip(
        SimReaction(person=LUCIA, message_id="wamid.out1", reaction=None, at=AT)
    )
    [edited] = _round_trip(
        SimEdit(person=LUCIA, message_id="wamid.in1", text="Dos roscones", at=AT)
    )
    [deleted] = _round_trip(SimDelete(person=LUCIA, message_id="wamid.in1", at=AT))
    assert added == ReactionChanged("wamid.out1", LUCIA.id, "🎉", AT)
    assert removed == ReactionChanged("wamid.out1", LUCIA.id, None, AT)
    assert edited == MessageEdited("wamid.in1", "Dos roscones", AT)
    assert deleted == MessageDeleted("wamid.in1", AT)


def test_statuses_reads_echoes_and_opt_outs():
    [failed] = _round_trip(
        SimStatus(
            person=LUCIA, message_id="wamid.out1", status="failed", at=AT, error_code="131050"
        )
    )
    assert isinstance(failed, StatusChanged)
    assert (failed.status, failed.error_code) == ("failed", "131050")
    assert "stop receiving marketing messages" in (failed.error_message or "")
    [read] = _round_trip(SimRead(person=LUCIA, at=AT, message_id="wamid.out1"))
    assert read == StatusChanged("wamid.out1", "read", AT)
    [echo] = _round_trip(SimEcho(person=LUCIA, message_id="wamid.app1", text="¡Hecho!", at=AT))
    assert isinstance(echo, EchoReceived)
    assert echo.recipient is not None
    assert (echo.recipient.external_id, echo.text, echo.external_id) == (
        LUCIA.id,
        "¡Hecho!",
        "wamid.app1",
    )
    [stop] = _round_trip(SimOptOut(person=LUCIA, opted_in=False, at=AT))
    [resume] = _round_trip(SimOptOut(person=LUCIA, opted_in=True, at=AT))
    assert isinstance(stop, MarketingPreference)
    assert isinstance(resume, MarketingPreference)
    assert (stop.opted_in, resume.opted_in, stop.at) == (False, True, AT)


def test_the_same_simulated_event_gives_the_same_body():
    event = SimReaction(person=LUCIA, message_id="wamid.out1", reaction="👍", at=AT)
    [a] = FAKE.deliveries(_sandbox_channel(), event)
    [b] = FAKE.deliveries(_sandbox_channel(), event)
    assert a.body == b.body  # a platform retry: stored once by Bandeja


async def test_the_engine_loop_traffic_replies_and_statuses(api: WhatsApp, workers, sandbox):
    engine = Sandbox(api.client, duplicate_rate=0.5, seed=11, state=sandbox)
    engine.add_channel(api.sandbox_channel())
    for _ in range(12):
        engine.tick()
    await engine.deliverer.flush()
    await workers.drain()
    assert engine.deliverer.stats.delivered == engine.deliverer.stats.attempts
    raws = await api.raw_events()
    assert raws
    assert all(r.status is RawEventStatus.processed for r in raws)
    conversations = await api.conversations()
    assert conversations
    assert all(c.kind is Kind.dm for c in conversations)
    # Reply to the newest conversation; the engine reports sent → delivered → read.
    newest = max(conversations, key=lambda c: c.last_inbound_at or c.created_at)
    response = await api.reply(newest.id, text="Grazie! / ¡Gracias! / Thanks!")
    assert response.status_code == 202, response.text
    await workers.drain()
    await engine.deliverer.flush()
    await workers.drain()
    reply = await api.message(response.json()["id"])
    assert (reply.direction, reply.status) == (Direction.outbound, DeliveryStatus.read)
    assert "status_unknown_message" not in await api.ignored()
