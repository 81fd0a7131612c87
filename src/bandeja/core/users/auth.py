"""Who is calling: API tokens, and browser sessions with their CSRF token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.errors import Unauthenticated
from bandeja.core.security import hash_token, new_token, verify_password
from bandeja.core.users.models import ApiToken, AuthSession, Membership, User
from bandeja.core.workspaces.models import Workspace
from bandeja.storage.base import utcnow

# Writing last_used_at on every request would turn every read into a write.
_TOKEN_TOUCH = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class BrowserSession:
    token: str
    csrf_token: str
    actor: Actor
    # What every page needs next: the user's chosen language and the workspace's time zone.
    locale: str | None = None
    workspace_timezone: str | None = None


async def _actor(session: AsyncSession, workspace_id: int, user_id: int) -> Actor | None:
    row = (
        await session.execute(
            select(Membership.role, User.name)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.user_id == user_id,
                User.is_active.is_(True),
            )
        )
    ).one_or_none()
    return (
        Actor(user_id=user_id, workspace_id=workspace_id, role=row[0], name=row[1]) if row else None
    )


async def actor_for_token(session: AsyncSession, token: str) -> Actor:
    row = (
        await session.execute(
            select(ApiToken, Membership.role, User.name)
            .join(
                Membership,
                (Membership.workspace_id == ApiToken.workspace_id)
                & (Membership.user_id == ApiToken.user_id),
            )
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("invalid or revoked API token")
    api_token, role, name = row
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at > _TOKEN_TOUCH:
        await session.execute(
            update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
        )
    return Actor(
        user_id=api_token.user_id, workspace_id=api_token.workspace_id, role=role, name=name
    )


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    workspace_slug: str | None,
    lifetime: timedelta,
) -> BrowserSession:
    user = (
        await session.execute(select(User).where(User.email == email.strip().lower()))
    ).scalar_one_or_none()
    # Always run the password hash, so that timing does not reveal which e-mails exist.
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
        or not user.is_active
    ):
        raise Unauthenticated("wrong e-mail or password")
    stmt = (
        select(Membership.workspace_id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.created_at)
    )
    if workspace_slug:
        stmt = stmt.where(Workspace.slug == workspace_slug)
    workspace_id = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if workspace_id is None:
        raise Unauthenticated("this account has no access to that workspace")
    actor = await _actor(session, workspace_id, user.id)
    assert actor is not None
    token, csrf = new_token(), secrets.token_urlsafe(24)
    session.add(
        AuthSession(
            workspace_id=workspace_id,
            user_id=user.id,
            token_hash=hash_token(token),
            csrf_token=csrf,
            expires_at=utcnow() + lifetime,
        )
    )
    return BrowserSession(token=token, csrf_token=csrf, actor=actor)


async def browser_session(session: AsyncSession, token: str) -> BrowserSession:
    # One statement: it runs before every page and every UI action.
    row = (
        await session.execute(
            select(
                AuthSession.csrf_token,
                AuthSession.workspace_id,
                AuthSession.user_id,
                Membership.role,
                User.name,
                User.locale,
                Workspace.timezone,
            )
            .join(
                Membership,
                (Membership.workspace_id == AuthSession.workspace_id)
                & (Membership.user_id == AuthSession.user_id),
            )
            .join(User, User.id == AuthSession.user_id)
            .join(Workspace, Workspace.id == AuthSession.workspace_id)
            .where(
                AuthSession.token_hash == hash_token(token),
                AuthSession.expires_at > utcnow(),
                User.is_active.is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("session expired; log in again")
    csrf, workspace_id, user_id, role, name, locale, timezone = row
    actor = Actor(user_id=user_id, workspace_id=workspace_id, role=role, name=name)
    return BrowserSession(
        token=token, csrf_token=csrf, actor=actor, locale=locale, workspace_timezone=timezone
    )


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.token_hash == hash_token(token)))
