from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from bandeja.cli.common import console, settings


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default BANDEJA_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default BANDEJA_PORT).", min=1, max=65535)
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log every request. Off by default: the reverse proxy in front logs requests, "
            "and a log line costs about as much CPU as acknowledging a webhook."
        ),
    ] = False,
) -> None:
    config = settings()
    if host:
        config = config.model_copy(update={"host": host})
    if port:
        config = config.model_copy(update={"port": port})
    from bandeja.web.app import create_app

    app = create_app(config)
    console.print(f"Bandeja on http://{config.host}:{config.port}  (API docs: /api/docs)")
    # uvloop and httptools (uvicorn[standard]) are what "auto" picks when installed; named here
    # so that a missing one is an error, not a silent fall-back to the slower pure-Python ones.
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="info",
        access_log=access_log,
        proxy_headers=True,
        loop="uvloop",
        http="httptools",
        # Event streams (SSE) stay open until the browser leaves: without a limit a restart
        # would wait for every open tab.
        timeout_graceful_shutdown=5,
    )
