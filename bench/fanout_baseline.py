"""The floor for ``bench/fanout.py``: a bare ASGI app that streams SSE to every client and, on
``POST /fire``, puts one pre-encoded frame into each client's queue. No framework, no database,
no audience check."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

_queues: set[asyncio.Queue[bytes]] = set()
_ids = itertools.count(1)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    if path == "/stream":
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        _queues.add(queue)
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream"),
                                    (b"cache-control", b"no-cache")]})  # fmt: skip
            await send(
                {"type": "http.response.body", "body": b"retry: 2000\n\n", "more_body": True}
            )
            while True:
                frame = await queue.get()
                await send({"type": "http.response.body", "body": frame, "more_body": True})
        finally:
            _queues.discard(queue)
    elif path == "/fire" and method == "POST":
        frame = f'id: {next(_ids)}\ndata: {{"type":"fire"}}\n\n'.encode()
        for q in _queues:
            q.put_nowait(frame)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
