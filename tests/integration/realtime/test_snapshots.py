"""For each main action: an old snapshot plus the events a browser received equals a fresh
snapshot, for an owner, an agent who sees the channel account and an agent who does not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bandeja.core.channels.models import Platform
from bandeja.core.users.models import Role
from tests.integration.realtime.inbox_model import InboxModel
from tests.support.factory import Factory


async def _world(sessions: Any) -> dict[str, Any]:
    async with sessions() as db:
        f = Factory(db)
        ws = await f.workspace()
        owner_user, owner = await f.user(ws, Role.owner)
        agent_user, agent = await f.user(ws, Role.agent)
        outsider_user, outsider = await f.user(ws, Role.agent)
        ig = await f.channel(ws, members=[agent_user])
        x = await f.channel(ws, Platform.x, members=[outsider_user])
        first, _ = await f.message(ig, person="p1", text="hola")
        second, _ = await f.message(ig, person="p2", text="ciao")
        other, _ = await f.message(x, person="p3", text="hey")
        tokens = {
            "owner": await f.token(ws, owner_user),
            "agent": await f.token(ws, agent_user),
            "outsider": await f.token(ws, outsider_user),
        }
        await db.commit()
    return {
        "ws": ws,
        "ig": ig,
        "actors": {"owner": owner, "agent": agent, "outsider": outsider},
        "headers": {k: {"Authorization": f"Bearer {t}"} for k, t in tokens.items()},
        "first": first.id,
        "second": second.id,
        "other": other.id,
    }


Action = Callable[[Any, dict[str, Any], Any], Awaitable[None]]


async def _post(client: Any, w: dict[str, Any], path: str, body: Any = None, who: str = "owner"):
    response = await client.post(f"/api/v1{path}", json=body, headers=w["headers"][who])
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


async def assign_to_agent(client, w, sessions):
    await _post(client, w, f"/conversations/{w['first']}/assign",
                {"assignee_id": w["actors"]["agent"].user_id})  # fmt: skip


async def unassign(client, w, sessions):
    await assign_to_agent(client, w, sessions)
    await _post(client, w, f"/conversations/{w['first']}/assign", {"assignee_id": None})


async def tag(client, w, sessions):
    created = await _post(client, w, "/tags", {"name": "vip"})
    await _post(client, w, f"/conversations/{w['second']}/tags", {"add": [created["id"]]})


async def complete_and_reopen(client, w, sessions):
    await _post(client, w, f"/conversations/{w['first']}/complete")
    await _post(client, w, f"/conversations/{w['second']}/complete", who="agent")
    await _post(client, w, f"/conversations/{w['first']}/reopen")


async def follow_up(client, w, sessions):
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await _post(client, w, f"/conversations/{w['second']}/follow-up", {"until": until})


async def priority(client, w, sessions):
    await _post(client, w, f"/conversations/{w['first']}/priority", {"priority": "urgent"})


async def note(client, w, sessions):
    await _post(client, w, f"/conversations/{w['first']}/notes", {"text": "call her back"})


async def read_and_unread(client, w, sessions):
    await _post(client, w, f"/conversations/{w['first']}/read", who="agent")
    await _post(client, w, f"/conversations/{w['second']}/read", who="agent")
    await _post(client, w, f"/conversations/{w['second']}/unread", who="agent")


async def inbound_messages(client, w, sessions):
    async with sessions() as db:
        f = Factory(db)
        ig = await db.merge(w["ig"])
        await f.message(ig, person="p1", text="are you there?", at=datetime.now(UTC))
        await f.message(ig, person="p9", text="new customer", at=datetime.now(UTC))
        await db.commit()


async def reply(client, w, sessions):
    await _post(client, w, f"/conversations/{w['second']}/messages",
                {"text": "on our way", "idempotency_key": "k1"}, who="agent")  # fmt: skip


ACTIONS: list[Action] = [
    assign_to_agent,
    unassign,
    tag,
    complete_and_reopen,
    follow_up,
    priority,
    note,
    read_and_unread,
    inbound_messages,
    reply,
]


@pytest.mark.parametrize("action", ACTIONS, ids=[a.__name__ for a in ACTIONS])
async def test_old_snapshot_plus_events_equals_fresh_snapshot(
    action: Action, rt_client, listen, sessions
):
    w = await _world(sessions)
    viewers = {}
    for who in ("owner", "agent", "outsider"):
        model = InboxModel(rt_client, w["headers"][who], w["actors"][who].user_id)
        await model.load()
        viewers[who] = (model, await listen(w["actors"][who]))

    await action(rt_client, w, sessions)

    received = {}
    for who, (model, listener) in viewers.items():
        events = [e.payload for e in await listener.events()]
        received[who] = events
        for payload in events:
            await model.apply(payload)
        await model.assert_matches()
    # Every action shows up for those who may see it, and never for the others.
    ig_events = [e for e in received["outsider"] if e.get("channel_account_id") == w["ig"].id]
    assert ig_events == [], "an agent received events of a channel account they cannot see"
    assert received["agent"], "the agent of the channel account saw nothing"
    if action is read_and_unread:
        # Read state is personal: only the agent who read hears of it.
        assert received["owner"] == []
        assert [e["read"] for e in received["agent"]] == [True, True, False]
    else:
        assert received["owner"], "the owner saw nothing"
