"""``bandeja``: serve, migrate, load the demo, and manage workspaces, users and tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from bandeja.cli import admin, channels, db, demo, events, sandbox, serve, worker

app = typer.Typer(
    name="bandeja",
    help="Bandeja, the self-hosted unified social inbox. Settings come from BANDEJA_* variables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve", help="Serve the web app and API.")(serve.serve)
app.command("demo", help="Load the demo workspace (once) and print its logins.")(demo.demo)
app.command("worker", help="Run the background workers (ingest, send) without the web server.")(
    worker.worker
)
app.add_typer(db.app, name="db")
app.command("sandbox", help="Play every platform for the demo and for development.")(
    sandbox.sandbox
)
app.add_typer(admin.workspaces, name="workspaces")
app.add_typer(admin.users, name="users")
app.add_typer(admin.tokens, name="tokens")
app.add_typer(channels.app, name="channels")
app.add_typer(events.app, name="events")


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from bandeja import __version__

        typer.echo(__version__)
        raise typer.Exit()
