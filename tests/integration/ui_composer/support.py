"""A logged-in browser for UI route tests: the session cookie, and the CSRF header htmx sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.channels.models import Platform
from bandeja.core.users.auth import login
from bandeja.core.users.models import Role, User
from bandeja.web.deps import SESSION_COOKIE
from tests.support.factory import PASSWORD, Factory


@dataclass
class Browser:
    client: httpx.AsyncClient
    cookie: str
    csrf: str

    def _headers(self) -> dict[str, str]:
        # One client serves several users: the cookie goes in each request, never in its jar.
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}"}

    async def get(self, url: str, *, params: dict | None = None) -> httpx.Response:
        return await self.client.get(url, params=params, headers=self._headers())

    async def post(
        self,
        url: str,
        data: dict | list[tuple[str, object]] | None = None,
        *,
        csrf: bool = True,
        htmx: bool = True,
    ) -> httpx.Response:
        """A form post; ``data`` as pairs repeats a field (checkboxes)."""
        headers = self._headers()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        return await self.client.post(url, content=urlencode(pairs), headers=headers)


async def browser(db: AsyncSession, client: httpx.AsyncClient, user: User) -> Browser:
    session = await login(
        db, email=user.email, password=PASSWORD, workspace_slug=None, lifetime=timedelta(hours=1)
    )
    await db.commit()
    return Browser(client=client, cookie=session.token, csrf=session.csrf_token)


async def workspace(
    db: AsyncSession,
    factory: Factory,
    client: httpx.AsyncClient,
    platform: Platform = Platform.messenger,
) -> SimpleNamespace:
    """An owner, an admin, two agents (one on the channel), a conversation, another workspace."""
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga Owner")
    admin, _ = await factory.user(ws, Role.admin, name="Adam Admin")
    ana, _ = await factory.user(ws, Role.agent, name="Ana Lima")
    bruno, _ = await factory.user(ws, Role.agent, name="Bruno Díaz")
    channel = await factory.channel(ws, platform, members=[ana])
    conv, message = await factory.message(channel, person="c1", name="Lucía Fernández")
    ws2 = await factory.workspace()
    stranger, _ = await factory.user(ws2, Role.owner, name="Zed Stranger")
    await db.commit()
    return SimpleNamespace(
        ws=ws,
        owner=owner,
        admin=admin,
        ana=ana,
        bruno=bruno,
        channel=channel,
        conv=conv,
        message=message,
        as_owner=await browser(db, client, owner),
        as_ana=await browser(db, client, ana),
        as_bruno=await browser(db, client, bruno),
        as_stranger=await browser(db, client, stranger),
    )
