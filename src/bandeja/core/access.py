"""Who is acting, and what they may see.

Security invariant: every query of workspace data is filtered by ``actor.workspace_id``, and every
query of conversation data by :func:`visible_channels` as well. Filters a caller adds may only
remove rows, never add any.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.sql.elements import SQLCoreOperations

from bandeja.core.channels.models import ChannelMember
from bandeja.core.errors import PermissionDenied
from bandeja.core.users.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    workspace_id: int
    role: Role
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.owner, Role.admin)


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only owners and admins may do this")


def require_owner(actor: Actor) -> None:
    if actor.role is not Role.owner:
        raise PermissionDenied("only owners may do this")


def visible_channels(actor: Actor, channel_column: SQLCoreOperations[int]) -> ColumnElement[bool]:
    """Owners and admins see every channel account; agents those they are members of."""
    if actor.is_admin:
        return true()
    member_of = select(ChannelMember.channel_account_id).where(
        ChannelMember.user_id == actor.user_id
    )
    return channel_column.in_(member_of.scalar_subquery())
