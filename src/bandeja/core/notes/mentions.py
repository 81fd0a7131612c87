"""Who a note may mention: the teammates who can see the conversation's channel account (owners
and admins see every channel; agents those they are members of). Mentioning anyone else would
notify them about a conversation they cannot open."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelMember
from bandeja.core.conversations.queries import get_conversation
from bandeja.core.text import fold
from bandeja.core.users.models import Membership, Role, User

MAX_SUGGESTIONS = 8


def who_can_see(workspace_id: int, channel_account_id: int) -> Select[User]:
    """Active members of the workspace who can see the channel account."""
    members = select(ChannelMember.user_id).where(
        ChannelMember.channel_account_id == channel_account_id
    )
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.workspace_id == workspace_id,
            User.is_active.is_(True),
            or_(Membership.role.in_([Role.owner, Role.admin]), User.id.in_(members)),
        )
    )


async def mentionable_users(
    session: AsyncSession, actor: Actor, conversation_id: int, q: str = ""
) -> list[User]:
    """Autocomplete for ``@``: teammates who can see the conversation whose name or e-mail
    starts a word with ``q`` (accents and case ignored), the actor last."""
    conversation = await get_conversation(session, actor, conversation_id)
    users = (
        (await session.execute(who_can_see(actor.workspace_id, conversation.channel_account_id)))
        .scalars()
        .all()
    )
    needle = fold(q.strip().lstrip("@"))

    def matches(user: User) -> bool:
        if not needle:
            return True
        words = [*fold(user.name).split(), fold(user.email.split("@", 1)[0])]
        return any(w.startswith(needle) for w in words) or fold(user.name).startswith(needle)

    found = sorted(
        (u for u in users if matches(u)), key=lambda u: (u.id == actor.user_id, fold(u.name))
    )
    return found[:MAX_SUGGESTIONS]
