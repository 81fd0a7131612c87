from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.queries import count_conversations
from bandeja.core.views.builtin import BUILTIN_VIEWS
from bandeja.core.views.models import View
from bandeja.core.views.schemas import ViewOut


def view_out(view: View, count: int | None = None) -> ViewOut:
    return ViewOut(
        id=view.id,
        name=view.name,
        builtin=False,
        shared=view.shared,
        owner_id=view.owner_id,
        position=view.position,
        filters=ConversationFilter.model_validate(view.filters),
        count=count,
    )


async def list_views(
    session: AsyncSession, actor: Actor, *, with_counts: bool = True
) -> list[ViewOut]:
    """Built-in views first, then shared and personal saved views, each with its total."""
    out: list[ViewOut] = []
    for key, (name, spec) in BUILTIN_VIEWS.items():
        count = (await count_conversations(session, actor, spec)).total if with_counts else None
        out.append(
            ViewOut(
                id=key,
                name=name,
                builtin=True,
                shared=True,
                owner_id=None,
                position=0,
                filters=spec,
                count=count,
            )
        )
    saved = (
        (
            await session.execute(
                select(View)
                .where(
                    View.workspace_id == actor.workspace_id,
                    or_(View.shared.is_(True), View.owner_id == actor.user_id),
                )
                .order_by(View.position, View.name, View.id)
            )
        )
        .scalars()
        .all()
    )
    for view in saved:
        spec = ConversationFilter.model_validate(view.filters)
        count = (await count_conversations(session, actor, spec)).total if with_counts else None
        out.append(view_out(view, count))
    return out
