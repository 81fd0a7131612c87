"""Domain events: published only after the commit that caused them, never after a rollback, each
valid against the typed schema, each naming its audience.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bandeja.core.channels.actions import create_channel_account
from bandeja.core.channels.models import Platform
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.contacts.actions import merge_contacts
from bandeja.core.conversations import actions
from bandeja.core.events import (
    BaseEvent,
    ContactsMerged,
    ConversationChanged,
    ConversationCreated,
    ConversationRead,
    MessageCreated,
    NoteCreated,
    NotificationCreated,
    WorkspaceChanged,
    bus,
    event_adapter,
)
from bandeja.core.notes.actions import add_note
from bandeja.core.tags.actions import create_tag
from bandeja.core.tags.models import Tag
from bandeja.core.tags.schemas import TagIn
from bandeja.core.users import actions as user_actions
from bandeja.core.users.models import Role
from bandeja.core.users.schemas import TeamIn, UserIn
from bandeja.core.views.actions import create_view
from bandeja.core.views.schemas import ViewIn
from tests.support.factory import BOX


@pytest.fixture
def published() -> Iterator[list[BaseEvent]]:
    got: list[BaseEvent] = []
    unsubscribe = bus.subscribe(got.extend)
    yield got
    unsubscribe()


async def _inbox(db, factory):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    agent_user, agent = await factory.user(ws, Role.agent)
    channel = await factory.channel(ws, members=[agent_user])
    conversation, message = await factory.message(channel, person="p1", text="hola")
    await db.commit()
    return ws, owner, agent, channel, conversation, message


async def test_events_are_published_after_commit_and_not_before(db, factory, published):
    _, owner, agent, _, conversation, _ = await _inbox(db, factory)
    published.clear()
    await actions.assign(db, owner, conversation.id, agent.user_id)
    await actions.set_priority(db, owner, conversation.id, "high")
    await db.flush()
    assert published == [], "published before the commit"
    await db.commit()
    assert [(type(e), getattr(e, "changes", None)) for e in published] == [
        (ConversationChanged, {"assignee_id": agent.user_id}),
        (NotificationCreated, None),  # the assignee is told
        (ConversationChanged, {"priority": "high"}),
    ]
    assert all(e.actor_user_id == owner.user_id for e in published)
    # Published once: a later empty commit publishes nothing again.
    await db.commit()
    assert len(published) == 3


async def test_a_rollback_publishes_nothing(db, factory, published):
    _, owner, _, _, conversation, _ = await _inbox(db, factory)
    conversation_id = conversation.id  # the rollback expires the object
    published.clear()
    await actions.complete(db, owner, conversation_id)
    await add_note(db, owner, conversation_id, "never happened")
    await db.rollback()
    assert published == []
    # The next transaction starts clean: its commit carries only its own events.
    await actions.set_priority(db, owner, conversation_id, "low")
    await db.commit()
    assert [e.changes for e in published] == [{"priority": "low"}]


async def _insert_in_savepoint(db, row: object) -> None:
    async with db.begin_nested():
        db.add(row)
        await db.flush()


async def test_a_rolled_back_savepoint_does_not_drop_the_outer_transactions_events(
    db,
    factory,
    published,
):
    """The core retries races inside SAVEPOINTs, and the ingest worker processes a batch of
    deliveries in one transaction with a SAVEPOINT each: a SAVEPOINT that fails must not lose the
    events of the work that did commit."""
    ws, owner, agent, _, conversation, _ = await _inbox(db, factory)
    await create_tag(db, owner, TagIn(name="taken"))
    await db.commit()
    published.clear()
    await actions.assign(db, owner, conversation.id, agent.user_id)
    with pytest.raises(IntegrityError):
        await _insert_in_savepoint(db, Tag(workspace_id=ws.id, name="taken"))  # unique: refused
    await db.commit()
    assert [(type(e), getattr(e, "changes", None)) for e in published] == [
        (ConversationChanged, {"assignee_id": agent.user_id}),
        (NotificationCreated, None),
    ]


async def _every_kind_of_event(db, factory) -> tuple[list[BaseEvent], dict[str, int]]:
    got: list[BaseEvent] = []
    unsubscribe = bus.subscribe(got.extend)
    try:
        ws = await factory.workspace()
        owner_user, owner = await factory.user(ws, Role.owner)
        agent_user, agent = await factory.user(ws, Role.agent)
        ig = await factory.channel(ws, members=[agent_user])
        x = await create_channel_account(
            db,
            workspace_id=ws.id,
            box=BOX,
            actor=owner,
            data=ChannelAccountIn(platform=Platform.x, external_id="x-1", name="X"),
        )
        conv, _ = await factory.message(ig, person="p1", text="hola")
        other, _ = await factory.message(x, person="p2", text="hey", kind=conv.kind)
        await db.commit()
        await actions.assign(db, owner, conv.id, agent_user.id)
        tag = await create_tag(db, agent, TagIn(name="vip"))
        await actions.change_tags(db, agent, conv.id, add=[tag.id])
        await actions.follow_up(db, agent, conv.id, datetime.now(UTC) + timedelta(days=1))
        await actions.reopen(db, agent, conv.id)
        await actions.complete(db, agent, conv.id)
        await add_note(db, agent, conv.id, "see this")
        await actions.mark_read(db, agent, conv.id)
        await actions.mark_unread(db, agent, conv.id)
        await create_view(db, agent, ViewIn(name="mine"))
        await create_view(db, agent, ViewIn(name="ours", shared=True))
        await user_actions.create_team(db, owner, TeamIn(name="T", member_ids=[agent_user.id]))
        await user_actions.add_member(
            db,
            workspace_id=ws.id,
            actor=owner,
            data=UserIn(email="late@example.com", name="Late", password="long enough"),
        )
        await merge_contacts(db, owner, conv.contact_id, other.contact_id)
        await db.commit()
    finally:
        unsubscribe()
    return got, {
        "ig": ig.id,
        "x": x.id,
        "conv": conv.id,
        "other": other.id,
        "agent": agent_user.id,
        "owner": owner_user.id,
        "ws": ws.id,
    }


async def test_every_event_validates_against_the_typed_schema(db, factory):
    events, _ = await _every_kind_of_event(db, factory)
    kinds = {type(e) for e in events}
    assert {
        ConversationCreated,
        ConversationChanged,
        MessageCreated,
        NoteCreated,
        ConversationRead,
        ContactsMerged,
        WorkspaceChanged,
        NotificationCreated,
    } <= kinds, kinds
    for event in events:
        # What a subscriber receives survives the wire: JSON out, typed event back, equal.
        again = event_adapter.validate_json(event.model_dump_json())
        assert again == event, event
        assert type(again) is type(event)
        assert event_adapter.validate_python(event.model_dump(mode="json")) == event


async def test_every_event_names_its_audience(db, factory):
    events, ids = await _every_kind_of_event(db, factory)
    conversation_channel = {ids["conv"]: ids["ig"], ids["other"]: ids["x"]}
    for event in events:
        assert event.workspace_id == ids["ws"], event
        if isinstance(event, ConversationRead):
            assert event.user_ids == [ids["agent"]], event
            assert event.channel_account_id is None, event
        elif isinstance(
            event, ConversationCreated | ConversationChanged | MessageCreated | NoteCreated
        ):
            # Members of the conversation's channel account (plus admins) see it; nobody else.
            assert event.channel_account_id == conversation_channel[event.conversation_id], event
            assert event.user_ids is None, event
        elif isinstance(event, NotificationCreated):
            assert event.user_ids == [ids["agent"]], event  # the assignee alone
            assert event.channel_account_id is None, event
    reads = [e for e in events if isinstance(e, ConversationRead)]
    assert [e.read for e in reads] == [True, False]
    views = [e for e in events if isinstance(e, WorkspaceChanged) and e.what == "views"]
    # A personal view concerns its owner only; a shared one, everybody.
    assert [e.user_ids for e in views] == [[ids["agent"]], None]
    notes = [e for e in events if isinstance(e, NoteCreated)]
    assert len(notes) == 1
    assert notes[0].actor_user_id == ids["agent"]


async def test_the_changes_of_events_replay_to_what_a_fresh_load_shows(db, factory, sessions):
    """Applying the ``changes`` of the ConversationChanged events to the state before them gives
    the state a fresh load shows (the realtime client's contract)."""
    from bandeja.core.conversations.models import Conversation

    _, owner, agent, channel, conversation, _ = await _inbox(db, factory)
    got: list[BaseEvent] = []
    unsubscribe = bus.subscribe(got.extend)
    try:
        await actions.assign(db, owner, conversation.id, agent.user_id)
        await db.commit()
        await actions.follow_up(db, owner, conversation.id, datetime.now(UTC) + timedelta(hours=2))
        await db.commit()
        await factory.message(channel, person="p1", text="news?", at=datetime.now(UTC))
        await db.commit()
        await actions.set_priority(db, owner, conversation.id, "urgent")
        await actions.complete(db, owner, conversation.id)
        await db.commit()
    finally:
        unsubscribe()
    state: dict[str, object] = {}
    for event in got:
        if isinstance(event, ConversationChanged) and event.conversation_id == conversation.id:
            state.update(event.changes)
    async with sessions() as s:
        fresh = (
            await s.execute(select(Conversation).where(Conversation.id == conversation.id))
        ).scalar_one()
    assert state["assignee_id"] == fresh.assignee_id
    assert state["status"] == fresh.status.value == "complete"
    assert state["follow_up_until"] is None
    assert fresh.follow_up_until is None
    assert state["priority"] == "urgent"
    assert state["snippet"] == fresh.last_message_preview == "news?"
    assert datetime.fromisoformat(str(state["last_inbound_at"])) == fresh.last_inbound_at
    assert datetime.fromisoformat(str(state["last_activity_at"])) == fresh.last_activity_at


def test_the_schema_refuses_malformed_events():
    from pydantic import ValidationError

    for bad in (
        {"type": "conversation.changed", "workspace_id": 1},
        {"type": "no.such.event", "workspace_id": 1, "conversation_id": 1},
        {
            "type": "message.created",
            "workspace_id": 1,
            "conversation_id": 1,
            "message_id": 2,
            "direction": "sideways",
            "sent_at": "2026-01-01T00:00:00Z",
        },
    ):
        with pytest.raises(ValidationError):
            event_adapter.validate_python(bad)
    ok = event_adapter.validate_python(
        {
            "type": "conversation.read",
            "workspace_id": 1,
            "conversation_id": 3,
            "read": True,
            "user_ids": [4],
        }
    )
    assert isinstance(ok, ConversationRead)


async def test_completing_announces_when_it_was_completed(db, factory, sessions, published):
    """``completed_at`` is part of the conversation a client shows (ConversationDetail); the
    event that completes a conversation must carry it, or replaying events cannot match a fresh
    load."""
    from bandeja.core.conversations.models import Conversation

    _, owner, _, _, conversation, _ = await _inbox(db, factory)
    published.clear()
    await actions.complete(db, owner, conversation.id)
    await db.commit()
    async with sessions() as s:
        completed_at = await s.scalar(
            select(Conversation.completed_at).where(Conversation.id == conversation.id)
        )
    assert completed_at is not None
    changes = [e.changes for e in published if isinstance(e, ConversationChanged)]
    assert len(changes) == 1, changes
    assert "completed_at" in changes[0], changes
    assert datetime.fromisoformat(changes[0]["completed_at"]) == completed_at
