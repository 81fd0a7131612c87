"""One event as the stream carries it: its id, its audience and its encoded SSE frame."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Ids look like Redis stream ids, "<ms or epoch>-<seq>", in both brokers: they compare as pairs.
_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")


def parse_id(value: str) -> tuple[int, int] | None:
    match = _ID.match(value.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def format_id(key: tuple[int, int]) -> str:
    return f"{key[0]}-{key[1]}"


def encode_frame(event_id: str, payload: dict[str, Any]) -> bytes:
    """An SSE frame. JSON has no raw newlines, so one ``data:`` line always suffices."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\ndata: {data}\n\n".encode()


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    key: tuple[int, int]
    workspace_id: int
    payload: dict[str, Any]
    # Encoded once per event, not once per client: fan-out to a thousand clients then costs a
    # thousand queue puts and socket writes, and no JSON work.
    frame: bytes = field(repr=False)

    @classmethod
    def make(cls, event_id: str, workspace_id: int, payload: dict[str, Any]) -> Entry:
        key = parse_id(event_id)
        assert key is not None, event_id
        return cls(event_id, key, workspace_id, payload, encode_frame(event_id, payload))
