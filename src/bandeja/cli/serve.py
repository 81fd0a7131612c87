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
) -> None:
    config = settings()
    if host:
        config = config.model_copy(update={"host": host})
    if port:
        config = config.model_copy(update={"port": port})
    from bandeja.web.app import create_app

    app = create_app(config)
    console.print(f"Bandeja on http://{config.host}:{config.port}  (API docs: /api/docs)")
    uvicorn.run(app, host=config.host, port=config.port, log_level="info", proxy_headers=True)
