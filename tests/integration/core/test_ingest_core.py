"""``receive_message``: idempotent, order-independent, safe under concurrent deliveries; and the
live counters behind the view counts stay equal to ``COUNT(*)`` whatever sequence of actions ran.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bandeja.core.activity.models import Activity
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts import actions as contact_actions
from bandeja.core.contacts.actions import IdentityInfo, merge_contacts
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations import actions
from bandeja.core.conversations.models import Conversation, ConversationCount, Kind, Status
from bandeja.core.messages import actions as message_actions
from bandeja.core.messages.actions import IncomingMessage, ThreadInfo, receive_message
from bandeja.core.messages.models import Message
from bandeja.core.users.models import Role

NOW = datetime.now(UTC)


def _person(external_id: str = "cust-1", name: str = "Carla") -> IdentityInfo:
    return IdentityInfo(external_id=external_id, display_name=name)


def _dm(key: str = "cust-1") -> ThreadInfo:
    return ThreadInfo(kind=Kind.dm, key=key)


def _msg(external_id: str | None, text: str, at: datetime) -> IncomingMessage:
    return IncomingMessage(external_id=external_id, text=text, sent_at=at)


async def _setup(db, factory):
    ws = await factory.workspace()
    _, owner = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    await db.commit()
    return ws, owner, channel


async def _count(session, model, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _conversation(sessions, conversation_id: int) -> Conversation:
    async with sessions() as s:
        conversation = await s.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


async def test_the_same_delivery_five_times_stores_one_message(db, factory, sessions):
    ws, _, channel = await _setup(db, factory)
    first, new = await receive_message(
        db, channel, _person(), _dm(), _msg("mid.1", "hola", NOW - timedelta(minutes=3))
    )
    assert new is True
    await db.commit()
    for attempt in range(4):
        # Redeliveries, in this session and in fresh ones, even with different text.
        async with sessions() as s:
            again, new = await receive_message(
                s, channel, _person(), _dm(), _msg("mid.1", f"hola {attempt}", NOW)
            )
            await s.commit()
        assert (again.id, new) == (first.id, False)
    async with sessions() as s:
        assert await _count(s, Message, Message.channel_account_id == channel.id) == 1
        conversation = await s.get(Conversation, first.conversation_id)
        assert conversation is not None
        assert conversation.message_count == 1
        assert conversation.last_message_preview == "hola"
        assert conversation.last_activity_at == NOW - timedelta(minutes=3)
    # The same id on another channel account is another message.
    other = await factory.channel(ws, Platform.x)
    message, new = await receive_message(db, other, _person(), _dm(), _msg("mid.1", "x", NOW))
    assert new is True
    assert message.id != first.id


async def test_an_older_message_arriving_late_does_not_move_the_conversation_back(
    db,
    factory,
    sessions,
):
    _, _, channel = await _setup(db, factory)
    newest, _ = await receive_message(
        db, channel, _person(), _dm(), _msg("m-new", "the latest words", NOW - timedelta(minutes=1))
    )
    await receive_message(
        db, channel, _person(), _dm(), _msg("m-old", "said an hour ago", NOW - timedelta(hours=1))
    )
    await db.commit()
    conversation = await _conversation(sessions, newest.conversation_id)
    assert conversation.message_count == 2
    assert conversation.last_message_preview == "the latest words"
    assert conversation.last_activity_at == NOW - timedelta(minutes=1)
    assert conversation.last_inbound_at == NOW - timedelta(minutes=1)
    assert "said an hour ago" in conversation.search_document  # still searchable
    # The thread reads in platform order, whatever the arrival order.
    async with sessions() as s:
        texts = (
            (
                await s.execute(
                    select(Message.text)
                    .where(Message.conversation_id == conversation.id)
                    .order_by(Message.sent_at)
                )
            )
            .scalars()
            .all()
        )
    assert texts == ["said an hour ago", "the latest words"]


async def test_a_late_message_older_than_completion_does_not_reopen_but_a_new_one_does(
    db,
    factory,
    sessions,
):
    _, owner, channel = await _setup(db, factory)
    message, _ = await receive_message(
        db, channel, _person(), _dm(), _msg("m1", "help", NOW - timedelta(hours=2))
    )
    await actions.complete(db, owner, message.conversation_id)
    await db.commit()
    # Sent before the team closed it, delivered after: stays complete.
    await receive_message(
        db, channel, _person(), _dm(), _msg("m2", "thanks!", NOW - timedelta(hours=1))
    )
    await db.commit()
    conversation = await _conversation(sessions, message.conversation_id)
    assert conversation.status is Status.complete
    assert conversation.completed_at is not None
    assert conversation.message_count == 2
    # Written after it was closed: open again, recorded as a system reopen.
    await receive_message(
        db,
        channel,
        _person(),
        _dm(),
        _msg("m3", "one more thing", datetime.now(UTC) + timedelta(seconds=1)),
    )
    await db.commit()
    conversation = await _conversation(sessions, message.conversation_id)
    assert conversation.status is Status.open
    assert conversation.completed_at is None
    async with sessions() as s:
        verbs = (
            await s.execute(
                select(Activity.verb, Activity.actor_user_id)
                .where(Activity.conversation_id == conversation.id)
                .order_by(Activity.id)
            )
        ).all()
    assert [tuple(v) for v in verbs] == [
        ("conversation.completed", owner.user_id),
        ("conversation.reopened", None),
    ]


async def test_a_customer_message_brings_a_follow_up_back_to_open(db, factory, sessions):
    _, owner, channel = await _setup(db, factory)
    message, _ = await receive_message(
        db, channel, _person(), _dm(), _msg("m1", "help", NOW - timedelta(hours=2))
    )
    await actions.follow_up(db, owner, message.conversation_id, NOW + timedelta(days=3))
    await db.commit()
    assert (await _conversation(sessions, message.conversation_id)).status is Status.follow_up
    await receive_message(db, channel, _person(), _dm(), _msg("m2", "any news?", datetime.now(UTC)))
    await db.commit()
    conversation = await _conversation(sessions, message.conversation_id)
    assert conversation.status is Status.open
    assert conversation.follow_up_until is None


class _Rendezvous:
    """Make both deliveries look up before either inserts (the race), on PostgreSQL.

    SQLite takes its write lock at BEGIN, so there the second delivery waits for the first to
    commit and the rendezvous is skipped: the invariant must hold either way.
    """

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, enabled: bool
    ) -> None:
        self.barrier = asyncio.Barrier(2)
        self.waited: set[int] = set()
        self.enabled = enabled
        self.lookups: Counter[int] = Counter()
        original = getattr(module, name)

        async def wrapped(session: Any, *args: Any, **kwargs: Any) -> Any:
            found = await original(session, *args, **kwargs)
            self.lookups[id(session)] += 1
            if enabled and id(session) not in self.waited:
                self.waited.add(id(session))
                await asyncio.wait_for(self.barrier.wait(), timeout=10)
            return found

        monkeypatch.setattr(module, name, wrapped)

    def assert_race_happened(self) -> None:
        """The loser of the race looked up again after its insert hit the unique index."""
        if self.enabled:
            assert sorted(self.lookups.values()) == [1, 2], self.lookups


async def _deliver(
    sessions, channel_id: int, person: IdentityInfo, thread: ThreadInfo, incoming: IncomingMessage
) -> tuple[int, bool]:
    async with sessions() as s:
        channel = await s.get(ChannelAccount, channel_id)
        message, new = await receive_message(s, channel, person, thread, incoming)
        await s.commit()
        return message.id, new


async def test_concurrent_first_messages_of_a_new_person_make_one_contact_and_conversation(
    db,
    factory,
    sessions,
    engine,
    monkeypatch,
):
    _, _, channel = await _setup(db, factory)
    race = _Rendezvous(
        monkeypatch, contact_actions, "_find_identity", enabled=engine.dialect.name == "postgresql"
    )
    results = await asyncio.gather(
        _deliver(
            sessions,
            channel.id,
            _person("new-p"),
            _dm("new-p"),
            _msg("a", "first", NOW - timedelta(seconds=2)),
        ),
        _deliver(
            sessions,
            channel.id,
            _person("new-p"),
            _dm("new-p"),
            _msg("b", "second", NOW - timedelta(seconds=1)),
        ),
    )
    race.assert_race_happened()
    assert all(new for _, new in results)
    assert results[0][0] != results[1][0]
    async with sessions() as s:
        identities = ContactIdentity.channel_account_id == channel.id
        assert await _count(s, ContactIdentity, identities) == 1
        assert await _count(s, Contact, Contact.workspace_id == channel.workspace_id) == 1
        conversations = (
            (
                await s.execute(
                    select(Conversation).where(Conversation.channel_account_id == channel.id)
                )
            )
            .scalars()
            .all()
        )
        assert len(conversations) == 1
        assert conversations[0].message_count == 2
        assert conversations[0].last_message_preview == "second"
        assert await _count(s, Message, Message.conversation_id == conversations[0].id) == 2
        assert (
            await s.scalar(
                select(func.sum(ConversationCount.n)).where(
                    ConversationCount.channel_account_id == channel.id
                )
            )
            == 1
        )


async def test_concurrent_new_threads_of_a_known_person_make_one_conversation(
    db,
    factory,
    sessions,
    engine,
    monkeypatch,
):
    _, _, channel = await _setup(db, factory)
    await receive_message(
        db,
        channel,
        _person(),
        ThreadInfo(Kind.comment, "post-1"),
        _msg("c0", "nice post", NOW - timedelta(minutes=5)),
    )
    await db.commit()
    race = _Rendezvous(
        monkeypatch,
        message_actions,
        "find_conversation",
        enabled=engine.dialect.name == "postgresql",
    )
    await asyncio.gather(
        _deliver(sessions, channel.id, _person(), _dm(), _msg("d1", "hi", NOW)),
        _deliver(sessions, channel.id, _person(), _dm(), _msg("d2", "hello?", NOW)),
    )
    race.assert_race_happened()
    async with sessions() as s:
        dms = (
            (
                await s.execute(
                    select(Conversation).where(
                        Conversation.channel_account_id == channel.id, Conversation.kind == Kind.dm
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(dms) == 1
        assert dms[0].message_count == 2
        assert await _count(s, Contact, Contact.workspace_id == channel.workspace_id) == 1
        assert (
            await s.scalar(
                select(func.sum(ConversationCount.n)).where(
                    ConversationCount.channel_account_id == channel.id
                )
            )
            == 2
        )


async def test_a_delivery_processed_twice_at_once_is_stored_once(
    db, factory, sessions, engine, monkeypatch
):
    _, _, channel = await _setup(db, factory)
    race = _Rendezvous(
        monkeypatch, contact_actions, "_find_identity", enabled=engine.dialect.name == "postgresql"
    )
    results = await asyncio.gather(
        *(
            _deliver(sessions, channel.id, _person("dup"), _dm("dup"), _msg("same", "hi", NOW))
            for _ in range(2)
        )
    )
    race.assert_race_happened()
    assert results[0][0] == results[1][0]
    assert sorted(new for _, new in results) == [False, True]
    async with sessions() as s:
        conversation = (
            await s.execute(
                select(Conversation).where(Conversation.channel_account_id == channel.id)
            )
        ).scalar_one()
        assert conversation.message_count == 1
        assert await _count(s, Message, Message.channel_account_id == channel.id) == 1


async def _counter_cells(session, workspace_id: int) -> tuple[Counter, Counter]:
    """(status, assignee) totals from the live counters, and from the conversations."""
    live: Counter[tuple[str, int]] = Counter()
    for status, assignee, n in await session.execute(
        select(
            ConversationCount.status, ConversationCount.assignee_id, func.sum(ConversationCount.n)
        )
        .where(ConversationCount.workspace_id == workspace_id)
        .group_by(ConversationCount.status, ConversationCount.assignee_id)
    ):
        if n:
            live[(str(status), int(assignee))] = int(n)
    real: Counter[tuple[str, int]] = Counter()
    for status, assignee, n in await session.execute(
        select(Conversation.status, Conversation.assignee_id, func.count())
        .where(Conversation.workspace_id == workspace_id)
        .group_by(Conversation.status, Conversation.assignee_id)
    ):
        real[(str(status.value if hasattr(status, "value") else status), int(assignee or 0))] = n
    return live, real


async def test_live_counters_equal_count_star_after_a_random_sequence_of_actions(
    db,
    factory,
    sessions,
):
    rng = random.Random(20261122)
    ws = await factory.workspace()
    owner_user, owner = await factory.user(ws, Role.owner)
    admin_user, _ = await factory.user(ws, Role.admin)
    agent_user, _ = await factory.user(ws, Role.agent)
    ig = await factory.channel(ws, Platform.instagram, members=[agent_user])
    x = await factory.channel(ws, Platform.x)
    await db.commit()
    # Plain ids: the rollbacks below expire every object the session holds.
    ws_id, ig_id, channel_ids = ws.id, ig.id, [ig.id, x.id]
    owner_id, admin_id, agent_id = owner_user.id, admin_user.id, agent_user.id
    clock = [NOW - timedelta(days=1)]
    performed: Counter[str] = Counter()
    n_people = 0

    def tick() -> datetime:
        clock[0] += timedelta(seconds=rng.randint(1, 600))
        return clock[0]

    async def pick_conversation() -> Conversation | None:
        ids = (
            (await db.execute(select(Conversation.id).where(Conversation.workspace_id == ws_id)))
            .scalars()
            .all()
        )
        return await db.get(Conversation, rng.choice(ids)) if ids else None

    for step in range(200):
        op = rng.choices(
            [
                "new",
                "again",
                "late",
                "assign",
                "complete",
                "reopen",
                "follow_up",
                "due",
                "merge",
                "rollback",
            ],
            weights=[18, 10, 5, 16, 10, 8, 8, 3, 4, 3],
        )[0]
        conversation = await pick_conversation()
        if op == "new" or conversation is None:
            n_people += 1
            channel = await db.get(ChannelAccount, rng.choice(channel_ids))
            kind = rng.choice(list(Kind))
            await receive_message(
                db,
                channel,
                _person(f"p{n_people}", f"P {n_people}"),
                ThreadInfo(kind, f"t{n_people}"),
                _msg(f"m{step}", "hello", tick()),
            )
            op = "new"
        elif op in ("again", "late"):
            channel = await db.get(ChannelAccount, conversation.channel_account_id)
            identity = (
                (
                    await db.execute(
                        select(ContactIdentity).where(
                            ContactIdentity.contact_id == conversation.contact_id,
                            ContactIdentity.channel_account_id == conversation.channel_account_id,
                        )
                    )
                )
                .scalars()
                .first()
            )
            if identity is None:
                continue
            at = tick() if op == "again" else NOW - timedelta(days=30)
            await receive_message(
                db,
                channel,
                _person(identity.external_id),
                ThreadInfo(conversation.kind, conversation.thread_key),
                _msg(f"m{step}", "more", at),
            )
        elif op == "assign":
            choices: list[int | None] = [None, owner_id, admin_id]
            if conversation.channel_account_id == ig_id:
                choices.append(agent_id)
            await actions.assign(db, owner, conversation.id, rng.choice(choices))
        elif op == "complete":
            await actions.complete(db, owner, conversation.id)
        elif op == "reopen":
            await actions.reopen(db, owner, conversation.id)
        elif op == "follow_up":
            await actions.follow_up(
                db, owner, conversation.id, datetime.now(UTC) + timedelta(hours=rng.randint(1, 48))
            )
        elif op == "due":
            await actions.reopen_due_follow_ups(
                db, now=datetime.now(UTC) + timedelta(hours=rng.randint(0, 49))
            )
        elif op == "merge":
            contacts = (
                (await db.execute(select(Contact.id).where(Contact.workspace_id == ws_id)))
                .scalars()
                .all()
            )
            if len(contacts) < 2:
                continue
            target, source = rng.sample(list(contacts), 2)
            await merge_contacts(db, owner, target, source)
        elif op == "rollback":
            await actions.complete(db, owner, conversation.id)
            await actions.assign(db, owner, conversation.id, admin_id)
            await db.rollback()
        performed[op] += 1
        if rng.random() < 0.3:
            await db.commit()
        if step % 50 == 49:
            await db.commit()
            live, real = await _counter_cells(db, ws_id)
            assert live == real, (step, performed)
    await db.commit()
    async with sessions() as s:
        live, real = await _counter_cells(s, ws_id)
        total = await _count(s, Conversation, Conversation.workspace_id == ws_id)
    assert live == real
    assert sum(real.values()) == total >= 30
    # Every kind of operation ran, so the equality above means something.
    assert all(
        performed[op] >= 2
        for op in (
            "new",
            "again",
            "late",
            "assign",
            "complete",
            "reopen",
            "follow_up",
            "due",
            "merge",
            "rollback",
        )
    ), performed
    assert len({status for status, _ in real}) == 3
    assert len({a for _, a in real}) >= 3


async def test_concurrent_moves_between_the_same_counter_cells_stay_exact(db, factory, sessions):
    ws = await factory.workspace()
    owner_user, owner = await factory.user(ws, Role.owner)
    channel = await factory.channel(ws)
    ids = [(await factory.message(channel, person=f"p{i}"))[0].id for i in range(6)]
    await db.commit()

    async def assign(conversation_id: int) -> None:
        async with sessions() as s:
            await actions.assign(s, owner, conversation_id, owner_user.id)
            await actions.complete(s, owner, conversation_id)
            await s.commit()

    await asyncio.gather(*(assign(i) for i in ids[:4]))
    async with sessions() as s:
        live, real = await _counter_cells(s, ws.id)
    assert real == {("complete", owner_user.id): 4, ("open", 0): 2}
    assert live == real


async def test_a_message_with_a_nul_character_is_still_stored(db, factory, sessions):
    """Platform payloads are hostile: a NUL character in a message (valid JSON, refused by
    PostgreSQL text columns) must not make the delivery fail forever."""
    _, _, channel = await _setup(db, factory)
    message, new = await receive_message(
        db, channel, _person("nul", "Nu\x00ll"), _dm("nul"), _msg("nul-1", "a\x00b", NOW)
    )
    await db.commit()
    assert new is True
    async with sessions() as s:
        stored = await s.get(Message, message.id)
        assert stored is not None
        assert stored.text.replace("\x00", "") == "ab"
        conversation = await s.get(Conversation, stored.conversation_id)
        assert conversation is not None
        assert conversation.message_count == 1
