"""``bandeja channels``: connect platform accounts and see their health."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy import func, select

from bandeja.cli.common import console, database, fail, run, settings
from bandeja.core.channels.actions import create_channel_account
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.channels.schemas import ChannelAccountIn
from bandeja.core.ingest.models import IgnoredCount, RawEvent, RawEventStatus
from bandeja.core.security import SecretBox
from bandeja.core.workspaces.actions import resolve_workspace

app = typer.Typer(help="Channel accounts (connected profiles).", no_args_is_help=True)


@app.command("add", help="Connect a platform account; prints its webhook URL.")
def channels_add(
    platform: Annotated[
        Platform, typer.Argument(help="messenger, instagram, whatsapp, x, linkedin or telegram.")
    ],
    name: Annotated[str, typer.Option(help="A name the team recognises.")],
    external_id: Annotated[
        str,
        typer.Option(
            help="Page id, Instagram account id, phone-number id, X user id, organization id or "
            "bot id."
        ),
    ],
    signing_secret: Annotated[
        str,
        typer.Option(
            help="What the platform signs webhooks with: Meta app secret, X consumer secret, "
            "LinkedIn client secret, Telegram secret token."
        ),
    ],
    verify_token: Annotated[str | None, typer.Option(help="Meta webhook verify token.")] = None,
    access_token: Annotated[
        str | None, typer.Option(help="Token for the platform's send API.")
    ] = None,
    api_base_url: Annotated[
        str | None,
        typer.Option(
            help="The platform API base URL (default: the real platform; the sandbox for tests)."
        ),
    ] = None,
    human_agent: Annotated[
        bool,
        typer.Option(help="Messenger/Instagram: the HUMAN_AGENT tag (7-day window) is approved."),
    ] = False,
    workspace: Annotated[str | None, typer.Option(help="Workspace slug.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {id, webhook_url} as JSON.")
    ] = False,
) -> None:
    config = settings()
    secrets = {"signing_secret": signing_secret}
    if verify_token:
        secrets["verify_token"] = verify_token
    if access_token:
        secrets["access_token"] = access_token
    options: dict[str, object] = {}
    if api_base_url:
        if not api_base_url.startswith(("http://", "https://")):
            fail("--api-base-url must start with http:// or https://")
        options["api_base_url"] = api_base_url.rstrip("/")
    if human_agent:
        options["human_agent_enabled"] = True
    try:
        data = ChannelAccountIn(
            platform=platform,
            external_id=external_id,
            name=name,
            credentials=secrets,
            settings=options,
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    async def work() -> int:
        async with database(config) as session:
            ws = await resolve_workspace(session, workspace)
            channel = await create_channel_account(
                session,
                workspace_id=ws.id,
                data=data,
                box=SecretBox(config.resolved_secret_key()),
            )
            await session.commit()
            return channel.id

    channel_id = run(work)
    url = config.webhook_url(platform.value, channel_id)
    if as_json:
        print(json.dumps({"id": channel_id, "webhook_url": url}))
    else:
        console.print(f"{platform.value} account {name!r} connected (id {channel_id})")
        console.print(f"webhook URL: {url}", highlight=False)


@app.command("list", help="Channel accounts with their health (last event, last error).")
def channels_list(
    workspace: Annotated[str | None, typer.Option(help="Workspace slug.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    config = settings()

    async def work() -> list[dict[str, object]]:
        async with database(config) as session:
            ws = await resolve_workspace(session, workspace)
            channels = (
                (
                    await session.execute(
                        select(ChannelAccount)
                        .where(ChannelAccount.workspace_id == ws.id)
                        .order_by(ChannelAccount.id)
                    )
                )
                .scalars()
                .all()
            )
            failed = dict(
                (
                    await session.execute(
                        select(RawEvent.channel_account_id, func.count())
                        .where(RawEvent.status == RawEventStatus.failed)
                        .group_by(RawEvent.channel_account_id)
                    )
                )
                .tuples()
                .all()
            )
            rejected = dict(
                (
                    await session.execute(
                        select(IgnoredCount.channel_account_id, func.sum(IgnoredCount.n))
                        .where(IgnoredCount.reason.startswith("rejected:"))
                        .group_by(IgnoredCount.channel_account_id)
                    )
                )
                .tuples()
                .all()
            )
            return [
                {
                    "id": c.id,
                    "platform": c.platform.value,
                    "name": c.name,
                    "external_id": c.external_id,
                    "webhook_url": config.webhook_url(c.platform.value, c.id),
                    "last_event_at": c.last_event_at.isoformat() if c.last_event_at else None,
                    "last_error": c.last_error,
                    "failed_events": int(failed.get(c.id, 0)),
                    "rejected_deliveries": int(rejected.get(c.id, 0) or 0),
                }
                for c in channels
            ]

    rows = run(work)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="Channel accounts")
    for column in ("id", "platform", "name", "last event", "failed", "rejected", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["platform"]),
            str(row["name"]),
            str(row["last_event_at"] or "never"),
            str(row["failed_events"]),
            str(row["rejected_deliveries"]),
            str(row["last_error"] or ""),
        )
    console.print(table)
