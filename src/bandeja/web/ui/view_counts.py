"""The view list with its counts, for the inbox page.

The built-in views only filter on fields the live counters hold (status, assignee, kind), so
one read of ``conversation_counts`` (a few rows per workspace) answers all six at once, where
``views.queries.list_views`` would run one count per view. Saved views are counted by the core's
``count_conversations``, each as its filter needs; the inbox page leaves out those whose filter
needs a scan (a tag, a text search, …) and its view list fetches them right after
(``GET /inbox/views``), so that the page never waits for a scan.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor, visible_channels
from bandeja.core.channels.models import ChannelAccount
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import ConversationCount
from bandeja.core.conversations.queries import count_conversations
from bandeja.core.views.queries import list_views
from bandeja.core.views.schemas import ViewOut

# status, kind, assignee id (0: nobody), channel account, its platform, conversations
Cell = tuple[str, str, int, int, str, int]


def _assignee_matches(actor: Actor, wanted: str | int | None, assignee_id: int) -> bool:
    match wanted:
        case None:
            return True
        case "me":
            return assignee_id == actor.user_id
        case "unassigned":
            return assignee_id == 0
        case "anyone":
            return assignee_id != 0
        case _:
            return assignee_id == wanted


def _matcher(actor: Actor, spec: ConversationFilter) -> Callable[[Cell], bool]:
    """Whether a counter cell falls in ``spec``; the filter's sets are built once per view, not
    once per cell (a page tests every view against a few hundred cells)."""
    statuses = {s.value for s in spec.status}
    kinds = {k.value for k in spec.kinds}
    platforms = {p.value for p in spec.platforms}
    channels = set(spec.channel_account_ids)

    def matches(cell: Cell) -> bool:
        status, kind, assignee_id, channel_id, platform, _n = cell
        return (
            (not statuses or status in statuses)
            and (not kinds or kind in kinds)
            and (not platforms or platform in platforms)
            and (not channels or channel_id in channels)
            and _assignee_matches(actor, spec.assignee, assignee_id)
        )

    return matches


async def _cells(session: AsyncSession, actor: Actor) -> list[Cell]:
    """The counters of the channel accounts the actor sees: a few hundred rows at most
    (statuses x kinds x assignees x accounts)."""
    K = ConversationCount
    rows = await session.execute(
        select(
            K.status,
            K.kind,
            K.assignee_id,
            K.channel_account_id,
            ChannelAccount.platform,
            func.sum(K.n),
        )
        .join(ChannelAccount, ChannelAccount.id == K.channel_account_id)
        .where(K.workspace_id == actor.workspace_id, visible_channels(actor, K.channel_account_id))
        .group_by(K.status, K.kind, K.assignee_id, K.channel_account_id, ChannelAccount.platform)
    )
    return [(s, k, a, c, p.value, int(n)) for s, k, a, c, p, n in rows]


async def views_with_counts(
    session: AsyncSession, actor: Actor, *, scans: bool = True
) -> list[ViewOut]:
    """Every view with its count; with ``scans`` false, the count of a view the counters cannot
    answer stays None."""
    views = await list_views(session, actor, with_counts=False)
    cells = await _cells(session, actor)
    for view in views:
        if view.filters.only_counter_fields() and view.filters.team_id is None:
            matches = _matcher(actor, view.filters)
            view.count = sum(c[5] for c in cells if matches(c))
        elif scans:
            view.count = (await count_conversations(session, actor, view.filters)).total
    return views
