"""Reads of conversations: the inbox list, its counts, and one conversation.

Query budget (pinned in tests): a page of the list is one statement (rows with their contact,
channel, assignee, tags and my read time) and one for the counts; one conversation is one
statement. Rows are read as plain columns, not ORM objects: building and tracking fifty entities
a page took as long as the database took to find them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount
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
    ConversationDetail,
    ConversationPage,
    Counts,
)
from bandeja.core.errors import InvalidInput, NotFound
from bandeja.core.tags.models import Tag
from bandeja.core.users.models import User
from bandeja.storage import reads
from bandeja.storage.base import BigId, UTCDateTime

C = Conversation
MAX_PAGE = 200
_T = TypeVar("_T")


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
        # The tag row carries the status too (tag_status.py): the index walks only the
        # conversations in the wanted statuses.
        same_status = (
            [ConversationTag.status.in_(spec.status)] if spec.status and not skip_status else []
        )
        tagged = [
            exists().where(
                ConversationTag.conversation_id == C.id, ConversationTag.tag_id == tag, *same_status
            )
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


_PRIORITY_NAMES = {int(p): p.name for p in Priority}
# The reader whose read state a row shows: a bound parameter, so that one statement shape (built
# once, below) serves every actor.
_READER = bindparam("reader_id", type_=BigId)


def _tags_json(dialect_name: str) -> ColumnElement[Any]:
    """A conversation's tags as one JSON array of [id, name, color] (NULL or [] when none)."""
    return (
        select(reads.json_array_agg(dialect_name, Tag.id, Tag.name, Tag.color))
        .select_from(ConversationTag)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .where(ConversationTag.conversation_id == C.id)
        .scalar_subquery()
    )


def _looked_up(
    column: QueryableAttribute[_T], key: QueryableAttribute[int], value: QueryableAttribute[Any]
) -> ScalarSelect[_T]:
    """``column`` of the row whose ``key`` is ``value`` (a column of the conversation)."""
    return select(column).where(key == value).scalar_subquery()


def _rows_select(dialect_name: str) -> Select[*tuple[Any, ...]]:
    """Everything an inbox row shows, in one statement; the caller adds WHERE, ORDER and LIMIT.

    Never ``search_document`` (up to 20 KB a row). Contact, channel account, assignee, tags and
    my read time are correlated subqueries, not joins: PostgreSQL plans every execution
    (``plan_cache_mode=force_custom_plan``), and joining the three tables tripled the planning
    time at 1M conversations (0.2 -> 0.6 ms for the inbox, 0.4 -> 1.0 ms with a tag filter),
    while a subquery is planned on its own, and evaluated after the sort and the LIMIT. One row
    per conversation: its tags come as a JSON array.
    """
    read_at = (
        select(ConversationRead.read_at)
        .where(ConversationRead.conversation_id == C.id, ConversationRead.user_id == _READER)
        .scalar_subquery()
    )
    return select(
        C.id,
        C.kind,
        C.status,
        C.follow_up_until,
        C.priority,
        C.channel_account_id,
        C.contact_id,
        C.assignee_id,
        C.team_id,
        C.last_message_preview,
        C.subject,
        C.last_activity_at,
        C.last_inbound_at,
        C.last_inbound_received_at,
        C.last_outbound_at,
        C.message_count,
        C.created_at,
        C.completed_at,
        C.post_url,
        _looked_up(Contact.name, Contact.id, C.contact_id),
        _looked_up(Contact.avatar_url, Contact.id, C.contact_id),
        _looked_up(ChannelAccount.platform, ChannelAccount.id, C.channel_account_id),
        _looked_up(ChannelAccount.name, ChannelAccount.id, C.channel_account_id),
        _looked_up(User.name, User.id, C.assignee_id),
        read_at,
        _tags_json(dialect_name),
    )


# Built once per dialect (a request only adds its WHERE, ORDER BY and LIMIT): composing two
# dozen columns and their subqueries for every request took about as long as PostgreSQL took
# to find the page.
_ROWS_SELECT: dict[str, Select[*tuple[Any, ...]]] = {}


def _rows(session: AsyncSession) -> Select[*tuple[Any, ...]]:
    dialect_name = _dialect(session)
    found = _ROWS_SELECT.get(dialect_name)
    if found is None:
        found = _ROWS_SELECT[dialect_name] = _rows_select(dialect_name)
    return found


