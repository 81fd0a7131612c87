"""The sandbox's Messenger: its webhook bodies are what the parser reads (signed as Meta signs
them), and its Graph API answers as Meta does. Unit tests: no database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bandeja.channels.base import ChannelConfig
from bandeja.channels.messenger import CONNECTOR
from bandeja.channels.messenger.fake import FAKE
from bandeja.channels.sandbox.app import sandbox_transport
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
    CommentHidden,
    EchoReceived,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    PlatformEvent,
    ReactionChanged,
    ReadUpTo,
    StatusChanged,
)

from .conftest import ACCESS_TOKEN, APP_SECRET, GIULIA, LUCIA, OLIVIA, PAGE_ID, PAGE_NAME

SANDBOX = SandboxChannel(
    bandeja_id=7,
    platform=Platform.messenger,
    external_id=PAGE_ID,
    name=PAGE_NAME,
    secrets={"signing_secret": APP_SECRET, "access_token": ACCESS_TOKEN},
    webhook_url="http://testserver/webhooks/messenger/7",
)
CONFIG = ChannelConfig(
    id=7,
    workspace_id=1,
    platform=Platform.messenger,
    external_id=PAGE_ID,
    name=PAGE_NAME,
    secrets={"signing_secret": APP_SECRET},
    settings={},
)
AT = datetime(2026, 3, 10, 13, 40, 0, 123000, tzinfo=UTC)
POST = f"{PAGE_ID}_1300000000000001"
TOP, REPLY = "1300000000000001_2400000000000001", "1300000000000001_2400000000000002"


def received(event: SimEvent) -> list[PlatformEvent]:
    """What Bandeja makes of the fake's webhook requests for ``event``."""
    events: list[PlatformEvent] = []
    for delivery in FAKE.deliveries(SANDBOX, event):
        assert delivery.url == SANDBOX.webhook_url
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.body.isascii()  # Meta escapes non-ASCII text
        CONNECTOR.verify(CONFIG, delivery.headers, delivery.body)  # raises if not signed right
        assert json.loads(delivery.body)["object"] == "page"
        events.extend(CONNECTOR.parse(CONFIG, delivery.body))
    return events


def test_a_dm_and_what_follows_it_round_trip() -> None:
    message = SimMessage(
        person=LUCIA,
        message_id="m_1",
        text="¿Abrís hoy?",
        at=AT,
        attachments=[{"type": "image", "url": "https://x/y.jpg"}],
        reply_to_message_id="m_0",
    )
    [event] = received(message)
    assert isinstance(event, MessageReceived)
    assert (event.thread.kind, event.thread.key, event.sender.external_id) == (
        Kind.dm,
        LUCIA.id,
        LUCIA.id,
    )
    assert (event.external_id, event.text, event.sent_at) == ("m_1", "¿Abrís hoy?", AT)
    assert event.attachments == [{"type": "image", "url": "https://x/y.jpg"}]
    assert event.reply_to_external_id == "m_0"
    assert received(SimEdit(person=LUCIA, message_id="m_1", text="¿Abrís mañana?", at=AT)) == [
        MessageEdited("m_1", "¿Abrís mañana?", AT)
    ]
    assert received(SimReaction(person=LUCIA, message_id="m_out", reaction="😢", at=AT)) == [
        ReactionChanged("m_out", LUCIA.id, "😢", AT)
    ]
    assert received(SimReaction(person=LUCIA, message_id="m_out", reaction=None, at=AT)) == [
        ReactionChanged("m_out", LUCIA.id, None, AT)
    ]
    assert received(SimRead(person=LUCIA, at=AT)) == [ReadUpTo(LUCIA.id, AT)]
    assert received(SimRead(person=LUCIA, at=AT, message_id="m_out", status="delivered")) == [
        StatusChanged("m_out", "delivered", AT),
        ReadUpTo(LUCIA.id, AT, status="delivered"),
    ]
    assert received(SimStatus(person=LUCIA, message_id="m_out", status="delivered", at=AT)) == [
        StatusChanged("m_out", "delivered", AT),
        ReadUpTo(LUCIA.id, AT, status="delivered"),
    ]
    assert received(SimStatus(person=LUCIA, message_id="m_out", status="read", at=AT)) == [
        ReadUpTo(LUCIA.id, AT)
    ]


