"""The ingest worker applies a batch in one transaction, without SAVEPOINTs, and pins the cost of a
new message in statements; a delivery that fails is isolated and the rest of its batch still goes
through."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import event, func, select

from bandeja.channels.config import channel_config
from bandeja.channels.sandbox.contract import SandboxChannel, SimMessage, SimPerson
from bandeja.channels.whatsapp.fake import FAKE as WHATSAPP
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.models import Conversation, ConversationCount
from bandeja.core.ingest import types as ev
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.messages import actions as messages_actions
from bandeja.core.messages.models import Message
from bandeja.jobs import ingest as ingest_job
from bandeja.jobs.ingest import IngestWorker
from tests.support.factory import BOX


def _person(n: int) -> SimPerson:
    return SimPerson(id=f"3460000{n:04d}", name=f"Persona {n}", handle=f"p{n}", language="es")


async def _whatsapp(db, factory) -> ChannelAccount:
    ws = await factory.workspace()
    channel = await factory.channel(ws, Platform.whatsapp, external_id="106540352242922")
    await db.commit()
    return channel


async def _post(client: httpx.AsyncClient, channel: ChannelAccount, *messages: SimMessage) -> None:
    config = channel_config(channel, BOX)
    sandbox = SandboxChannel(
        bandeja_id=channel.id,
        platform=channel.platform,
        external_id=channel.external_id,
        name=channel.name,
        secrets=dict(config.secrets),
        webhook_url=f"http://testserver/webhooks/whatsapp/{channel.id}",
    )
    for message in messages:
        for delivery in WHATSAPP.deliveries(sandbox, message):
            response = await client.post(
                urlsplit(delivery.url).path, content=delivery.body, headers=delivery.headers
            )
            assert response.status_code == 200, response.text


def _message(person: SimPerson, n: int, text: str = "hola") -> SimMessage:
    at = datetime.now(UTC) - timedelta(minutes=10) + timedelta(seconds=n)
    return SimMessage(person=person, message_id=f"wamid.batch{n}", text=f"{text} {n}", at=at)


@contextlib.contextmanager
def _statements(engine) -> Iterator[list[str]]:
    """Every statement sent to the database (SAVEPOINTs included), and "COMMIT" for each
    transaction committed."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()[:3]).upper())

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    event.listen(engine.sync_engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        event.remove(engine.sync_engine, "commit", commit)


async def _drain(sessions, *, batch: int = 100) -> int:
    async with httpx.AsyncClient() as http:
        worker = IngestWorker(sessions, BOX, http, batch=batch)
        return await worker.run_once()


async def _statuses(sessions) -> dict[int, RawEventStatus]:
    async with sessions() as s:
        rows = await s.execute(select(RawEvent.id, RawEvent.status).order_by(RawEvent.id))
        return dict(rows.all())  # type: ignore[arg-type]


async def test_a_batch_costs_a_few_statements_per_message_and_no_savepoint(
    db, factory, client, sessions, engine
):
    channel = await _whatsapp(db, factory)
    # Ten new people, then ten more messages from the same people (known, same conversations).
    await _post(client, channel, *(_message(_person(i), i) for i in range(10)))
    with _statements(engine) as new_people:
        assert await _drain(sessions) == 10
    await _post(client, channel, *(_message(_person(i), 100 + i) for i in range(10)))
    with _statements(engine) as known_people:
        assert await _drain(sessions) == 10

    for seen in (new_people, known_people):
        assert not [s for s in seen if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))], seen
        assert seen.count("COMMIT") == 1  # one transaction per batch
    # A new person: contact, identity, conversation, its counter and the message; a known one:
    # the message alone. Plus, per batch: BEGIN (SQLite), the claim, the accounts, three look-ups
    # for all its messages (messages/known.py), the flush (channel health, conversations, raw
    # events) and the commit.
    per_batch = 10
    assert len(new_people) <= 10 * 5 + per_batch, new_people
    assert len(known_people) <= 10 * 1 + per_batch, known_people

    async with sessions() as s:
        assert set((await _statuses(sessions)).values()) == {RawEventStatus.processed}
        assert await s.scalar(select(func.count()).select_from(Contact)) == 10
        conversations = (await s.execute(select(Conversation))).scalars().all()
        assert sorted(c.message_count for c in conversations) == [2] * 10
        assert all(c.last_message_preview.startswith("hola 1") for c in conversations)
        counted = await s.scalar(select(func.sum(ConversationCount.n)))
        assert counted == 10


