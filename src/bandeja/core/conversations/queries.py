"""Reads of conversations: the inbox list, its counts, and one conversation.

Query budget (pinned in tests): the list is one query for the page, one for its tags, one for
read state, one for the counts; opening a conversation is one query for the row, one for tags.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.contacts.models import Contact
from bandeja.core.conversations import search
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import (
    Conversation,
    ConversationCount,
    ConversationRead,
    ConversationTag,
    Priority,
    Status,
)
from bandeja.core.conversations.schemas import (
    ChannelRef,
    ContactRef,
    ConversationDetail,
    ConversationPage,
    ConversationSummary,
    Counts,
    TagRef,
    UserRef,
)
from bandeja.core.errors import InvalidInput, NotFound
from bandeja.core.tags.models import Tag
from bandeja.core.users.models import User
from bandeja.storage.base import UTCDateTime

C = Conversation
MAX_PAGE = 200


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def encode_cursor(at: datetime, conversation_id: int) -> str:
    raw = f"{at.isoformat()}|{conversation_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid; use next_cursor from the previous page") from exc


def _channels_of_platforms(actor: Actor, platforms: Iterable[str]) -> Any:
    return (
        select(ChannelAccount.id)
        .where(
            ChannelAccount.workspace_id == actor.workspace_id,
            ChannelAccount.platform.in_(list(platforms)),
        )
        .scalar_subquery()
    )


def scope_clauses(actor: Actor) -> list[ColumnElement[bool]]:
    return [C.workspace_id == actor.workspace_id, visible_channels(actor, C.channel_account_id)]


def _assignee_clause(actor: Actor, assignee: object) -> ColumnElement[bool]:
    if assignee == "me":
        return C.assignee_id == actor.user_id
    if assignee == "unassigned":
        return C.assignee_id.is_(None)
    if assignee == "anyone":
        return C.assignee_id.is_not(None)
    return C.assignee_id == assignee


def filter_clauses(
    session: AsyncSession,
    actor: Actor,
    spec: ConversationFilter,
    *,
    skip_status: bool = False,
    skip_assignee: bool = False,
    search_ids: list[int] | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``spec`` for ``actor``, scope included."""
    where = scope_clauses(actor)
    if spec.status and not skip_status:
        where.append(C.status.in_(spec.status))
    if spec.assignee is not None and not skip_assignee:
        where.append(_assignee_clause(actor, spec.assignee))
    if spec.team_id is not None:
        where.append(C.team_id == spec.team_id)
    if spec.platforms:
        where.append(C.channel_account_id.in_(_channels_of_platforms(actor, spec.platforms)))
    if spec.channel_account_ids:
        where.append(C.channel_account_id.in_(spec.channel_account_ids))
    if spec.kinds:
        where.append(C.kind.in_(spec.kinds))
    if spec.priorities:
        where.append(C.priority.in_(spec.priority_values()))
    if spec.contact_id is not None:
        where.append(C.contact_id == spec.contact_id)
    if spec.since is not None:
        where.append(C.last_activity_at >= spec.since)
    if spec.until is not None:
        where.append(C.last_activity_at < spec.until)
    if spec.tag_ids:
        tagged = [
            exists().where(ConversationTag.conversation_id == C.id, ConversationTag.tag_id == tag)
            for tag in spec.tag_ids
        ]
        where.append(or_(*tagged) if spec.tag_match == "any" else and_(*tagged))
    if spec.unread is not None:
        read = exists().where(
            ConversationRead.conversation_id == C.id,
            ConversationRead.user_id == actor.user_id,
            ConversationRead.read_at >= C.last_inbound_received_at,
        )
        unread = and_(C.last_inbound_received_at.is_not(None), not_(read))
        where.append(unread if spec.unread else not_(unread))
    if spec.q:
        # ``search_ids``: the few matches the search index found (see search.rare_matches).
        where.append(
            C.id.in_(search_ids)
            if search_ids is not None
            else search.match(_dialect(session), spec.q)
        )
    return where