def test_what_messenger_never_sends() -> None:
    assert received(SimDelete(person=LUCIA, message_id="m_1", at=AT)) == []  # no DM unsend
    assert received(SimStatus(person=LUCIA, message_id="m", status="sent", at=AT)) == []
    assert received(SimStatus(person=LUCIA, message_id="m", status="failed", at=AT)) == []
    assert (
        received(SimMessage(person=LUCIA, message_id="m", text="@page", at=AT, kind="mention"))
        == []
    )


def test_echoes_carry_the_metadata() -> None:
    [echo] = received(
        SimEcho(person=GIULIA, message_id="m_e", text="Ciao!", at=AT, metadata="bandeja:k-1")
    )
    assert isinstance(echo, EchoReceived)
    assert echo.recipient is not None
    assert (echo.thread.key, echo.recipient.external_id, echo.metadata) == (
        GIULIA.id,
        GIULIA.id,
        "bandeja:k-1",
    )


def test_opt_in_and_out() -> None:
    [stop] = received(SimOptOut(person=LUCIA, opted_in=False, at=AT))
    [start] = received(SimOptOut(person=LUCIA, opted_in=True, at=AT))
    assert isinstance(stop, MarketingPreference)
    assert isinstance(start, MarketingPreference)
    assert (stop.opted_in, start.opted_in, stop.person.external_id) == (False, True, LUCIA.id)


def test_a_comment_thread_round_trips_with_its_post() -> None:
    later = AT + timedelta(minutes=5)
    [top] = received(
        SimMessage(
            person=OLIVIA,
            message_id=TOP,
            text="Looks delicious! 😍",
            at=AT,
            kind="comment",
            post_id=POST,
            post_text="New autumn menu",
        )
    )
    [reply] = received(
        SimMessage(
            person=GIULIA,
            message_id=REPLY,
            text="Che buono!",
            at=later,
            kind="comment",
            post_id=POST,
            parent_id=TOP,
        )
    )
    assert isinstance(top, MessageReceived)
    assert isinstance(reply, MessageReceived)
    assert (top.thread.kind, top.thread.key, reply.thread.key) == (Kind.comment, TOP, TOP)
    assert top.thread.subject == POST  # comment notifications carry no post text
    assert top.sent_at == AT.replace(microsecond=0)  # feed times are in seconds
    assert (top.sender.display_name, reply.reply_to_external_id) == ("Olivia Bennett", TOP)
    [edit] = received(SimEdit(person=GIULIA, message_id=REPLY, text="Che buono!!", at=later))
    assert isinstance(edit, MessageEdited)
    assert edit.external_id == REPLY
    [like] = received(SimReaction(person=OLIVIA, message_id=REPLY, reaction="❤️", at=later))
    assert like == ReactionChanged(REPLY, OLIVIA.id, "❤️", later.replace(microsecond=0))
    assert received(
        SimDelete(person=GIULIA, message_id=REPLY, at=later, kind="comment", post_id=POST)
    ) == [MessageDeleted(REPLY, later.replace(microsecond=0))]
    # A reply to a reply still belongs to the top-level comment's thread.
    [nested] = received(
        SimMessage(
            person=LUCIA,
            message_id="1300000000000001_2400000000000003",
            text="¡Y en Madrid!",
            at=later,
            kind="comment",
            post_id=POST,
            parent_id=REPLY,
        )
    )
    assert isinstance(nested, MessageReceived)
    assert nested.thread.key == TOP


