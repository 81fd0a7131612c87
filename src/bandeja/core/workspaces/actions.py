from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.errors import Conflict, InvalidInput, NotFound
from bandeja.core.workspaces.models import Workspace

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def create_workspace(session: AsyncSession, *, slug: str, name: str) -> Workspace:
    if not _SLUG.match(slug):
        raise InvalidInput("slug must be lower-case letters, digits and dashes (at most 63)")
    if not name.strip():
        raise InvalidInput("name cannot be empty")
    if await session.scalar(select(Workspace.id).where(Workspace.slug == slug)):
        raise Conflict(f"workspace {slug!r} already exists")
    workspace = Workspace(slug=slug, name=name.strip())
    session.add(workspace)
    await session.flush()
    return workspace


async def resolve_workspace(session: AsyncSession, slug: str | None) -> Workspace:
    """The workspace named by ``slug``; with no slug, the only workspace there is."""
    if slug:
        workspace = (
            await session.execute(select(Workspace).where(Workspace.slug == slug))
        ).scalar_one_or_none()
        if workspace is None:
            raise NotFound(f"no workspace {slug!r}")
        return workspace
    found = (await session.execute(select(Workspace).limit(2))).scalars().all()
    if not found:
        raise NotFound("there is no workspace yet: create one with `bandeja workspaces add`")
    if len(found) > 1:
        raise InvalidInput("there are several workspaces: name one with --workspace SLUG")
    return found[0]