def _summary_select() -> Select[Conversation, str, str | None, Platform, str, str]:
    assignee = aliased(User)
    return (
        select(
            C,
            Contact.name,
            Contact.avatar_url,
            ChannelAccount.platform,
            ChannelAccount.name,
            assignee.name,
        )
        .join(Contact, Contact.id == C.contact_id)
        .join(ChannelAccount, ChannelAccount.id == C.channel_account_id)
        .outerjoin(assignee, assignee.id == C.assignee_id)
        # Up to 20 KB of search text per row: the list never shows it.
        .options(defer(C.search_document))
    )


async def _tags_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[TagRef]]:
    tags: dict[int, list[TagRef]] = {i: [] for i in ids}
    if not ids:
        return tags
    rows = await session.execute(
        select(ConversationTag.conversation_id, Tag.id, Tag.name, Tag.color)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(Tag.name)
    )
    for conversation_id, tag_id, name, color in rows:
        tags[conversation_id].append(TagRef(id=tag_id, name=name, color=color))
    return tags


async def _read_at(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = await session.execute(
        select(ConversationRead.conversation_id, ConversationRead.read_at).where(
            ConversationRead.user_id == actor.user_id, ConversationRead.conversation_id.in_(ids)
        )
    )
    return {row.conversation_id: row.read_at for row in rows}


def _is_unread(conversation: Conversation, read_at: datetime | None) -> bool:
    arrived = conversation.last_inbound_received_at
    if arrived is None:
        return False
    return read_at is None or read_at < arrived


def _summary(row: Any, tags: list[TagRef], read_at: datetime | None) -> dict[str, Any]:
    conversation, contact_name, avatar, platform, channel_name, assignee_name = row
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "status": conversation.status,
        "follow_up_until": conversation.follow_up_until,
        "priority": Priority(conversation.priority).name,
        "channel": ChannelRef(
            id=conversation.channel_account_id, platform=platform, name=channel_name
        ),
        "contact": ContactRef(id=conversation.contact_id, name=contact_name, avatar_url=avatar),
        "assignee": UserRef(id=conversation.assignee_id, name=assignee_name)
        if conversation.assignee_id is not None
        else None,
        "team_id": conversation.team_id,
        "tags": tags,
        "snippet": conversation.last_message_preview,
        "subject": conversation.subject,
        "last_activity_at": conversation.last_activity_at,
        "last_inbound_at": conversation.last_inbound_at,
        "last_outbound_at": conversation.last_outbound_at,
        "message_count": conversation.message_count,
        "unread": _is_unread(conversation, read_at),
        "created_at": conversation.created_at,
        "completed_at": conversation.completed_at,
        "post_url": conversation.post_url,
    }


