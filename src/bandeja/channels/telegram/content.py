"""What a Telegram message holds: its text or caption, its media and shared things as
attachments, and where a forwarded message came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bandeja.channels.base import from_seconds

Json = Mapping[str, Any]


def _file(kind: str, item: Json, **extra: Any) -> dict[str, Any]:
    """A Telegram file as an attachment. Telegram gives no URL: the file is fetched with
    ``getFile`` and the bot token, which must never be stored, so only its ids are kept."""
    attachment: dict[str, Any] = {
        "type": kind,
        "url": None,
        "file_id": item.get("file_id"),
        "file_unique_id": item.get("file_unique_id"),
    }
    for source, target in (
        ("mime_type", "mime_type"),
        ("file_name", "name"),
        ("file_size", "size"),
        ("width", "width"),
        ("height", "height"),
        ("duration", "duration"),
    ):
        if item.get(source) is not None:
            attachment[target] = item[source]
    attachment.update({k: v for k, v in extra.items() if v is not None})
    return attachment


def content(message: Json) -> tuple[str, list[dict[str, Any]]]:
    """A message's text (or media caption) and its attachments."""
    text = str(message.get("text") or message.get("caption") or "")
    attachments: list[dict[str, Any]] = []
    photos = [p for p in message.get("photo") or [] if isinstance(p, dict)]
    if photos:
        # Telegram sends every size it made; keep the largest.
        largest = max(
            photos,
            key=lambda p: (
                int(p.get("width", 0)) * int(p.get("height", 0)),
                int(p.get("file_size", 0)),
            ),
        )
        attachments.append(_file("image", largest, mime_type="image/jpeg"))
    if isinstance(message.get("sticker"), dict):
        sticker = message["sticker"]
        attachments.append(
            _file("sticker", sticker, emoji=sticker.get("emoji"), set_name=sticker.get("set_name"))
        )
    if isinstance(message.get("voice"), dict):
        attachments.append(_file("audio", message["voice"], voice=True))
    if isinstance(message.get("audio"), dict):
        audio = message["audio"]
        title = " - ".join(str(audio[k]) for k in ("performer", "title") if audio.get(k))
        attachments.append(_file("audio", audio, title=title or None))
    if isinstance(message.get("video"), dict):
        attachments.append(_file("video", message["video"]))
    if isinstance(message.get("video_note"), dict):
        attachments.append(_file("video", message["video_note"], video_note=True))
    if isinstance(message.get("animation"), dict):
        attachments.append(_file("video", message["animation"], animation=True))
    elif isinstance(message.get("document"), dict):
        # An animation also comes as ``document`` for old clients: keep it once.
        attachments.append(_file("file", message["document"]))
    if isinstance(message.get("venue"), dict):
        venue = message["venue"]
        location = venue.get("location") or {}
        attachments.append(
            {
                "type": "location",
                "latitude": location.get("latitude"),
                "longitude": location.get("longitude"),
                "name": venue.get("title"),
                "address": venue.get("address"),
            }
        )
    elif isinstance(message.get("location"), dict):
        location = message["location"]
        attachments.append(
            {
                "type": "location",
                "latitude": location.get("latitude"),
                "longitude": location.get("longitude"),
            }
        )
    if isinstance(message.get("contact"), dict):
        contact = message["contact"]
        name = " ".join(str(contact[k]) for k in ("first_name", "last_name") if contact.get(k))
        attachments.append(
            {
                "type": "contact",
                "name": name or None,
                "phone_number": contact.get("phone_number"),
                "user_id": contact.get("user_id"),
            }
        )
    if isinstance(message.get("dice"), dict) and not text:
        # An animated dice/dart/ball throw: its emoji and the value it landed on.
        dice = message["dice"]
        text = f"{dice.get('emoji') or '🎲'} {dice.get('value')}"
    return text, attachments


def forward_origin(message: Json) -> dict[str, Any] | None:
    """Who a forwarded message came from: ``forward_origin`` (Bot API 7+) or the older
    ``forward_from`` / ``forward_from_chat`` / ``forward_sender_name`` fields."""
    origin = message.get("forward_origin")
    name: str | None = None
    date = None
    if isinstance(origin, dict):
        date = origin.get("date")
        source = origin.get("sender_user") or origin.get("sender_chat") or origin.get("chat") or {}
        name = _name_of(source) or origin.get("sender_user_name")
        kind = str(origin.get("type") or "user")
    elif any(k in message for k in ("forward_from", "forward_from_chat", "forward_sender_name")):
        date = message.get("forward_date")
        name = _name_of(
            message.get("forward_from") or message.get("forward_from_chat") or {}
        ) or message.get("forward_sender_name")
        kind = "chat" if "forward_from_chat" in message else "user"
    else:
        return None
    return {
        "origin": kind,
        "from": name or None,
        "date": from_seconds(date).isoformat() if date else None,
    }


def _name_of(source: Json) -> str | None:
    if not isinstance(source, dict):
        return None
    name = " ".join(str(source[k]) for k in ("first_name", "last_name") if source.get(k))
    return name or (str(source["title"]) if source.get("title") else None)
