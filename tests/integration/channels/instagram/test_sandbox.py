"""The sandbox engine playing Instagram end to end: simulated customers, webhooks delivered at
least once and out of order, the Graph reads of ``expand``, replies and their echoes."""

from __future__ import annotations

from collections import Counter

from bandeja.channels.sandbox.engine import Sandbox
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction


async def test_simulated_traffic_and_a_reply_go_all_the_way(ig, workers, sandbox):
    engine = Sandbox(
        ig.client, state=sandbox, rate_per_min=0, duplicate_rate=0.3, max_delay_s=0.05, seed=11
    )
    engine.add_channel(ig.sandbox_channel())
    for _ in range(40):
        engine.tick()
    await engine.deliverer.flush()
    await workers.drain()
    assert engine.deliverer.stats.duplicates > 0
    assert engine.deliverer.stats.gave_up == 0
    raws = await ig.raw_events()
    assert {r.status for r in raws} == {RawEventStatus.processed}
    conversations = await ig.conversations()
    kinds = Counter(c.kind for c in conversations)
    assert set(kinds) == {Kind.dm, Kind.comment, Kind.mention}
    for conversation in conversations:
        for message in await ig.messages(conversation.id):
            # Mentions were read back from the fake's Graph API; DM senders have their names.
            assert message.text, (conversation.kind, message)
            assert message.attachments == []
    dm = next(c for c in conversations if c.kind is Kind.dm)
    inbound = (await ig.messages(dm.id))[0]
    person = next(p for p in engine.traffic.people(ig.sandbox_channel()) if p.id == dm.thread_key)
    _, contact = await ig.identity_and_contact(person.id)
    assert contact.name == person.name
    assert inbound.author_contact_id == contact.id

    # A reply: sent to the fake, echoed back by the engine, matched to the reply.
    response = await ig.reply(dm.id, text="Thanks for writing! / ¡Gracias! / Grazie!")
    assert response.status_code == 202, response.text
    await workers.drain()
    await engine.deliverer.flush()
    await workers.drain()
    outbound = [m for m in await ig.messages(dm.id) if m.direction is Direction.outbound]
    assert [(m.author_type, m.status) for m in outbound] == [(AuthorType.user, DeliveryStatus.sent)]
    assert outbound[0].external_id == sandbox.sent[-1].message_id