def test_comment_hidden_is_not_simulated_but_parsed() -> None:
    # The sandbox has no "hide" event; the fixture feed_comment__hide covers it. Make sure the
    # parser's answer to the fake's shape with verb=hide would be right all the same.
    received(
        SimMessage(person=OLIVIA, message_id=TOP, text="x", at=AT, kind="comment", post_id=POST)
    )
    [delivery] = FAKE.deliveries(SANDBOX, SimEdit(person=OLIVIA, message_id=TOP, text="x", at=AT))
    data = json.loads(delivery.body)
    data["entry"][0]["changes"][0]["value"]["verb"] = "hide"
    assert CONNECTOR.parse(CONFIG, json.dumps(data).encode()) == [
        CommentHidden(TOP, True, AT.replace(microsecond=0))
    ]


# --- the Graph API ---------------------------------------------------------------------------


@pytest.fixture
def state() -> SandboxState:
    sandbox = SandboxState()
    sandbox.add_channel(SANDBOX)
    return sandbox


@pytest.fixture
async def graph(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=sandbox_transport(state),
        base_url="http://sandbox/messenger",
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    ) as client:
        yield client


def dm(text: str = "¡Hola!", person: str = LUCIA.id, **more: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": person},
        "messaging_type": "RESPONSE",
        "message": {"text": text, "metadata": "bandeja:k"},
        **more,
    }


def error_of(response: httpx.Response) -> tuple[int, int, int | None, str]:
    error = response.json()["error"]
    assert error["type"]
    assert error["fbtrace_id"]
    return response.status_code, error["code"], error.get("error_subcode"), error["message"]


async def test_a_send_in_the_window_is_recorded(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC) - timedelta(hours=1))
    r = await graph.post(f"/{PAGE_ID}/messages", json=dm(), headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200
    [sent] = state.sent
    assert r.json() == {"recipient_id": LUCIA.id, "message_id": sent.message_id}
    assert (sent.recipient_id, sent.text, sent.idempotency_key) == (LUCIA.id, "¡Hola!", "k1")
    again = await graph.post("/me/messages", json=dm(), headers={"Idempotency-Key": "k1"})
    assert again.json() == r.json()  # the same key: the same answer, nothing new
    assert len(state.sent) == 1


async def test_the_window_and_the_human_agent_tag(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    assert error_of(await graph.post(f"/{PAGE_ID}/messages", json=dm()))[:3] == (400, 10, 2018278)
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC) - timedelta(days=3))
    status, code, subcode, message = error_of(await graph.post(f"/{PAGE_ID}/messages", json=dm()))
    assert (status, code, subcode) == (400, 10, 2018278)
    assert message.startswith("(#10) This message is sent outside of allowed window.")
    tagged = dm(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert (await graph.post(f"/{PAGE_ID}/messages", json=tagged)).status_code == 200
    bad_tag = dm(messaging_type="MESSAGE_TAG", tag="SHIPPING_UPDATE")
    assert error_of(await graph.post(f"/{PAGE_ID}/messages", json=bad_tag))[1] == 100


async def test_graph_refusals(graph: httpx.AsyncClient, state: SandboxState) -> None:
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC))
    state.wrote(SANDBOX, "555", datetime.now(UTC))
    state.add_person(
        Platform.messenger,
        SimPerson(id="555", name="Leo Gallagher", handle="leo", language="en", accepts_dms=False),
    )
    too_long = await graph.post(f"/{PAGE_ID}/messages", json=dm("x" * 2001))
    assert error_of(too_long) == (
        400,
        100,
        None,
        "(#100) Length of param message[text] must be less than or equal to 2000",
    )
    assert error_of(await graph.post(f"/{PAGE_ID}/messages", json=dm(person="555")))[:3] == (
        400,
        551,
        1545041,
    )
    assert error_of(await graph.post("/999/messages", json=dm()))[:3] == (400, 100, 33)
    assert error_of(await graph.post(f"/{PAGE_ID}/messages", json=dm("")))[1] == 100
    wrong_token = await graph.post(
        f"/{PAGE_ID}/messages", json=dm(), headers={"Authorization": "Bearer nope"}
    )
    assert error_of(wrong_token)[:2] == (400, 190)
    assert state.sent == []


