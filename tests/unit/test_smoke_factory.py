from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.queries import list_conversations


async def test_factory_builds_an_inbox(db, factory):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, role="owner")
    channel = await factory.channel(ws)
    await factory.message(channel, text="hola")
    await db.commit()
    page = await list_conversations(db, owner, ConversationFilter())
    assert [c.snippet for c in page.items] == ["hola"]
