"""Text search takes two roads on PostgreSQL (few matches: the ids the search index found; many:
the inbox order, filtered); both must give the same page."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bandeja.core.conversations import search
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.queries import list_conversations
from bandeja.core.users.models import Role


@pytest.mark.parametrize(("rare_limit", "analyze"), [(1000, False), (3, False), (1000, True)])
async def test_search_gives_the_same_page_by_either_road(
    db, factory, monkeypatch, rare_limit, analyze
):
    """Few matches: the index's ids; too many for the probe, or frequent by the statistics
    (after ANALYZE): the inbox order, filtered."""
    monkeypatch.setattr(search, "RARE_LIMIT", rare_limit)
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    for i in range(6):
        await factory.message(
            channel,
            person=f"p{i}",
            name=f"Persona {i}",
            text=f"¿Dónde está mi devolución número {i}?",
        )
    for i in range(4):
        await factory.message(channel, person=f"q{i}", text="Hola, ¿abrís el domingo?")
    await db.commit()
    if analyze:
        await db.execute(text("ANALYZE conversations"))
        await db.commit()
        if db.get_bind().dialect.name == "postgresql":
            assert await search._frequent(db, ["devolucion"])
            assert not await search._frequent(db, ["zzz"])
    page = await list_conversations(db, owner, ConversationFilter(q="devolucion"), limit=4)
    assert [c.contact.name for c in page.items] == [f"Persona {i}" for i in (5, 4, 3, 2)]
    assert page.counts is not None
    assert page.counts.total == 6
    rest = await list_conversations(
        db, owner, ConversationFilter(q="devolucion"), limit=4, cursor=page.next_cursor
    )
    assert [c.contact.name for c in rest.items] == ["Persona 1", "Persona 0"]
    assert (await list_conversations(db, owner, ConversationFilter(q="zzz"))).items == []