async def test_the_rate_limit_and_injected_failures(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC))
    for _ in range(300):  # fill this second's budget without 300 HTTP round trips
        assert state.rate_limited(f"messenger:{PAGE_ID}", 300, 1.0) is None
    limited = await graph.post(f"/{PAGE_ID}/messages", json=dm())
    assert error_of(limited)[:2] == (400, 613)
    state.inject_failure(
        Platform.messenger, 503, {"error": {"message": "down", "code": 2}}, {"Retry-After": "7"}
    )
    injected = await graph.post(f"/{PAGE_ID}/messages", json=dm())
    assert (injected.status_code, injected.headers["retry-after"]) == (503, "7")
    assert state.sent == []


async def test_form_parameters_and_the_access_token_query_as_meta_documents(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC))
    r = await graph.post(
        f"/{PAGE_ID}/messages",
        params={"access_token": ACCESS_TOKEN},
        headers={"Authorization": ""},
        data={
            "recipient": json.dumps({"id": LUCIA.id}),
            "messaging_type": "RESPONSE",
            "message": json.dumps({"text": "hello, world"}),
        },
    )
    assert r.status_code == 200, r.text
    assert state.sent[0].payload["message"] == {"text": "hello, world"}


async def test_private_replies_once_and_public_replies(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    received(
        SimMessage(
            person=OLIVIA,
            message_id=TOP,
            text="Looks great",
            at=datetime.now(UTC),
            kind="comment",
            post_id=POST,
        )
    )
    private = {"recipient": {"comment_id": TOP}, "message": {"text": "Check your DMs"}}
    first = await graph.post(f"/{PAGE_ID}/messages", json=private)
    assert first.json()["recipient_id"] == OLIVIA.id  # Meta answers with the commenter's id
    assert error_of(await graph.post(f"/{PAGE_ID}/messages", json=private))[:2] == (400, 10900)
    public = await graph.post(f"/{TOP}/comments", json={"message": "Thank you, Olivia!"})
    assert public.status_code == 200
    [_, reply] = state.sent
    assert public.json() == {"id": reply.message_id}
    assert (reply.recipient_id, reply.payload) == (TOP, {"message": "Thank you, Olivia!"})
    # What Facebook then notifies: the Page's comment, in Olivia's thread.
    [echo] = [e for ev in FAKE.echoes(SANDBOX, reply) for e in received(ev)]
    assert isinstance(echo, EchoReceived)
    assert (echo.thread.kind, echo.thread.key, echo.external_id) == (
        Kind.comment,
        TOP,
        reply.message_id,
    )
    too_long = await graph.post(f"/{TOP}/comments", json={"message": "x" * 8001})
    assert error_of(too_long)[1] == 100


async def test_after_a_dm_messenger_echoes_then_delivers_then_reads(
    graph: httpx.AsyncClient, state: SandboxState
) -> None:
    state.add_person(Platform.messenger, LUCIA)
    state.wrote(SANDBOX, LUCIA.id, datetime.now(UTC))
    await graph.post(f"/{PAGE_ID}/messages", json=dm("¡Gracias!"))
    [sent] = state.sent
    echo, delivered, read = FAKE.echoes(SANDBOX, sent)
    assert isinstance(echo, SimEcho)
    assert echo.metadata == "bandeja:k"
    assert (echo.person, echo.message_id, echo.text) == (LUCIA, sent.message_id, "¡Gracias!")
    assert isinstance(delivered, SimStatus)
    assert delivered.status == "delivered"
    assert isinstance(read, SimRead)
    assert read.at > delivered.at > echo.at


async def test_profiles(graph: httpx.AsyncClient, state: SandboxState) -> None:
    state.add_person(Platform.messenger, GIULIA)
    r = await graph.get(f"/{GIULIA.id}", params={"fields": "first_name,last_name,profile_pic"})
    assert r.json()["first_name"] == "Giulia"
    assert r.json()["last_name"] == "Ferrari"
    assert error_of(await graph.get("/123"))[:3] == (400, 100, 33)
