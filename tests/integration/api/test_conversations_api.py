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
