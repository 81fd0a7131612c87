"""The demo workspace: loaded through the core's actions, it has the shape the CLI promises.

One load per backend (it takes a few seconds), checked through the core's own queries, and
compared row by row with the pure plan, which is what makes the load reproducible.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.channels.sandbox.app import api_base_url
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.channels.queries import list_channel_accounts
from bandeja.core.contacts.models import Contact, ContactIdentity
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import (
    Conversation,
    ConversationCount,
    ConversationTag,
    Kind,
    Priority,
    Status,
)
from bandeja.core.conversations.queries import count_conversations, list_conversations
from bandeja.core.conversations.schemas import ConversationSummary
from bandeja.core.errors import Conflict
from bandeja.core.messages.models import Direction, Message
from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.saved_replies.queries import list_saved_replies, render_saved_reply
from bandeja.core.tags.queries import list_tags
from bandeja.core.users.auth import login
from bandeja.core.users.models import Role, User
from bandeja.core.users.queries import list_members, list_teams
from bandeja.core.views.queries import list_views
from bandeja.core.workspaces.actions import create_workspace
from bandeja.demo import DEMO_LOGINS, demo_exists, load_demo, plan_demo
from bandeja.demo.loader import CONVERSATIONS, STATUS_COUNTS, PlannedConversation, summary
from tests.support.factory import BOX

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
SANDBOX = "http://127.0.0.1:8765"
PLATFORMS = {"messenger", "instagram", "whatsapp", "x", "linkedin", "telegram"}


async def _login(db: AsyncSession, role: str, locale: str | None = None) -> Actor:
    """Log in with a printed demo login, as a person would: this also checks the password."""
    for demo_login in DEMO_LOGINS:
        if demo_login.role != role:
            continue
        user = (await db.execute(select(User).where(User.email == demo_login.email))).scalar_one()
        if locale is None or user.locale == locale:
            logged_in = await login(
                db,
                email=demo_login.email,
                password=demo_login.password,
                workspace_slug="demo",
                lifetime=timedelta(hours=1),
            )
            return logged_in.actor
    raise AssertionError(f"no demo login with role {role} and locale {locale}")


async def _all_conversations(db: AsyncSession, actor: Actor) -> list[ConversationSummary]:
    items: list[ConversationSummary] = []
    cursor = None
    while True:
        page = await list_conversations(
            db, actor, ConversationFilter(), cursor=cursor, limit=200, with_counts=False
        )
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


async def test_demo_has_the_promised_shape(db: AsyncSession) -> None:
    assert not await demo_exists(db)
    result = await load_demo(db, box=BOX, now=NOW, sandbox_base_url=SANDBOX)
    await db.commit()
    assert await demo_exists(db)
    plan = plan_demo(now=NOW)
    promised = summary(plan)
    assert result.workspace_slug == "demo"
    assert result.conversations == len(plan) == CONVERSATIONS >= 200
    assert result.messages == sum(len(p.messages) for p in plan)
    assert {login.email for login in result.logins} == {login.email for login in DEMO_LOGINS}

    # Users: every printed login works; an owner, an admin, and agents in Spanish and Italian.
    owner = await _login(db, "owner")
    admin = await _login(db, "admin")
    agent_es = await _login(db, "agent", "es")
    agent_it = await _login(db, "agent", "it")
    assert (owner.role, admin.role, agent_es.role, agent_it.role) == (
        Role.owner,
        Role.admin,
        Role.agent,
        Role.agent,
    )
    members = await list_members(db, owner)
    assert len(members) == len(DEMO_LOGINS) >= 4
    assert Counter(m.role.value for m in members) == Counter(d.role for d in DEMO_LOGINS)
    assert {m.locale for m in members if m.role is Role.agent} >= {"es", "it"}
    assert all(min(len(d.password), len(d.email)) >= 8 for d in DEMO_LOGINS)
    assert 1 <= len(await list_teams(db, owner)) <= 2

    # Channel accounts: every platform, sealed credentials, sandbox base URL; agents see some.
    channels = await list_channel_accounts(db, owner)
    assert len(channels) >= 6
    assert {c.platform.value for c in channels} == PLATFORMS
    for channel in channels:  # pointed at the sandbox, each platform under its own prefix
        assert channel.settings == {"api_base_url": api_base_url(SANDBOX, channel.platform)}
    for account in (await db.execute(select(ChannelAccount))).scalars():
        assert account.credentials_sealed
        assert "signing_secret" not in account.credentials_sealed  # sealed, not plain JSON
        secrets = json.loads(BOX.open(account.credentials_sealed))
        assert set(secrets) == {"signing_secret", "access_token", "verify_token"}
    for agent in (agent_es, agent_it):
        assert 0 < len(await list_channel_accounts(db, agent)) < len(channels)

    # Conversations: the counts the plan promised, every kind, and a mix of statuses.
    counts = await count_conversations(db, owner, ConversationFilter())
    assert counts.total == CONVERSATIONS
    assert counts.status == {s.value: promised["status"][s.value] for s in Status}
    assert counts.status["open"] == STATUS_COUNTS[Status.open]
    assert counts.status["follow_up"] == STATUS_COUNTS[Status.follow_up]
    assert 0 < counts.assignee["unassigned"] < counts.total
    for kind in Kind:
        by_kind = await count_conversations(db, owner, ConversationFilter(kinds=[kind]))
        assert by_kind.total == promised["kind"][kind.value] > 0
    for agent in (agent_es, agent_it):
        seen = (await count_conversations(db, agent, ConversationFilter())).total
        assert 0 < seen < counts.total

    listed = await _all_conversations(db, owner)
    assert len(listed) == CONVERSATIONS
    assert Counter(c.kind.value for c in listed) == promised["kind"]
    window = (NOW - timedelta(days=30), NOW)
    assert all(window[0] <= c.last_activity_at <= NOW for c in listed)
    assert any(c.unread for c in listed)
    assert any(not c.unread for c in listed)
    assert {c.priority for c in listed} >= {"none", "high", "urgent"}
    assert all(c.subject for c in listed if c.kind is Kind.comment)

    # Messages: 1 to 8 per conversation, all inside the last 30 days, in three languages.
    sent = (await db.execute(select(func.min(Message.sent_at), func.max(Message.sent_at)))).one()
    assert window[0] <= sent[0]
    assert sent[1] <= NOW
    per_conversation = Counter((await db.execute(select(Message.conversation_id))).scalars())
    assert set(per_conversation.values()) <= set(range(1, 9))
    assert sum(per_conversation.values()) == result.messages
    languages = Counter((await db.execute(select(ContactIdentity.language))).scalars())
    assert set(languages) == {"en", "es", "it"}
    texts = " ".join((await db.execute(select(Message.text))).scalars()).lower()
    for word in ("thanks", "gracias", "grazie"):
        assert word in texts
    identities_per_name = Counter(
        name
        for (name,) in await db.execute(
            select(Contact.name).join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        )
    )
    assert any(n > 1 for n in identities_per_name.values()), "someone wrote on two platforms"

    # Statuses are consistent with the story the times tell.
    rows = (await db.execute(select(Conversation))).scalars().all()
    for row in rows:
        if row.status is Status.complete:
            assert row.completed_at is not None
            assert row.last_activity_at <= row.completed_at <= NOW
        elif row.status is Status.follow_up:
            assert row.follow_up_until is not None
            assert row.follow_up_until > NOW
        assert window[0] <= row.created_at <= row.last_activity_at
        if row.kind is not Kind.dm:
            assert row.post_url

    # Triage: grouped tags in use, notes that mention teammates, saved views.
    tags = {t.id: t for t in await list_tags(db, owner)}
    assert {t.group.value for t in tags.values()} >= {"type", "urgency", "topic"}
    used = {tags[t].name for t in (await db.execute(select(ConversationTag.tag_id))).scalars()}
    assert {"complaint", "question", "praise", "urgent"} <= used
    urgent = await count_conversations(db, owner, ConversationFilter(priorities=["urgent"]))
    assert urgent.total > 0
    assert (await db.scalar(select(func.count()).select_from(Note)) or 0) > 0
    assert (await db.scalar(select(func.count()).select_from(NoteMention)) or 0) > 0
    assert any(not v.builtin for v in await list_views(db, agent_es, with_counts=False))

    # Saved replies shared with everyone, in the three languages, filled in for the contact.
    replies = await list_saved_replies(db, agent_it)
    assert len(replies) >= 3
    assert all(r.owner_id is None for r in replies)
    for reply in replies:
        assert {v.language for v in reply.variants} == {"en", "es", "it"}
        assert all("{{contact.first_name}}" in v.body for v in reply.variants)
    spanish = await db.scalar(
        select(Conversation.id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Contact.language == "es")
        .limit(1)
    )
    assert spanish is not None
    rendered = await render_saved_reply(db, owner, replies[0].id, spanish)
    assert rendered.language == "es"
    assert "{{" not in rendered.text

    # The live counters agree with a real COUNT(*), cell by cell.
    K, C = ConversationCount, Conversation
    counters = {
        (ch, kind, status, assignee): n
        for ch, kind, status, assignee, n in await db.execute(
            select(K.channel_account_id, K.kind, K.status, K.assignee_id, K.n).where(K.n != 0)
        )
    }
    actual = {
        (ch, str(kind), str(status), assignee or 0): n
        for ch, kind, status, assignee, n in await db.execute(
            select(C.channel_account_id, C.kind, C.status, C.assignee_id, func.count()).group_by(
                C.channel_account_id, C.kind, C.status, C.assignee_id
            )
        )
    }
    assert counters == actual

    # Row by row, the database holds exactly the plan: the load is as reproducible as the plan.
    users = {u.id: u.email.split("@")[0] for u in (await db.execute(select(User))).scalars()}
    channel_keys = {c.id: c.name for c in channels}
    tag_names = {t.id: t.name for t in tags.values()}
    loaded = {}
    for row in rows:
        messages = (
            await db.execute(
                select(Message.direction, Message.text, Message.sent_at)
                .where(Message.conversation_id == row.id)
                .order_by(Message.sent_at, Message.id)
            )
        ).all()
        row_tags = sorted(
            tag_names[t]
            for t in (
                await db.execute(
                    select(ConversationTag.tag_id).where(ConversationTag.conversation_id == row.id)
                )
            ).scalars()
        )
        loaded[(channel_keys[row.channel_account_id], row.thread_key)] = (
            row.kind,
            row.status,
            users.get(row.assignee_id or 0),
            Priority(row.priority).name,
            row_tags,
            [(d is Direction.inbound, t, at) for d, t, at in messages],
        )
    expected = {
        (p.channel_name, p.thread_key): (
            p.kind,
            p.status,
            p.assignee,
            p.priority,
            sorted(p.tags),
            [(m.inbound, m.text, m.sent_at) for m in p.messages],
        )
        for p in plan
    }
    assert loaded == expected


async def test_demo_loads_once(db: AsyncSession) -> None:
    """Only one workspace is called "demo": a second load is refused before writing anything."""
    await create_workspace(db, slug="demo", name="Already here")
    assert await demo_exists(db)
    with pytest.raises(Conflict):
        await load_demo(db, box=BOX, now=NOW)


def test_plan_is_deterministic_and_seeded() -> None:
    first, again, other = plan_demo(now=NOW), plan_demo(now=NOW), plan_demo(now=NOW, seed=8)

    def texts(plan: list[PlannedConversation]) -> list[str]:
        return [m.text for p in plan for m in p.messages]

    assert texts(first) == texts(again)
    assert texts(first) != texts(other)
    # Another seed tells other stories with the same proportions.
    assert summary(other)["status"] == summary(first)["status"]
    assert summary(other)["lang"] == summary(first)["lang"] == {"en": 108, "es": 72, "it": 60}
    # No template slot was left unfilled, and every thread key is unique on its channel.
    assert not any("{" in t or "}" in t for t in texts(first) + texts(other))
    keys = [(p.channel, p.kind, p.thread_key) for p in first]
    assert len(keys) == len(set(keys))
    ids = [(p.channel, m.external_id) for p in first for m in p.messages]
    assert len(ids) == len(set(ids))
