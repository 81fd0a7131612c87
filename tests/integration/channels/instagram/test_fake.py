"""The sandbox's Instagram: webhooks our parser reads exactly as it reads Meta's, signed as Meta
signs them, and Graph API answers in Graph's shapes (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bandeja.channels.base import ChannelConfig, SendRequest
from bandeja.channels.instagram import CONNECTOR
from bandeja.channels.instagram.fake import FAKE, MESSAGES_PER_SECOND
from bandeja.channels.sandbox.contract import (
    SandboxChannel,
    SimDelete,
    SimEcho,
    SimEdit,
    SimEvent,
    SimMessage,
    SimOptOut,
    SimPerson,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.channels.sandbox.state import SandboxState
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    PlatformEvent,
    ReactionChanged,
    StatusChanged,
)
from tests.integration.channels.instagram.conftest import (
    ACCESS_TOKEN,
    ACCOUNT,
    APP_SECRET,
    GIULIA,
    LUCIA,
    OLIVIA,
)

AT = datetime(2026, 11, 22, 10, 15, 30, 250000, tzinfo=UTC)
SBX = SandboxChannel(
    bandeja_id=1,
    platform=Platform.instagram,
    external_id=ACCOUNT,
    name="@bottega.aurora",
    secrets={"signing_secret": APP_SECRET, "access_token": ACCESS_TOKEN},
    webhook_url="http://testserver/webhooks/instagram/1",
)
CONFIG = ChannelConfig(
    id=1,
    workspace_id=1,
    platform=Platform.instagram,
    external_id=ACCOUNT,
    name="@bottega.aurora",
    secrets={"signing_secret": APP_SECRET, "access_token": ACCESS_TOKEN},
    settings={"api_base_url": "http://sandbox"},
)


def received(event: SimEvent) -> list[PlatformEvent]:
    """What Bandeja makes of the fake's webhook(s) for ``event``: verified, then parsed."""
    events: list[PlatformEvent] = []
    for delivery in FAKE.deliveries(SBX, event):
        assert delivery.url == SBX.webhook_url
        CONNECTOR.verify(CONFIG, delivery.headers, delivery.body)  # raises if badly signed
        assert delivery.body.isascii()  # Meta escapes non-ASCII text
        events.extend(CONNECTOR.parse(CONFIG, delivery.body))
    return events


def test_dm_round_trip():
    [event] = received(
        SimMessage(
            person=LUCIA,
            message_id="mid.1",
            text="¿Abrís el domingo? 😊",
            at=AT,
            reply_to_message_id="mid.0",
            attachments=[{"type": "image", "url": "https://x/1.jpg"}],
        )
    )
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.sender.external_id) == (
        Kind.dm,
        LUCIA.id,
        LUCIA.id,
    )
    assert (event.external_id, event.text) == ("mid.1", "¿Abrís el domingo? 😊")
    assert event.sent_at == AT.replace(microsecond=250000)
    assert event.reply_to_external_id == "mid.0"
    assert event.attachments == [{"type": "image", "url": "https://x/1.jpg"}]


def test_comment_round_trip():
    [event] = received(
        SimMessage(
            person=GIULIA,
            message_id="c.2",
            text="Che bello!",
            at=AT,
            kind="comment",
            post_id="1807",
            parent_id="c.1",
        )
    )
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.thread.subject) == (
        Kind.comment,
        "c.1",
        "Instagram post 1807",
    )
    assert (event.sender.external_id, event.sender.handle) == (GIULIA.id, GIULIA.handle)
    assert event.sent_at == AT.replace(microsecond=0)  # entry.time is in seconds for changes


def test_mention_round_trip_carries_ids_only():
    [event] = received(
        SimMessage(
            person=OLIVIA,
            message_id="c.9",
            text="@bottega.aurora yum",
            at=AT,
            kind="mention",
            post_id="m.9",
        )
    )
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.text) == (Kind.mention, "m.9_c.9", "")
    assert event.attachments[0]["comment_id"] == "c.9"


