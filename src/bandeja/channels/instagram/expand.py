"""What Instagram's webhooks leave out, read from the Graph API before the events are applied.

  - Mentions carry only ids. The text, time and author come from
    ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){…}`` (a mention in a comment) or
    ``mentioned_media.media_id(<id>){…}`` (a mention in a caption): Meta refuses a plain
    ``GET /{comment-id}`` for comments found through mentions. A failed read never drops the
    mention: it is kept with empty text and the ids (plus the error) in its attachment.
  - DMs carry only the person's IGSID. Their name and username come from the User Profile API
    (``GET /{igsid}?fields=name,username``), when the channel setting ``fetch_profiles`` is not
    false; on failure the contact keeps the IGSID as its name.

Every failure is swallowed here: a read that does not work must not fail the delivery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bandeja.channels import meta
from bandeja.channels.base import ChannelConfig
from bandeja.channels.instagram.parse import MENTION, MENTION_SUBJECT, when
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import MessageReceived, Person, PlatformEvent

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Profile reads per delivery (a batch of DMs from many people must not hold ingest for long).
MAX_PROFILE_READS = 20
# The fields asked first, then the documented minimum when Graph refuses a field (code 100).
COMMENT_FIELDS = (
    "id,text,timestamp,username,from,media{id,permalink}",
    "id,text,timestamp,media{id}",
)
MEDIA_FIELDS = (
    "id,caption,timestamp,username,permalink,media_type",
    "id,caption,timestamp,username",
)
PROFILE_FIELDS = "name,username"


def _pending_mention(event: PlatformEvent) -> dict[str, Any] | None:
    if not isinstance(event, MessageReceived) or event.thread.kind is not Kind.mention:
        return None
    marks = [a for a in event.attachments if a.get("type") == MENTION and a.get("unresolved")]
    return marks[0] if marks else None


async def expand(
    client: httpx.AsyncClient, channel: ChannelConfig, events: Sequence[PlatformEvent]
) -> list[PlatformEvent]:
    profiles: dict[str, Person | None] = {}
    fetch_profiles = channel.settings.get("fetch_profiles", True) is not False
    out: list[PlatformEvent] = []
    for event in events:
        mark = _pending_mention(event)
        if mark is not None:
            assert isinstance(event, MessageReceived)
            out.append(await _mention(client, channel, event, mark))
            continue
        if (
            fetch_profiles
            and isinstance(event, MessageReceived)
            and event.thread.kind is Kind.dm
            and event.sender.display_name is None
        ):
            person_id = event.sender.external_id
            if person_id not in profiles and len(profiles) < MAX_PROFILE_READS:
                profiles[person_id] = await _profile(client, channel, person_id)
            person = profiles.get(person_id)
            if person is not None:
                event = dataclasses.replace(event, sender=person)
        out.append(event)
    return out


async def _get(
    client: httpx.AsyncClient, channel: ChannelConfig, node: str, fields: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(answer, None) or (None, error label)."""
    token = channel.secrets.get("access_token", "")
    if not token:
        return None, "no_access_token"
    url = f"{channel.api_base_url(meta.GRAPH_API)}/{quote(node, safe='')}"
    try:
        response = await client.get(
            url,
            params={"fields": fields},
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if response.status_code != 200:
        return None, meta.graph_error(response).code
    try:
        data = response.json()
    except ValueError:
        return None, "bad_response"
    return (data, None) if isinstance(data, dict) else (None, "bad_response")


async def _profile(
    client: httpx.AsyncClient, channel: ChannelConfig, person_id: str
) -> Person | None:
    data, _error = await _get(client, channel, person_id, PROFILE_FIELDS)
    if data is None:
        return None
    name, username = _text(data.get("name")), _text(data.get("username"))
    if not name and not username:
        return None
    return Person(external_id=person_id, display_name=name or None, handle=username or None)


async def _mention(
    client: httpx.AsyncClient, channel: ChannelConfig, event: MessageReceived, mark: dict[str, Any]
) -> MessageReceived:
    comment_id, media_id = str(mark.get("comment_id") or ""), str(mark.get("media_id") or "")
    if comment_id:
        edge, attempts = f"mentioned_comment.comment_id({comment_id})", COMMENT_FIELDS
    else:
        edge, attempts = f"mentioned_media.media_id({media_id})", MEDIA_FIELDS
    node_key = edge.split(".", 1)[0]
    error: str | None = None
    node: dict[str, Any] | None = None
    for fields in attempts:
        data, error = await _get(client, channel, channel.external_id, f"{edge}{{{fields}}}")
        if data is not None:
            found = data.get(node_key)
            node, error = (found, None) if isinstance(found, dict) else (None, "not_found")
            break
        if error != "100" and not (error or "").startswith("100."):
            break  # only an unknown field is worth asking again with fewer fields
    if node is None:
        kept = {**mark, "error": error or "unknown"}
        return dataclasses.replace(event, attachments=[kept])
    return _resolved(event, node, in_comment=bool(comment_id))


def _resolved(event: MessageReceived, node: dict[str, Any], *, in_comment: bool) -> MessageReceived:
    author = _dict(node.get("from"))
    username = _text(node.get("username")) or _text(author.get("username"))
    author_id = _text(author.get("id"))
    if author_id:
        sender = Person(external_id=author_id, handle=username or None)
    elif username:
        # Without the IGSID the username is the best key we have ("@" keeps it apart from ids).
        sender = Person(external_id=f"@{username}", handle=username)
    else:
        sender = event.sender
    media = _dict(node.get("media"))
    permalink = _text(node.get("permalink")) or _text(media.get("permalink"))
    subject = f"{MENTION_SUBJECT} by @{username}" if username else MENTION_SUBJECT
    where = "comment" if in_comment else "caption"
    return dataclasses.replace(
        event,
        thread=dataclasses.replace(
            event.thread, subject=f"{subject} ({where})", post_url=permalink or None
        ),
        sender=sender,
        text=_text(node.get("text")) or _text(node.get("caption")),
        sent_at=when(node.get("timestamp")) or event.sent_at,
        attachments=[],
    )


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