def _summaries(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The rows of :func:`_rows_select` as dicts in the shape of ``ConversationDetail`` (a
    ``ConversationSummary`` ignores its two extra keys)."""
    return [
        {
            "id": cid,
            "kind": kind,
            "status": status,
            "follow_up_until": follow_up_until,
            "priority": _PRIORITY_NAMES[priority],
            "channel": {"id": channel_id, "platform": platform, "name": channel_name},
            "contact": {"id": contact_id, "name": contact_name, "avatar_url": avatar_url},
            "assignee": None if assignee_id is None else {"id": assignee_id, "name": assignee_name},
            "team_id": team_id,
            # By name (then id) on every backend, whatever the database's collation.
            "tags": [
                {"id": i, "name": n, "color": c} for i, n, c in sorted(tags or (), key=_tag_order)
            ],
            "snippet": preview,
            "subject": subject,
            "last_activity_at": last_activity_at,
            "last_inbound_at": last_inbound_at,
            "last_outbound_at": last_outbound_at,
            "message_count": message_count,
            # Unread for me: an inbound message arrived after I last read it (or I never did).
            "unread": last_inbound_received_at is not None
            and (read_at is None or read_at < last_inbound_received_at),
            "created_at": created_at,
            "completed_at": completed_at,
            "post_url": post_url,
        }
        for (
            cid,
            kind,
            status,
            follow_up_until,
            priority,
            channel_id,
            contact_id,
            assignee_id,
            team_id,
            preview,
            subject,
            last_activity_at,
            last_inbound_at,
            last_inbound_received_at,
            last_outbound_at,
            message_count,
            created_at,
            completed_at,
            post_url,
            contact_name,
            avatar_url,
            platform,
            channel_name,
            assignee_name,
            read_at,
            tags,
        ) in rows
    ]


def _tag_order(tag: Sequence[Any]) -> tuple[str, int]:
    return tag[1], tag[0]


async def list_conversations(
    session: AsyncSession,
    actor: Actor,
    spec: ConversationFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
    with_counts: bool = True,
) -> ConversationPage:
    """One page of the inbox: one statement for the rows (see :func:`_rows_select`), one for the
    counts (``with_counts``), and for a text search the probe of :func:`search.rare_matches`."""
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
    statement = _rows(session).where(*where).order_by(*order).limit(limit + 1)
    items = _summaries(await reads.rows(session, statement, {"reader_id": actor.user_id}))
    next_cursor = None
    if len(items) > limit:
        del items[limit:]
        last = items[-1]
        next_cursor = encode_cursor(last["last_activity_at"], last["id"])
    counts = await _facet_counts(session, actor, spec, search_ids) if with_counts else None
    # One validation of the whole page (nested dicts), not one per row and per nested object.
    return ConversationPage.model_validate(
        {"items": items, "next_cursor": next_cursor, "counts": counts}
    )


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


async def check_visible(session: AsyncSession, actor: Actor, conversation_id: int) -> None:
    """404 unless ``actor`` may see the conversation; reads its id only (not the row, whose
    search text alone can be 20 KB), for reads that only need the permission."""
    statement = select(C.id).where(C.id == conversation_id, *scope_clauses(actor))
    if (await reads.rows(session, statement)).first() is None:
        raise NotFound(f"conversation {conversation_id} not found")


async def conversation_detail(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> ConversationDetail:
    """One conversation as a row of the list shows it, plus its completion time and post URL;
    one statement. Invisible and missing look the same: 404."""
    statement = _rows(session).where(C.id == conversation_id, *scope_clauses(actor))
    items = _summaries(await reads.rows(session, statement, {"reader_id": actor.user_id}))
    if not items:
        raise NotFound(f"conversation {conversation_id} not found")
    return ConversationDetail.model_validate(items[0])


async def conversation_rows(
    session: AsyncSession, actor: Actor, conversation_ids: Sequence[int]
) -> list[ConversationDetail]:
    """Some conversations as rows of the list (the live list updates the rows that changed;
    notifications name their conversation), newest activity first; one statement. The ones
    ``actor`` may not see, or that do not exist, are left out."""
    ids = list(dict.fromkeys(conversation_ids))[:MAX_PAGE]
    if not ids:
        return []
    statement = (
        _rows(session)
        .where(C.id.in_(ids), *scope_clauses(actor))
        .order_by(C.last_activity_at.desc(), C.id.desc())
    )
    items = _summaries(await reads.rows(session, statement, {"reader_id": actor.user_id}))
    return [ConversationDetail.model_validate(item) for item in items]