def test_reaction_edit_delete_read_echo_round_trips():
    FAKE.deliveries(SBX, SimMessage(person=LUCIA, message_id="mid.5", text="Hola", at=AT))
    assert received(SimReaction(person=LUCIA, message_id="mid.5", reaction="😂", at=AT)) == [
        ReactionChanged(
            external_id="mid.5",
            person_external_id=LUCIA.id,
            reaction="😂",
            at=AT.replace(microsecond=250000),
        )
    ]
    [unreact] = received(SimReaction(person=LUCIA, message_id="mid.5", reaction=None, at=AT))
    assert isinstance(unreact, ReactionChanged)
    assert unreact.reaction is None
    [first] = received(SimEdit(person=LUCIA, message_id="mid.5", text="Hola!", at=AT))
    [second] = received(SimEdit(person=LUCIA, message_id="mid.5", text="Hola!!", at=AT))
    assert isinstance(first, MessageEdited)
    assert isinstance(second, MessageEdited)
    assert second.text == "Hola!!"
    assert isinstance(
        received(SimDelete(person=LUCIA, message_id="mid.5", at=AT))[0], MessageDeleted
    )
    [read] = received(SimRead(person=LUCIA, at=AT, message_id="out.1"))
    assert isinstance(read, StatusChanged)
    assert (read.external_id, read.status) == ("out.1", "read")
    [echo] = received(SimEcho(person=LUCIA, message_id="out.2", text="¡Sí!", at=AT))
    assert isinstance(echo, EchoReceived)
    assert echo.recipient is not None
    assert (echo.thread.key, echo.recipient.external_id, echo.text) == (LUCIA.id, LUCIA.id, "¡Sí!")


def test_what_instagram_never_sends():
    FAKE.deliveries(
        SBX,
        SimMessage(
            person=GIULIA, message_id="c.20", text="Top", at=AT, kind="comment", post_id="1807"
        ),
    )
    for event in (
        SimReaction(person=GIULIA, message_id="c.20", reaction="❤️", at=AT),
        SimEdit(person=GIULIA, message_id="c.20", text="Top!", at=AT),
        SimDelete(person=GIULIA, message_id="c.20", at=AT, kind="comment"),
        SimRead(person=GIULIA, at=AT),
        SimRead(person=GIULIA, at=AT, message_id="out.1", status="delivered"),
        SimStatus(person=GIULIA, message_id="out.1", status="delivered", at=AT),
        SimOptOut(person=GIULIA, opted_in=False, at=AT),
    ):
        assert FAKE.deliveries(SBX, event) == [], event


# --- Graph API ---------------------------------------------------------------------------------


@pytest.fixture
def state():
    sandbox = SandboxState()
    sandbox.add_channel(SBX)
    for person in (LUCIA, GIULIA, OLIVIA):
        sandbox.add_person(Platform.instagram, person)
    return sandbox


@pytest.fixture
async def graph(state):
    app = Starlette(routes=FAKE.routes(state))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as client:
        yield client


AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


def dm(text: str = "Hola", to: str = LUCIA.id, **extra: Any) -> dict[str, Any]:
    return {"recipient": {"id": to}, "message": {"text": text}, **extra}


def error_of(response: httpx.Response) -> tuple[int, int, int | None]:
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code", "fbtrace_id"}
    return response.status_code, error["code"], error.get("error_subcode")


async def test_send_answers_in_graphs_shape_and_replays_by_key(graph, state):
    state.wrote(SBX, LUCIA.id, datetime.now(UTC))
    headers = {**AUTH, "Idempotency-Key": "bdj-1"}
    first = await graph.post(f"/{ACCOUNT}/messages", json=dm(), headers=headers)
    again = await graph.post(f"/{ACCOUNT}/messages", json=dm(), headers=headers)
    assert first.status_code == 200
    assert (
        first.json()
        == again.json()
        == {"recipient_id": LUCIA.id, "message_id": state.sent[0].message_id}
    )
    assert len(state.sent) == 1
    assert state.sent[0].idempotency_key == "bdj-1"


