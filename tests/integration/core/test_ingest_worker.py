"""The ingest worker's own promises, across platforms: deliveries that overtake the message they
are about wait for it; one Meta app's URL serves all its accounts; an echo that overtook the send's
answer does not leave a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update

from bandeja.channels.messenger.fake import FAKE as MESSENGER
from bandeja.channels.registry import Rules
from bandeja.channels.sandbox.contract import SandboxChannel, SimMessage, SimPerson, SimStatus
from bandeja.channels.whatsapp.fake import FAKE as WHATSAPP
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.conversations.models import Conversation, Kind
from bandeja.core.ingest import types as ev
from bandeja.core.ingest.actions import apply_event
from bandeja.core.ingest.models import RawEvent, RawEventStatus
from bandeja.core.messages.actions import ThreadInfo, record_outbound
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction, Message
from bandeja.core.outbox.actions import mark_sent, queue_reply
from bandeja.core.outbox.models import SendJob
from bandeja.core.outbox.types import ReplyDraft
from bandeja.core.users.models import Role
from tests.support.factory import BOX

PERSON = SimPerson(id="34600111222", name="Lucía Fernández", handle="lucia", language="es")


def _sandbox_channel(channel: ChannelAccount) -> SandboxChannel:
    from bandeja.channels.config import channel_config

    config = channel_config(channel, BOX)
    return SandboxChannel(
        bandeja_id=channel.id,
        platform=channel.platform,
        external_id=channel.external_id,
        name=channel.name,
        secrets=dict(config.secrets),
        webhook_url=f"http://testserver/webhooks/{channel.platform.value}/{channel.id}",
    )


async def _post(client, delivery) -> None:
    response = await client.post(
        urlsplit(delivery.url).path, content=delivery.body, headers=delivery.headers
    )
    assert response.status_code == 200, response.text


async def _raw_events(sessions) -> list[RawEvent]:
    async with sessions() as s:
        return list((await s.execute(select(RawEvent).order_by(RawEvent.id))).scalars())


async def test_a_status_that_overtakes_its_message_waits_for_it(
    db, factory, client, workers, sessions
):
    ws = await factory.workspace()
    channel = await factory.channel(ws, Platform.whatsapp, external_id="106540352242922")
    contact_msg, _ = await factory.message(channel, person=PERSON.id, thread=PERSON.id)
    await db.commit()
    now = datetime.now(UTC)
    [delivery] = WHATSAPP.deliveries(
        _sandbox_channel(channel),
        SimStatus(person=PERSON, message_id="wamid.OURS", status="delivered", at=now),
    )
    await _post(client, delivery)
    await workers.drain(settle=False)
    [raw] = await _raw_events(sessions)
    assert raw.status is RawEventStatus.pending
    assert raw.retry_at is not None
    assert raw.retry_at > now
    assert raw.error is not None
    assert "wamid.OURS" in raw.error

    # The send's answer is stored a moment later; the status then finds its message.
    conversation = await db.get(Conversation, contact_msg.id)
    reply = await record_outbound(
        db,
        conversation,
        text="¡Hola!",
        sent_at=now,
        author_type=AuthorType.user,
        status=DeliveryStatus.sent,
        external_id="wamid.OURS",
    )
    await db.commit()
    async with sessions() as s:
        await s.execute(update(RawEvent).values(retry_at=now - timedelta(seconds=1)))
        await s.commit()
    await workers.drain(settle=False)
    [raw] = await _raw_events(sessions)
    assert raw.status is RawEventStatus.processed
    async with sessions() as s:
        assert (await s.get(Message, reply.id)).status is DeliveryStatus.delivered


async def test_one_meta_app_url_serves_every_page_of_the_workspace(
    db, factory, client, workers, sessions
):
    ws = await factory.workspace()
    secret = {"signing_secret": "one-app-secret", "access_token": "t", "verify_token": "v"}
    page_a = await factory.channel(ws, Platform.messenger, external_id="1001", credentials=secret)
    page_b = await factory.channel(ws, Platform.messenger, external_id="2002", credentials=secret)
    await db.commit()
    # Meta sends page B's event to the app's one callback URL, which is page A's.
    as_b = _sandbox_channel(page_b)
    [delivery] = MESSENGER.deliveries(
        as_b,
        SimMessage(person=PERSON, message_id="m_b1", text="Hola, página B", at=datetime.now(UTC)),
    )
    await _post(
        client,
        delivery.__class__(
            url=f"/webhooks/messenger/{page_a.id}", headers=delivery.headers, body=delivery.body
        ),
    )
    await workers.drain()
    async with sessions() as s:
        landed = (await s.execute(select(Message.channel_account_id, Message.text))).all()
    assert landed == [(page_b.id, "Hola, página B")]
    assert {r.status for r in await _raw_events(sessions)} == {RawEventStatus.processed}


async def test_an_echo_that_overtakes_the_send_answer_leaves_no_duplicate(db, factory):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws, Platform.x, external_id="1500")
    conversation, _ = await factory.message(channel, person="77", thread="77")
    await db.commit()
    queued = await queue_reply(
        db, owner, conversation.id, ReplyDraft(text="See https://example.com/menu"), Rules()
    )
    await db.commit()
    # X's echo arrives first, with the link rewritten: it looks like a native-app message.
    await apply_event(
        db,
        channel,
        ev.EchoReceived(
            thread=ThreadInfo(kind=Kind.dm, key="77"),
            recipient=ev.Person(external_id="77"),
            external_id="X1",
            text="See https://t.co/abc",
            sent_at=datetime.now(UTC),
        ),
    )
    await db.commit()
    job = await db.get(SendJob, queued.job.id)
    await mark_sent(db, job, "X1")
    await db.commit()
    outbound = (
        (await db.execute(select(Message).where(Message.direction == Direction.outbound)))
        .scalars()
        .all()
    )
    assert [(m.id, m.external_id, m.author_type) for m in outbound] == [
        (queued.message.id, "X1", AuthorType.user)
    ]
    await db.refresh(conversation)
    assert conversation.message_count == 2


async def test_two_workers_racing_on_a_new_person_make_one_contact_and_conversation(
    db, factory, client, sessions
):
    """Two deliveries about a person Bandeja has never seen, processed at the same instant by
    two workers (two processes in production): one identity, one contact, one conversation."""
    import asyncio

    from bandeja.core.contacts.models import Contact, ContactIdentity
    from bandeja.jobs.ingest import IngestWorker

    ws = await factory.workspace()
    channel = await factory.channel(ws, Platform.whatsapp, external_id="106540352242922")
    await db.commit()
    sandbox_channel = _sandbox_channel(channel)
    now = datetime.now(UTC)
    for i in range(2):
        [delivery] = WHATSAPP.deliveries(
            sandbox_channel,
            SimMessage(person=PERSON, message_id=f"wamid.race{i}", text=f"hola {i}", at=now),
        )
        await _post(client, delivery)
    async with httpx.AsyncClient() as http:
        first = IngestWorker(sessions, BOX, http, batch=1)
        second = IngestWorker(sessions, BOX, http, batch=1)
        handled = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(handled) == [1, 1]  # SKIP LOCKED gave each worker its own delivery
    async with sessions() as s:
        assert len((await s.execute(select(ContactIdentity))).all()) == 1
        assert len((await s.execute(select(Contact))).all()) == 1
        [conversation] = (await s.execute(select(Conversation))).scalars().all()
        assert conversation.message_count == 2
        assert len((await s.execute(select(Message))).all()) == 2


async def test_a_contact_named_by_id_takes_the_profile_name_when_it_comes(db, factory):
    from bandeja.core.contacts.actions import IdentityInfo, get_or_create_identity
    from bandeja.core.contacts.models import Contact

    ws = await factory.workspace()
    channel = await factory.channel(ws, Platform.instagram)
    first = await get_or_create_identity(
        db,
        workspace_id=ws.id,
        channel_account_id=channel.id,
        info=IdentityInfo(external_id="6523081971089342"),
    )
    contact = await db.get(Contact, first.contact_id)
    assert contact.name == "6523081971089342"
    await get_or_create_identity(
        db,
        workspace_id=ws.id,
        channel_account_id=channel.id,
        info=IdentityInfo(external_id="6523081971089342", display_name="Lucía Fernández"),
    )
    assert (contact.name, contact.search_name) == ("Lucía Fernández", "lucia fernandez")
    # A name a teammate typed is theirs to keep.
    contact.name = "Lucía (VIP)"
    await get_or_create_identity(
        db,
        workspace_id=ws.id,
        channel_account_id=channel.id,
        info=IdentityInfo(external_id="6523081971089342", display_name="Lucía F."),
    )
    assert contact.name == "Lucía (VIP)"
