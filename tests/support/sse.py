"""A small Server-Sent Events reader over a real HTTP connection (httpx streaming), as a
browser's EventSource reads: fields per line, an event per blank line, comments kept apart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    id: str | None = None
    data: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def payload(self) -> Any:
        assert self.data is not None, self
        return json.loads(self.data)


class SseReader:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines: AsyncIterator[str] = response.aiter_lines()

    async def frame(self, within: float = 5.0) -> Frame:
        """The next frame (an event, a ``retry`` or a comment-only keep-alive)."""
        frame = Frame()
        async with asyncio.timeout(within):
            async for line in self._lines:
                if line == "":
                    if frame.id or frame.data or frame.retry or frame.comments:
                        return frame
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    frame.comments.append(value)
                elif name == "id":
                    frame.id = value
                elif name == "data":
                    frame.data = value if frame.data is None else f"{frame.data}\n{value}"
                elif name == "retry":
                    frame.retry = int(value)
        raise EOFError("the stream ended")

    async def event(self, within: float = 5.0) -> Frame:
        """The next frame that carries data (skips retry and keep-alive frames)."""
        async with asyncio.timeout(within):
            while True:
                frame = await self.frame(within)
                if frame.data is not None:
                    return frame