async def test_graph_errors(graph, state):
    state.wrote(SBX, LUCIA.id, datetime.now(UTC))
    state.wrote(SBX, GIULIA.id, datetime.now(UTC) - timedelta(days=2))
    state.add_person(
        Platform.instagram,
        SimPerson(id="42", name="No DMs", handle="nodms", language="en", accepts_dms=False),
    )
    state.wrote(SBX, "42", datetime.now(UTC))
    post = graph.post
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm())) == (400, 190, None)
    assert error_of(await post("/17841400000000999/messages", json=dm(), headers=AUTH)) == (
        400,
        100,
        33,
    )
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm("😀" * 251), headers=AUTH)) == (
        400,
        100,
        None,
    )
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm(""), headers=AUTH)) == (
        400,
        100,
        None,
    )
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm(to=GIULIA.id), headers=AUTH)) == (
        400,
        10,
        2534022,
    )
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm(to=OLIVIA.id), headers=AUTH)) == (
        400,
        10,
        2534022,
    )  # never wrote
    assert error_of(await post(f"/{ACCOUNT}/messages", json=dm(to="42"), headers=AUTH)) == (
        400,
        551,
        1545041,
    )
    assert error_of(
        await post(f"/{ACCOUNT}/messages", json=dm(tag="ACCOUNT_UPDATE"), headers=AUTH)
    ) == (400, 100, None)
    tagged = dm(to=GIULIA.id, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert (await post(f"/{ACCOUNT}/messages", json=tagged, headers=AUTH)).status_code == 200
    assert [r.recipient_id for r in state.sent] == [GIULIA.id]


async def test_rate_limit_and_injected_failures(graph, state):
    state.wrote(SBX, LUCIA.id, datetime.now(UTC))
    state.inject_failure(
        Platform.instagram,
        503,
        {"error": {"message": "down", "code": 2, "type": "OAuthException", "fbtrace_id": "x"}},
        {"Retry-After": "30"},
    )
    down = await graph.post(f"/{ACCOUNT}/messages", json=dm(), headers=AUTH)
    assert (down.status_code, down.headers["retry-after"]) == (503, "30")
    codes = []
    for _ in range(MESSAGES_PER_SECOND + 1):
        response = await graph.post(f"/{ACCOUNT}/messages", json=dm(), headers=AUTH)
        codes.append(response.status_code if response.status_code == 200 else error_of(response)[1])
    assert codes.count(200) == MESSAGES_PER_SECOND
    assert codes[-1] == 613


async def test_comment_replies_mentions_and_private_replies(graph, state):
    FAKE.deliveries(
        SBX,
        SimMessage(
            # Recent, not AT: a private reply is only allowed within 7 days of the comment.
            person=GIULIA,
            message_id="c.30",
            text="Prezzo?",
            at=datetime.now(UTC) - timedelta(hours=1),
            kind="comment",
            post_id="1807",
        ),
    )
    FAKE.deliveries(
        SBX,
        SimMessage(
            person=OLIVIA,
            message_id="c.31",
            text="@bottega.aurora",
            at=AT,
            kind="mention",
            post_id="m.31",
        ),
    )
    reply = await graph.post("/c.30/replies", json={"message": "49 €"}, headers=AUTH)
    assert reply.json() == {"id": state.sent[-1].message_id}
    assert (state.sent[-1].recipient_id, state.sent[-1].payload) == ("c.30", {"message": "49 €"})
    assert error_of(await graph.post("/c.30/replies", json={"message": ""}, headers=AUTH)) == (
        400,
        100,
        None,
    )
    assert error_of(await graph.post("/c.30/replies", json={"message": "a" * 2201}, headers=AUTH))[
        :2
    ] == (400, 100)
    # A mention reply needs the media, and the right one.
    mention = {"media_id": "m.31", "comment_id": "c.31", "message": "Thanks!"}
    assert (await graph.post(f"/{ACCOUNT}/mentions", json=mention, headers=AUTH)).status_code == 200
    assert state.sent[-1].recipient_id == "c.31"
    assert error_of(
        await graph.post(f"/{ACCOUNT}/mentions", json={**mention, "media_id": ""}, headers=AUTH)
    ) == (400, 100, None)
    assert error_of(
        await graph.post(f"/{ACCOUNT}/mentions", json={**mention, "media_id": "m.1"}, headers=AUTH)
    ) == (400, 100, None)
    # A private reply reaches the commenter, once.
    private = {"recipient": {"comment_id": "c.30"}, "message": {"text": "Ti scriviamo"}}
    ok = await graph.post(f"/{ACCOUNT}/messages", json=private, headers=AUTH)
    assert ok.json()["recipient_id"] == GIULIA.id
    assert error_of(await graph.post(f"/{ACCOUNT}/messages", json=private, headers=AUTH)) == (
        400,
        10,
        2534023,
    )
    # Graph also takes form parameters.
    form = await graph.post("/c.30/replies", data={"message": "Grazie!"}, headers=AUTH)
    assert form.status_code == 200
    assert state.sent[-1].text == "Grazie!"


async def test_graph_reads_mentions_and_profiles(graph, state):
    FAKE.deliveries(
        SBX,
        SimMessage(
            person=OLIVIA,
            message_id="c.40",
            text="Love @bottega.aurora",
            at=AT,
            kind="mention",
            post_id="m.40",
        ),
    )
    fields = "mentioned_comment.comment_id(c.40){id,text,timestamp,username,media{id,permalink}}"
    read = await graph.get(f"/{ACCOUNT}", params={"fields": fields}, headers=AUTH)
    assert read.status_code == 200
    node = read.json()["mentioned_comment"]
    assert node["text"] == "Love @bottega.aurora"
    assert node["timestamp"] == "2026-11-22T10:15:30+0000"
    assert node["username"] == OLIVIA.handle
    assert node["media"]["id"] == "m.40"
    assert "from" not in node  # only what was asked
    assert "like_count" not in node
    unknown = await graph.get(
        f"/{ACCOUNT}", params={"fields": fields.replace("c.40", "c.41")}, headers=AUTH
    )
    assert error_of(unknown) == (400, 100, 33)
    profile = await graph.get(f"/{LUCIA.id}", params={"fields": "name,username"}, headers=AUTH)
    assert profile.json() == {"name": LUCIA.name, "username": LUCIA.handle, "id": LUCIA.id}
    assert error_of(await graph.get("/123", headers=AUTH)) == (400, 100, 33)
    assert error_of(await graph.get(f"/{LUCIA.id}")) == (400, 190, None)


async def test_the_connector_sends_through_the_fake(state):
    """``send.py`` against the fake's routes, without a database: the whole request shape."""
    state.wrote(SBX, LUCIA.id, datetime.now(UTC))
    app = Starlette(routes=FAKE.routes(state))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        result = await CONNECTOR.send(
            client,
            CONFIG,
            SendRequest(
                message_id=1,
                idempotency_key="bdj-9",
                text="¡Hola!",
                kind=Kind.dm,
                thread_key=LUCIA.id,
                recipient_id=LUCIA.id,
            ),
        )
    assert (result.external_id, result.recipient_id) == (state.sent[0].message_id, LUCIA.id)
    assert state.sent[0].idempotency_key == "bdj-9"


def test_echoes_after_sends():
    person = SimPerson(id=LUCIA.id, name="", handle="", language="en")
    state = SandboxState()
    dm_record = state.record_send(SBX, LUCIA.id, "Hola", dm(), "k1")
    [echo] = FAKE.echoes(SBX, dm_record)
    assert echo == SimEcho(
        person=person, message_id=dm_record.message_id, text="Hola", at=dm_record.at
    )
    FAKE.deliveries(
        SBX,
        SimMessage(
            person=GIULIA, message_id="c.50", text="?", at=AT, kind="comment", post_id="1807"
        ),
    )
    reply = state.record_send(SBX, "c.50", "Ciao", {"message": "Ciao"}, "k2")
    [own] = FAKE.echoes(SBX, reply)
    assert isinstance(own, SimMessage)
    assert (own.person.id, own.kind, own.parent_id, own.post_id) == (
        ACCOUNT,
        "comment",
        "c.50",
        "1807",
    )
    [parsed] = received(own)
    assert isinstance(parsed, EchoReceived)
    assert (parsed.thread.key, parsed.external_id) == ("c.50", reply.message_id)
    mention = state.record_send(SBX, "c.51", "Thanks", {"media_id": "m", "message": "Thanks"}, "k3")
    assert FAKE.echoes(SBX, mention) == []
