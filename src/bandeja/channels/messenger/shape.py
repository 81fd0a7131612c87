"""Reading Meta's JSON defensively: ids arrive as strings or numbers, times in milliseconds
(Messenger) or seconds (Page feed, sometimes ISO strings), and any field may be missing or of
another type. These helpers never raise; they answer None for what is not there."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from bandeja.core.ingest.types import MessageReceived, Person, Thread

# Anything above this is milliseconds: 10^11 seconds is the year 5138.
_MILLIS_FROM = 10**11


def obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def ident(value: Any) -> str | None:
    """An id as a string: Meta sends ``"12345"`` or ``12345`` for the same field."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def when(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds (number or digits), or an ISO 8601 string."""
    if isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        try:
            number = float(raw)
        except ValueError:
            try:
                iso = raw.replace("+0000", "+00:00").replace("Z", "+00:00")
                parsed = datetime.fromisoformat(iso)
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number is None or number <= 0:
        return None
    seconds = number / 1000 if number >= _MILLIS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


_EXTRA_SUPPORTED = any(f.name == "extra" for f in dataclasses.fields(MessageReceived))


def received(
    *,
    thread: Thread,
    sender: Person,
    external_id: str,
    text: str,
    sent_at: datetime,
    attachments: list[dict[str, Any]] | None = None,
    reply_to_external_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> MessageReceived:
    """A ``MessageReceived``, with the platform details (quick-reply and postback payloads,
    referrals) passed on when the core's event carries them (``Message.extra``)."""
    fields: dict[str, Any] = {
        "thread": thread,
        "sender": sender,
        "external_id": external_id,
        "text": text,
        "sent_at": sent_at,
        "attachments": attachments or [],
        "reply_to_external_id": reply_to_external_id,
    }
    details = {k: v for k, v in (extra or {}).items() if v not in (None, "", {}, [])}
    if details and _EXTRA_SUPPORTED:
        fields["extra"] = details
    return MessageReceived(**fields)


def extra_of(event: MessageReceived) -> dict[str, Any]:
    """The platform details of a parsed message ({} while the core does not carry them)."""
    value = getattr(event, "extra", None)
    return dict(value) if isinstance(value, dict) else {}
