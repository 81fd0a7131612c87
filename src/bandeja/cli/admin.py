"""Operator commands: workspaces, users and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from bandeja.cli.common import console, database, fail, run, settings
from bandeja.core.users.actions import add_member, create_api_token
from bandeja.core.users.models import Role
from bandeja.core.users.schemas import UserIn
from bandeja.core.workspaces.actions import create_workspace, resolve_workspace

workspaces = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
users = typer.Typer(help="Users and their roles.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)

WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", help="Workspace slug (optional when there is one).")
]


@workspaces.command("add", help="Create a workspace.")
def workspaces_add(
    slug: Annotated[str, typer.Argument(help="Short name used in URLs, e.g. acme.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
) -> None:
    config = settings()

    async def work() -> int:
        async with database(config) as session:
            workspace = await create_workspace(session, slug=slug, name=name or slug)
            await session.commit()
            return workspace.id

    console.print(f"workspace {slug} created (id {run(work)})")


@users.command("add", help="Create a user (or reuse one by e-mail) and add them to a workspace.")
def users_add(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    role: Annotated[Role, typer.Option(help="owner, admin or agent.")] = Role.agent,
    name: Annotated[
        str | None, typer.Option(help="Display name (default: from the e-mail).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    config = settings()
    try:
        data = UserIn(
            email=email, password=password, role=role, name=name or email.split("@", 1)[0]
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    async def work() -> tuple[int, str]:
        async with database(config) as session:
            ws = await resolve_workspace(session, workspace)
            user = await add_member(session, workspace_id=ws.id, data=data)
            await session.commit()
            return user.id, ws.slug

    user_id, slug = run(work)
    console.print(f"user {data.email.lower()} (id {user_id}) is {role.value} of {slug}")


@tokens.command("create", help="Create an API token for a member; prints the token alone.")
def tokens_create(
    email: Annotated[str, typer.Option(help="The member the token acts as.")],
    workspace: WorkspaceOpt = None,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "cli",
) -> None:
    config = settings()

    async def work() -> str:
        async with database(config) as session:
            ws = await resolve_workspace(session, workspace)
            token = await create_api_token(session, workspace_id=ws.id, email=email, name=name)
            await session.commit()
            return token

    # Alone on its line, on stdout, so that scripts can capture it.
    print(run(work))