async def test_a_failing_delivery_is_isolated_and_the_rest_of_its_batch_goes_through(
    db, factory, client, sessions, monkeypatch
):
    channel = await _whatsapp(db, factory)
    await _post(client, channel, *(_message(_person(i), i) for i in range(5)))
    original = ingest_job.apply_event  # type: ignore[attr-defined]
    attempts: list[str] = []

    async def apply_event(session, target, platform_event, **kwargs):
        # Fails after writing (contact, identity and conversation are inserted by then).
        await original(session, target, platform_event, **kwargs)
        if isinstance(platform_event, ev.MessageReceived):
            attempts.append(platform_event.external_id or "")
            if platform_event.external_id == "wamid.batch2":
                raise RuntimeError("a surprise in the payload")

    monkeypatch.setattr(ingest_job, "apply_event", apply_event)
    assert await _drain(sessions) == 5
    # Applied once without SAVEPOINTs (stopped at the bad one), then again with it isolated.
    assert attempts[:3] == ["wamid.batch0", "wamid.batch1", "wamid.batch2"]
    assert attempts[3:] == [f"wamid.batch{i}" for i in range(5)]

    async with sessions() as s:
        raws = (await s.execute(select(RawEvent).order_by(RawEvent.id))).scalars().all()
        assert [r.status for r in raws] == [
            RawEventStatus.processed,
            RawEventStatus.processed,
            RawEventStatus.failed,
            RawEventStatus.processed,
            RawEventStatus.processed,
        ]
        assert raws[2].error == "RuntimeError: a surprise in the payload"
        texts = (await s.execute(select(Message.text).order_by(Message.sent_at))).scalars().all()
        assert texts == ["hola 0", "hola 1", "hola 3", "hola 4"]
        # Nothing of the failed delivery stayed: its person, identity and conversation too.
        names = (await s.execute(select(Contact.name).order_by(Contact.id))).scalars().all()
        assert names == ["Persona 0", "Persona 1", "Persona 3", "Persona 4"]
        assert await s.scalar(select(func.count()).select_from(ContactIdentity)) == 4
        assert await s.scalar(select(func.sum(ConversationCount.n))) == 4
        channel_now = await s.get(ChannelAccount, channel.id)
        assert channel_now is not None
        assert channel_now.last_error == "RuntimeError: a surprise in the payload"


async def test_a_failure_at_the_batch_flush_isolates_every_delivery(
    db, factory, client, sessions, monkeypatch
):
    """A change that only fails when flushed (here a NOT NULL column emptied) cannot be pinned on
    a delivery when the batch flushes once: the batch is applied again with each delivery in its
    own SAVEPOINT, and only the guilty one fails."""
    channel = await _whatsapp(db, factory)
    await _post(client, channel, *(_message(_person(i), i) for i in range(3)))
    await _drain(sessions)
    await _post(client, channel, *(_message(_person(i), 10 + i) for i in range(3)))
    original = ingest_job.apply_event  # type: ignore[attr-defined]

    async def apply_event(session, target, platform_event, **kwargs):
        await original(session, target, platform_event, **kwargs)
        if isinstance(platform_event, ev.MessageReceived) and platform_event.external_id == (
            "wamid.batch11"
        ):
            conversation = (
                await session.execute(
                    select(Conversation).where(Conversation.thread_key == platform_event.thread.key)
                )
            ).scalar_one()
            conversation.thread_key = None  # refused by the database at the flush

    monkeypatch.setattr(ingest_job, "apply_event", apply_event)
    assert await _drain(sessions) == 3
    statuses = list((await _statuses(sessions)).values())
    assert statuses[3:] == [
        RawEventStatus.processed,
        RawEventStatus.failed,
        RawEventStatus.processed,
    ]
    async with sessions() as s:
        counts = (
            (await s.execute(select(Conversation.message_count).order_by(Conversation.id)))
            .scalars()
            .all()
        )
        assert counts == [2, 1, 2]


