"""The conversation list and opening a conversation through the API, with pinned query counts."""

from __future__ import annotations

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
    # auth, page, tags of the page, read state of the page, counts
    assert len(many) == len(few) == 5, many


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
    # auth, row, tags, read state, messages, notes, note mentions, activity
    assert counts == [8, 8]
