"""The conversation list and opening a conversation through the API, with pinned query counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bandeja.core.channels.models import Platform
from bandeja.core.conversations import actions
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.queries import (
    conversation_detail,
    encode_cursor,
    list_conversations,
)
from bandeja.core.errors import NotFound
from bandeja.core.messages.queries import list_messages
from bandeja.core.tags.actions import create_tag
from bandeja.core.tags.schemas import TagIn
from bandeja.core.users.models import Role


async def _setup(db, factory, n: int = 3):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    for i in range(n):
        await factory.message(channel, person=f"p{i}", name=f"Person {i}", text=f"hello {i}")
    token = await factory.token(ws, owner)
    await db.commit()
    return {"Authorization": f"Bearer {token}"}


async def test_list_returns_conversations_newest_first_with_counts(db, factory, client):
    headers = await _setup(db, factory)
    r = await client.get("/api/v1/conversations", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["snippet"] for c in body["items"]] == ["hello 2", "hello 1", "hello 0"]
    assert body["counts"]["status"] == {"open": 3, "follow_up": 0, "complete": 0}
    assert body["counts"]["assignee"]["unassigned"] == 3


async def test_list_query_count_does_not_grow_with_rows(db, factory, client, queries):
    headers = await _setup(db, factory, n=2)
    await client.get("/api/v1/auth/me", headers=headers)  # first use of a token records it
    with queries.count() as few:
        assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 200
    headers = await _setup(db, factory, n=30)
    await client.get("/api/v1/auth/me", headers=headers)
    with queries.count() as many:
        r = await client.get("/api/v1/conversations", headers=headers)
    assert len(r.json()["items"]) == 30
    # auth, the page (rows with their tags and my read state), counts
    assert len(many) == len(few) == 3, many


async def test_open_conversation_query_count_does_not_grow(db, factory, client, queries):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    small, _ = await factory.message(channel, person="a", text="one")
    big, _ = await factory.message(channel, person="b", text="first")
    for i in range(40):
        await factory.message(channel, person="b", text=f"more {i}")
    token = await factory.token(ws, owner)
    await db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for conversation in (small, big):
        for i in range(3 if conversation is big else 1):
            r = await client.post(
                f"/api/v1/conversations/{conversation.id}/notes",
                json={"text": f"note {i}"},
                headers=headers,
            )
            assert r.status_code == 201, r.text
    counts = []
    for conversation in (small, big):
        with queries.count() as statements:
            r = await client.get(f"/api/v1/conversations/{conversation.id}", headers=headers)
        assert r.status_code == 200
        counts.append(len(statements))
    body = r.json()
    assert len(body["messages"]["items"]) == 41
    assert len(body["notes"]) == 3
    assert [a["verb"] for a in body["activity"]].count("note.added") == 3
    # auth, the row (with its tags and my read state), messages, notes (with their mentions),
    # activity
    assert counts == [5, 5]


async def test_a_row_shows_its_contact_channel_assignee_tags_and_my_read_state(db, factory, client):
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner)
    agent, _ = await factory.user(ws, Role.agent, name="Maria Rossi", email="maria@example.com")
    channel = await factory.channel(ws, Platform.whatsapp, members=[agent], name="Shop WA")
    tagged, _ = await factory.message(channel, person="t", name="Tina Tagged", text="tagged")
    plain, _ = await factory.message(channel, person="p", name="Paul Plain", text="plain")
    owner_h = {"Authorization": f"Bearer {await factory.token(ws, owner)}"}
    agent_h = {"Authorization": f"Bearer {await factory.token(ws, agent)}"}
    await db.commit()
    tag_ids = []
    for name in ("zeta", "alpha", "Mid"):  # created out of name order
        r = await client.post("/api/v1/tags", headers=owner_h, json={"name": name})
        tag_ids.append(r.json()["id"])
    url = f"/api/v1/conversations/{tagged.id}"
    for path, body in (("tags", {"add": tag_ids}), ("assign", {"assignee_id": agent.id})):
        assert (await client.post(f"{url}/{path}", headers=owner_h, json=body)).status_code == 200
    assert (await client.post(f"{url}/read", headers=agent_h)).status_code == 200
    note = {"text": "over to @maria"}
    assert (await client.post(f"{url}/notes", headers=owner_h, json=note)).status_code == 201

    def rows(r):
        assert r.status_code == 200, r.text
        return {c["id"]: c for c in r.json()["items"]}

    as_owner = rows(await client.get("/api/v1/conversations", headers=owner_h))
    as_agent = rows(await client.get("/api/v1/conversations", headers=agent_h))
    row = as_owner[tagged.id]
    assert row["contact"] == {"id": tagged.contact_id, "name": "Tina Tagged", "avatar_url": None}
    assert row["channel"] == {"id": channel.id, "platform": "whatsapp", "name": "Shop WA"}
    assert row["assignee"] == {"id": agent.id, "name": "Maria Rossi"}
    # Tags by name, whatever order they were created or added in.
    assert [t["name"] for t in row["tags"]] == ["Mid", "alpha", "zeta"]
    assert {t["id"] for t in row["tags"]} == set(tag_ids)
    # Read state is per agent: the agent read it, the owner did not.
    assert (row["unread"], as_agent[tagged.id]["unread"]) == (True, False)
    assert as_agent[tagged.id]["tags"] == row["tags"]
    other = as_owner[plain.id]
    assert (other["tags"], other["assignee"], other["unread"]) == ([], None, True)
    opened = (await client.get(url, headers=agent_h)).json()
    assert opened["conversation"]["tags"] == row["tags"]
    assert opened["conversation"]["unread"] is False
    assert [(n["text"], n["mentioned_user_ids"]) for n in opened["notes"]] == [
        ("over to @maria", [agent.id])
    ]


async def test_messages_of_a_conversation_check_visibility_within_the_page(db, factory, queries):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    _, outsider = await factory.user(ws, Role.agent)
    channel = await factory.channel(ws)
    conversation, _ = await factory.message(channel, person="a", text="one")
    await factory.message(channel, person="a", text="two")
    await db.commit()
    with queries.count() as statements:
        page = await list_messages(db, owner, conversation.id, limit=1)
    assert [m.text for m in page.items] == ["two"]
    assert len(statements) == 1, statements
    rest = await list_messages(db, owner, conversation.id, before=page.next_cursor, limit=5)
    assert [m.text for m in rest.items] == ["one"]
    assert rest.next_cursor is None
    # Past the end: an empty page for who may see it; 404 for an agent of other channels.
    end = encode_cursor(datetime(2000, 1, 1, tzinfo=UTC), 1)
    assert (await list_messages(db, owner, conversation.id, before=end)).items == []
    for before in (None, end):
        with pytest.raises(NotFound):
            await list_messages(db, outsider, conversation.id, before=before)


async def test_reads_in_the_transaction_of_a_change_see_the_change(db, factory):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    conversation, _ = await factory.message(channel, person="a", text="hi")
    tag = await create_tag(db, owner, TagIn(name="vip"))
    await db.commit()
    # Pending ORM changes (a new tag row, a changed priority), not flushed nor committed.
    await actions.change_tags(db, owner, conversation.id, add=[tag.id])
    await actions.set_priority(db, owner, conversation.id, "urgent")
    assert db.new or db.dirty
    detail = await conversation_detail(db, owner, conversation.id)
    assert ([t.name for t in detail.tags], detail.priority) == (["vip"], "urgent")
    page = await list_conversations(db, owner, ConversationFilter(priorities=["urgent"]))
    assert [(c.id, [t.name for t in c.tags]) for c in page.items] == [(conversation.id, ["vip"])]