async def list_conversations(
    session: AsyncSession,
    actor: Actor,
    spec: ConversationFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
    with_counts: bool = True,
) -> ConversationPage:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    search_ids = await search.rare_matches(session, actor.workspace_id, spec.q) if spec.q else None
    where = filter_clauses(session, actor, spec, search_ids=search_ids)
    newest = spec.sort == "newest"
    if cursor:
        at, ident = decode_cursor(cursor)
        key = tuple_(C.last_activity_at, C.id)
        bound = tuple_(literal(at, UTCDateTime()), literal(ident))
        where.append(key < bound if newest else key > bound)
    order = (C.last_activity_at.desc(), C.id.desc()) if newest else (C.last_activity_at, C.id)
    rows = (
        await session.execute(_summary_select().where(*where).order_by(*order).limit(limit + 1))
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [row[0].id for row in rows]
    tags = await _tags_of(session, ids)
    reads = await _read_at(session, actor, ids)
    items = [
        ConversationSummary.model_validate(_summary(row, tags[row[0].id], reads.get(row[0].id)))
        for row in rows
    ]
    next_cursor = None
    if more and rows:
        last = rows[-1][0]
        next_cursor = encode_cursor(last.last_activity_at, last.id)
    counts = await _facet_counts(session, actor, spec, search_ids) if with_counts else None
    return ConversationPage(items=items, next_cursor=next_cursor, counts=counts)


def _facets(
    actor: Actor, spec: ConversationFilter, cells: Iterable[tuple[str, int, int]]
) -> Counts:
    """Turn (status, assignee_id or 0, n) cells into status and assignee facets."""
    wanted_status = {s.value for s in spec.status}

    def assignee_matches(assignee_id: int) -> bool:
        match spec.assignee:
            case None:
                return True
            case "me":
                return assignee_id == actor.user_id
            case "unassigned":
                return assignee_id == 0
            case "anyone":
                return assignee_id != 0
            case _:
                return assignee_id == spec.assignee

    status = {s.value: 0 for s in Status}
    assignee: dict[str, int] = {"unassigned": 0, "me": 0}
    total = 0
    for cell_status, assignee_id, n in cells:
        if assignee_matches(assignee_id):
            status[cell_status] = status.get(cell_status, 0) + n
        if wanted_status and cell_status not in wanted_status:
            continue
        if assignee_matches(assignee_id):
            total += n
        key = "unassigned" if assignee_id == 0 else str(assignee_id)
        assignee[key] = assignee.get(key, 0) + n
        if assignee_id == actor.user_id:
            assignee["me"] += n
    return Counts(status=status, assignee=assignee, total=total)


async def count_cells(
    session: AsyncSession, actor: Actor, spec: ConversationFilter
) -> list[tuple[str, int, int]]:
    """(status, assignee id or 0, count) for ``spec`` without its status and assignee terms."""
    if spec.only_counter_fields():
        K = ConversationCount
        where: list[ColumnElement[bool]] = [
            K.workspace_id == actor.workspace_id,
            visible_channels(actor, K.channel_account_id),
        ]
        if spec.platforms:
            where.append(K.channel_account_id.in_(_channels_of_platforms(actor, spec.platforms)))
        if spec.channel_account_ids:
            where.append(K.channel_account_id.in_(spec.channel_account_ids))
        if spec.kinds:
            where.append(K.kind.in_([k.value for k in spec.kinds]))
        stmt = (
            select(K.status, K.assignee_id, func.sum(K.n))
            .where(*where)
            .group_by(K.status, K.assignee_id)
        )
        return [(s, a, int(n)) for s, a, n in await session.execute(stmt)]
    search_ids = await search.rare_matches(session, actor.workspace_id, spec.q) if spec.q else None
    return await _scan_cells(session, actor, spec, search_ids)


async def _scan_cells(
    session: AsyncSession, actor: Actor, spec: ConversationFilter, search_ids: list[int] | None
) -> list[tuple[str, int, int]]:
    where = filter_clauses(
        session, actor, spec, skip_status=True, skip_assignee=True, search_ids=search_ids
    )
    scan = (
        select(C.status, C.assignee_id, func.count())
        .where(*where)
        .group_by(C.status, C.assignee_id)
    )
    return [(s.value, a or 0, int(n)) for s, a, n in await session.execute(scan)]


async def _facet_counts(
    session: AsyncSession, actor: Actor, spec: ConversationFilter, search_ids: list[int] | None
) -> Counts:
    """Counts for a list that has already probed the search index."""
    if spec.q:
        return _facets(actor, spec, await _scan_cells(session, actor, spec, search_ids))
    return await count_conversations(session, actor, spec)


async def count_conversations(
    session: AsyncSession, actor: Actor, spec: ConversationFilter
) -> Counts:
    return _facets(actor, spec, await count_cells(session, actor, spec))


async def get_conversation(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> Conversation:
    """The conversation if ``actor`` may see it. Invisible and missing look the same: 404."""
    conversation = (
        await session.execute(select(C).where(C.id == conversation_id, *scope_clauses(actor)))
    ).scalar_one_or_none()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


async def conversation_detail(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> ConversationDetail:
    row = (
        await session.execute(
            _summary_select().where(C.id == conversation_id, *scope_clauses(actor))
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    tags = await _tags_of(session, [conversation_id])
    reads = await _read_at(session, actor, [conversation_id])
    return ConversationDetail.model_validate(
        _summary(row, tags[conversation_id], reads.get(conversation_id))
    )