@pytest.mark.parametrize("batch", [1, 3])
async def test_the_same_message_twice_in_one_batch_is_one_message(
    db, factory, client, sessions, batch
):
    channel = await _whatsapp(db, factory)
    person = _person(1)
    first = _message(person, 1)
    # The same message id in two different bodies (another envelope): two deliveries.
    await _post(client, channel, first, dataclasses.replace(first, text="hola 1, otra vez"))
    await _post(client, channel, _message(person, 2))
    while await _drain(sessions, batch=batch):
        pass
    async with sessions() as s:
        conversation = (await s.execute(select(Conversation))).scalar_one()
        assert conversation.message_count == 2
        texts = (await s.execute(select(Message.text).order_by(Message.sent_at))).scalars().all()
        assert texts == ["hola 1", "hola 2"]


@pytest.mark.postgresql_only  # SQLite has one writer at a time: no lock order to cross
async def test_two_workers_crossing_on_new_people_deadlock_and_lose_nothing(
    db, factory, client, sessions, engine, monkeypatch, caplog
):
    """Two workers, each with a batch about the same two new people in the opposite order. Each
    inserts its first person's identity; the first to open a conversation holds the counters' row
    until it commits, and then waits for the other's identity of its second person, while the
    other waits for the counters: a deadlock. PostgreSQL cancels one; that worker applies its batch
    again once the other committed, and marks nothing failed: one contact, identity and
    conversation per person, every message once."""
    assert engine.dialect.name == "postgresql"
    channel = await _whatsapp(db, factory)
    ana, bea = _person(1), _person(2)
    # Claimed in id order, two per worker: (ana, bea) and (bea, ana).
    await _post(client, channel, _message(ana, 1), _message(bea, 2))
    await _post(client, channel, _message(bea, 3), _message(ana, 4))
    original = messages_actions.identify  # type: ignore[attr-defined]
    firsts = 0
    both_started = asyncio.Event()

    async def identify(session, **kwargs):
        nonlocal firsts
        found = await original(session, **kwargs)
        if firsts < 2:
            # Each worker's first person is inserted (not committed) before either goes on.
            firsts += 1
            if firsts == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 10)
        return found

    monkeypatch.setattr(messages_actions, "identify", identify)
    caplog.set_level(logging.WARNING, logger="bandeja.jobs.ingest")
    async with httpx.AsyncClient() as http:
        workers = [IngestWorker(sessions, BOX, http, batch=2) for _ in range(2)]
        handled = await asyncio.gather(*(w.run_once() for w in workers))
    assert handled == [2, 2]
    # The deadlock did happen, and was taken for what it is: nobody's delivery was isolated.
    assert any("transient failure" in r.getMessage() for r in caplog.records)
    assert not any("SAVEPOINT" in r.getMessage() for r in caplog.records)

    assert set((await _statuses(sessions)).values()) == {RawEventStatus.processed}
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Contact)) == 2
        assert await s.scalar(select(func.count()).select_from(ContactIdentity)) == 2
        conversations = (await s.execute(select(Conversation))).scalars().all()
        assert sorted(c.message_count for c in conversations) == [2, 2]
        assert await s.scalar(select(func.sum(ConversationCount.n))) == 2
        texts = (await s.execute(select(Message.text).order_by(Message.text))).scalars().all()
        assert texts == ["hola 1", "hola 2", "hola 3", "hola 4"]


async def test_a_transient_failure_fails_no_delivery(db, factory, client, sessions, monkeypatch):
    """The database's own failure (here a deadlock, every time) is nobody's delivery: after a few
    immediate re-runs the batch is left pending for the next round, nothing marked failed."""
    from sqlalchemy.exc import OperationalError

    channel = await _whatsapp(db, factory)
    await _post(client, channel, *(_message(_person(i), i) for i in range(3)))

    class Deadlock(Exception):
        sqlstate = "40P01"

    runs = 0

    async def apply_event(session, target, platform_event, **kwargs):
        nonlocal runs
        runs += 1
        raise OperationalError("INSERT ...", {}, Deadlock("deadlock detected"))

    monkeypatch.setattr(ingest_job, "apply_event", apply_event)
    with pytest.raises(OperationalError):
        await _drain(sessions)
    assert runs == 1 + ingest_job.TRANSIENT_RETRIES
    assert set((await _statuses(sessions)).values()) == {RawEventStatus.pending}

    monkeypatch.undo()  # the database is back: the next round processes them
    assert await _drain(sessions) == 3
    assert set((await _statuses(sessions)).values()) == {RawEventStatus.processed}
