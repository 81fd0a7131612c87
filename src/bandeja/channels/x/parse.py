"""X webhook bodies → the core's platform events.

One webhook URL receives two formats, told apart by their envelope:
  - the Account Activity API (AAA): ``{"for_user_id": ..., "<kind>_events": [...], "users": {...}}``
    (and ``{"user_event": {"revoke": ...}}``, which has no ``for_user_id``); posts are v1.1
    Tweet objects;
  - the X Activity API (XAA): ``{"data": {"event_uuid", "filter": {"user_id"}, "event_type",
    "payload", "includes"}}``; posts are v2 Post objects, DMs keep the AAA event shape with
    ``users[id].data`` profiles.

Every entry becomes an event or an ``Ignored(reason)``; a broken entry is ignored on its own
(``malformed_<kind>``) and never takes the rest of the delivery with it. Only a body that is not a
JSON object raises (``ValueError``). Threads (see docs/channels/x.md):
  - DMs: one conversation per 1:1 partner (``thread_key`` = their user id); group DMs by their
    ``dm_conversation_id``;
  - mentions and replies: the post's ``conversation_id`` (XAA), else the post replied to, else the
    post itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bandeja.channels.base import ChannelConfig, from_millis
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MessageDeleted,
    MessageReceived,
    Person,
    PlatformEvent,
    ReactionChanged,
    ReadUpTo,
    Thread,
)

LIKE = "❤️"
# X ids are snowflakes: milliseconds since this epoch, shifted left by 22 bits.
SNOWFLAKE_EPOCH_MS = 1288834974657
_SNOWFLAKES_START = datetime(2010, 11, 4, tzinfo=UTC)
_REPLY_MENTION = re.compile(r"@\w{1,50}\s+")
_V1_TIME = "%a %b %d %H:%M:%S %z %Y"  # v1.1 Tweet ``created_at``: "Wed Oct 10 20:19:24 +0000 2018"
# Errors a surprising shape can raise while we read it; the entry is then ignored, not the body.
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)

Users = Mapping[str, Any]


# --- small readers: X sends ids as strings and (older objects) as numbers ----------------------


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _profile(raw: Any) -> dict[str, Any]:
    """A user object: AAA and v1.1 give it bare, XAA wraps it in ``{"data": {...}}``."""
    user = _dict(raw)
    inner = user.get("data")
    return inner if isinstance(inner, dict) else user


def _person(user_id: str, raw: Any = None) -> Person:
    user = _profile(raw)
    accepts = user.get("receives_your_dm")
    return Person(
        external_id=user_id,
        display_name=_text(user.get("name")) or None,
        handle=_text(user.get("screen_name") or user.get("username")) or None,
        avatar_url=_text(user.get("profile_image_url_https") or user.get("profile_image_url"))
        or None,
        accepts_messages=accepts if isinstance(accepts, bool) else None,
    )


def _expand_urls(text: str, entities: Any) -> str:
    """Put back the links X shortened to t.co, where the entities give the expanded URL."""
    for url in _list(_dict(entities).get("urls")):
        short, expanded = _text(_dict(url).get("url")), _text(_dict(url).get("expanded_url"))
        if short and expanded:
            text = text.replace(short, expanded)
    return text


def _without_links(text: str, media: Iterable[Mapping[str, Any]]) -> str:
    """Drop the t.co link X appends for attached media: the media is an attachment."""
    for item in media:
        link = _text(item.get("url"))
        if link and link in text:
            text = text.replace(link, "").strip()
    return text


def _without_reply_prefix(text: str, shown: Any) -> str:
    """Drop the ``@handle`` run X puts before a reply and leaves out of ``display_text_range``
    (so that the inbox shows what the person wrote, and our echo matches the reply we sent)."""
    start = shown[0] if isinstance(shown, list) and shown and isinstance(shown[0], int) else 0
    cut = 0
    for token in _REPLY_MENTION.finditer(text):
        if token.start() != cut or token.end() > start + 1:
            break
        cut = token.end()
    return text[cut:] if cut else text


def snowflake_time(value: str | None) -> datetime | None:
    """When X created the object with this id (ids after 2010 are snowflakes), if it is one."""
    if not value or not value.isdigit() or len(value) < 15:
        return None
    at = datetime.fromtimestamp(((int(value) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
    return at if _SNOWFLAKES_START < at <= datetime.now(UTC) + timedelta(days=1) else None


def _v1_time(tweet: Mapping[str, Any]) -> datetime:
    if tweet.get("timestamp_ms") is not None:
        return from_millis(tweet["timestamp_ms"])
    return datetime.strptime(tweet["created_at"], _V1_TIME).astimezone(UTC)


def _iso_time(value: Any) -> datetime:
    at = datetime.fromisoformat(str(value))
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _guarded(kind: str, build: Callable[..., PlatformEvent], *args: Any) -> PlatformEvent:
    try:
        return build(*args)
    except _SHAPE_ERRORS:
        return Ignored(f"malformed_{kind}")


# --- entry point -------------------------------------------------------------------------------


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("an X webhook body is a JSON object")
    data = document.get("data")
    if isinstance(data, dict) and "event_type" in data:
        return _xaa(channel.external_id, data)
    return _aaa(channel.external_id, document)


# --- Account Activity API ---------------------------------------------------------------------

# Events about the account that are not inbox content.
_AAA_IGNORED = {
    "direct_message_indicate_typing_events": "typing",
    "follow_events": "follow",
    "block_events": "block",
    "mute_events": "mute",
}


def _aaa(me: str, doc: dict[str, Any]) -> list[PlatformEvent]:
    events: list[PlatformEvent] = []
    if "user_event" in doc:
        # The account removed the app's access: X deletes the subscription; the channel must be
        # connected again (docs/channels/x.md).
        events.append(Ignored("revoked"))
    if "replay_job_status" in doc:
        events.append(Ignored("replay_job_status"))
    kinds = [k for k in doc if k.endswith("_events")]
    if not kinds:
        return events or [Ignored("unknown_payload")]
    if _id(doc.get("for_user_id")) != me:
        # One X app webhook serves every subscribed account; this one is another account's.
        return [*events, Ignored("other_account")]
    users = _dict(doc.get("users"))
    blocked = str(doc.get("user_has_blocked", "")).lower() == "true"
    for kind in kinds:
        entries = _list(doc.get(kind))
        if kind in _AAA_IGNORED:
            events.extend(_type_reason(_AAA_IGNORED[kind], e) for e in entries)
        elif kind == "direct_message_events":
            events.extend(_guarded("dm", _dm, me, e, users) for e in entries)
        elif kind == "direct_message_mark_read_events":
            events.extend(_guarded("read", _read, me, e) for e in entries)
        elif kind == "tweet_create_events":
            events.extend(_guarded("post", _v1_post, me, e, blocked) for e in entries)
        elif kind == "favorite_events":
            events.extend(_guarded("like", _v1_like, me, e) for e in entries)
        elif kind == "tweet_delete_events":
            events.extend(_guarded("delete", _v1_delete, e) for e in entries)
        else:
            events.append(Ignored(f"unsupported:{kind}"[:100]))
        if not entries:
            events.append(Ignored(f"empty:{kind}"[:100]))
    return events


def _type_reason(default: str, entry: Any) -> Ignored:
    """follow/unfollow, block/unblock, mute/unmute share a list; keep which one it was."""
    kind = _text(_dict(entry).get("type"))
    return Ignored(kind if kind.isidentifier() and len(kind) < 30 else default)


def _dm(me: str, event: Any, users: Users) -> PlatformEvent:
    if not isinstance(event, dict):
        return Ignored("malformed_dm")
    kind = _text(event.get("type"))
    if kind != "message_create":
        # Group DM participants joining or leaving, conversation renames: not messages.
        return Ignored(f"dm_{kind or 'unknown'}"[:100])
    create = _dict(event["message_create"])
    message_id = _id(event.get("id"))
    sender = _id(create.get("sender_id"))
    recipient = _id(_dict(create.get("target")).get("recipient_id"))
    if message_id is None or sender is None:
        return Ignored("malformed_dm")
    stamp = event.get("created_timestamp")
    # Always there in practice; without it the id still says when X stored the message.
    at = from_millis(stamp) if stamp is not None else snowflake_time(message_id) or _now()
    data = _dict(create.get("message_data"))
    attachments = _dm_attachments(data)
    media = _dict(_dict(data.get("attachment")).get("media"))
    text = _expand_urls(_without_links(_text(data.get("text")), [media]), data.get("entities"))
    conversation = _id(event.get("dm_conversation_id") or create.get("dm_conversation_id"))
    # 1:1 conversations are "<id>-<id>"; group conversations have an id of their own.
    group = conversation if conversation and "-" not in conversation else None
    if sender == me:
        if recipient is None and group is None:
            return Ignored("malformed_dm")
        return EchoReceived(
            thread=Thread(Kind.dm, group or str(recipient)),
            recipient=_person(str(recipient or group), users.get(str(recipient))),
            external_id=message_id,
            text=text,
            sent_at=at,
            attachments=attachments,
        )
    return MessageReceived(
        thread=Thread(Kind.dm, group or sender),
        sender=_person(sender, users.get(sender)),
        external_id=message_id,
        text=text,
        sent_at=at,
        attachments=attachments,
    )


_MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "gif"}


def _media(media: Mapping[str, Any]) -> dict[str, Any]:
    kind = _text(media.get("type"))
    url = _text(media.get("media_url_https") or media.get("url") or media.get("preview_image_url"))
    variants = [_dict(v) for v in _list(_dict(media.get("video_info")).get("variants"))]
    playable = [v for v in variants if _text(v.get("content_type")) == "video/mp4" and v.get("url")]
    if playable:  # the best MP4 rather than the still frame
        url = _text(max(playable, key=lambda v: v.get("bitrate") or 0)["url"])
    attachment: dict[str, Any] = {"type": _MEDIA_TYPES.get(kind, "file"), "url": url}
    if media_id := _id(media.get("id_str") or media.get("id") or media.get("media_key")):
        attachment["id"] = media_id
    return attachment


def _dm_attachments(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    attachment = _dict(data.get("attachment"))
    if attachment.get("type") == "media" and isinstance(attachment.get("media"), dict):
        return [_media(attachment["media"])]
    return []


def _read(me: str, event: Any) -> PlatformEvent:
    event = _dict(event)
    reader = _id(event.get("sender_id"))
    if reader is None:
        return Ignored("malformed_read")
    if reader == me:
        return Ignored("own_read")  # the account read the customer's messages (another app)
    at = from_millis(event["created_timestamp"])
    # Everything up to the message read: its id tells when X stored it, which is tighter than
    # the moment of reading (a message sent in between would otherwise count as read too).
    last = snowflake_time(_id(event.get("last_read_event_id")))
    return ReadUpTo(person_external_id=reader, watermark=min(at, last) if last else at)


def _post_url(handle: str | None, post_id: str) -> str:
    return f"https://x.com/{handle or 'i/web'}/status/{post_id}"


def _v1_post(me: str, tweet: Any, blocked: bool) -> PlatformEvent:
    tweet = _dict(tweet)
    post_id = _id(tweet.get("id_str") or tweet.get("id"))
    user = _dict(tweet.get("user"))
    author = _id(user.get("id_str") or user.get("id"))
    if post_id is None or author is None:
        return Ignored("malformed_post")
    if "retweeted_status" in tweet:
        return Ignored("retweet")
    extended = _dict(tweet.get("extended_tweet"))
    entities = extended.get("entities") or tweet.get("entities")
    text = _text(extended.get("full_text") or tweet.get("full_text") or tweet.get("text"))
    shown = extended.get("display_text_range") or tweet.get("display_text_range")
    media = [
        _dict(m)
        for m in _list(
            _dict(extended.get("extended_entities") or tweet.get("extended_entities")).get("media")
        )
    ]
    text = _without_links(_without_reply_prefix(text, shown), media)
    text = _expand_urls(text, entities)
    attachments = [_media(m) for m in media]
    mentioned = {
        _id(m.get("id_str") or m.get("id"))
        for m in (_dict(x) for x in _list(_dict(entities).get("user_mentions")))
    }
    replied_to = _id(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"))
    replied_user = _id(tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id"))
    key = _id(tweet.get("conversation_id_str") or tweet.get("conversation_id")) or replied_to
    handle = _text(user.get("screen_name")) or None
    quoted = _dict(tweet.get("quoted_status"))
    return _post(
        me,
        post_id=post_id,
        author=_person(author, user),
        text=text,
        at=_v1_time(tweet),
        thread_key=key or post_id,
        replied_to=replied_to,
        replied_user=_person(replied_user, {"screen_name": tweet.get("in_reply_to_screen_name")})
        if replied_user
        else None,
        mentions_me=me in mentioned,
        quote=bool(tweet.get("is_quote_status") or quoted),
        subject=None,
        post_url=_post_url(handle, post_id),
        attachments=attachments,
        blocked=blocked,
    )


def _post(
    me: str,
    *,
    post_id: str,
    author: Person,
    text: str,
    at: datetime,
    thread_key: str,
    replied_to: str | None,
    replied_user: Person | None,
    mentions_me: bool,
    quote: bool,
    subject: str | None,
    post_url: str,
    attachments: list[dict[str, Any]],
    blocked: bool = False,
) -> PlatformEvent:
    """What a post means for the inbox, whichever format it came in."""
    if author.external_id == me:
        if replied_to is None or replied_user is None:
            return Ignored("own_post")  # a post of the account's own, not an answer to anyone
        if replied_user.external_id == me:
            return Ignored("own_thread")  # the account continuing its own thread
        return EchoReceived(
            thread=Thread(Kind.mention, thread_key, subject, post_url),
            recipient=replied_user,
            external_id=post_id,
            text=text,
            sent_at=at,
            attachments=attachments,
        )
    to_me = mentions_me or (replied_user is not None and replied_user.external_id == me)
    if not to_me:
        # A quote of one of the account's posts without a mention is commentary, not a message.
        return Ignored("quote" if quote else "not_mentioned")
    if blocked:
        return Ignored("blocked_user")
    return MessageReceived(
        thread=Thread(Kind.mention, thread_key, subject, post_url),
        sender=author,
        external_id=post_id,
        text=text,
        sent_at=at,
        attachments=attachments,
        reply_to_external_id=replied_to,
    )


def _v1_like(me: str, event: Any) -> PlatformEvent:
    event = _dict(event)
    post = _dict(event.get("favorited_status"))
    post_id = _id(post.get("id_str") or post.get("id"))
    owner = _dict(post.get("user"))
    owner_id = _id(owner.get("id_str") or owner.get("id"))
    liker = _dict(event.get("user"))
    liker_id = _id(liker.get("id_str") or liker.get("id"))
    if post_id is None or liker_id is None:
        return Ignored("malformed_like")
    if liker_id == me:
        return Ignored("own_like")
    if owner_id != me:
        return Ignored("like_not_ours")
    return ReactionChanged(
        external_id=post_id, person_external_id=liker_id, reaction=LIKE, at=_v1_time(event)
    )


def _v1_delete(event: Any) -> PlatformEvent:
    event = _dict(event)
    post_id = _id(_dict(event.get("status")).get("id_str") or _dict(event.get("status")).get("id"))
    if post_id is None:
        return Ignored("malformed_delete")
    return MessageDeleted(external_id=post_id, at=from_millis(event["timestamp_ms"]))


# --- X Activity API ---------------------------------------------------------------------------


def _xaa(me: str, data: dict[str, Any]) -> list[PlatformEvent]:
    kind = _text(data.get("event_type"))
    payload = _dict(data.get("payload"))
    includes = _dict(data.get("includes"))
    if kind == "oauth.revoke":
        return [Ignored("revoked")]
    if kind.startswith("chat."):
        # XChat is end-to-end encrypted (``encoded_event``): only the Chat XDK holding the
        # account's keys can read it.
        return [Ignored("encrypted_chat")]
    filtered = _id(_dict(data.get("filter")).get("user_id"))
    if filtered is not None and filtered != me:
        return [Ignored("other_account")]
    if kind in ("dm.received", "dm.sent"):
        users = _dict(payload.get("users"))
        entries = _list(payload.get("direct_message_events"))
        return [_guarded("dm", _dm, me, e, users) for e in entries] or [Ignored("empty:dm")]
    if kind == "dm.read":
        entries = _list(payload.get("direct_message_mark_read_events")) or [payload]
        return [_guarded("read", _read, me, e) for e in entries]
    if kind == "dm.indicate_typing":
        return [Ignored("typing")]
    if kind in ("post.mention.create", "post.reply.create", "post.create"):
        return [_guarded("post", _v2_post, me, payload, includes)]
    if kind == "post.delete":
        post_id = _id(payload.get("id"))
        # The event carries no time of its own; the deletion happened just now.
        return [MessageDeleted(post_id, _now()) if post_id else Ignored("malformed_delete")]
    if kind == "like.create":
        return [_guarded("like", _v2_like, me, data, payload, includes)]
    family = kind.split(".", 1)[0] if kind else "unknown"
    if family in ("follow", "block", "mute", "profile", "spaces", "news", "like"):
        return [Ignored(kind[:100])]
    return [Ignored(f"unsupported:{kind or 'unknown'}"[:100])]


def _by_id(objects: Iterable[Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for raw in objects:
        obj = _profile(raw)
        if (obj_id := _id(obj.get("id"))) is not None:
            found[obj_id] = obj
    return found


def _v2_post(me: str, post: dict[str, Any], includes: dict[str, Any]) -> PlatformEvent:
    post_id, author = _id(post.get("id")), _id(post.get("author_id"))
    if post_id is None or author is None:
        return Ignored("malformed_post")
    users = _by_id(_list(includes.get("users")))
    posts = _by_id(_list(includes.get("tweets")))
    references = {
        _text(_dict(r).get("type")): _id(_dict(r).get("id"))
        for r in _list(post.get("referenced_tweets"))
    }
    if "retweeted" in references:
        return Ignored("retweet")
    note = _dict(post.get("note_tweet"))  # long posts: the full text lives here
    entities = note.get("entities") or post.get("entities")
    text = _text(note.get("text") or post.get("text"))
    text = _expand_urls(_without_reply_prefix(text, post.get("display_text_range")), entities)
    mentioned = {_id(_dict(m).get("id")) for m in _list(_dict(entities).get("mentions"))}
    replied_to = references.get("replied_to") or _id(post.get("in_reply_to_tweet_id"))
    replied_user = _id(post.get("in_reply_to_user_id"))
    subject = None
    if replied_to and replied_to != post_id and replied_to in posts:
        parent = posts[replied_to]
        subject = _without_reply_prefix(_text(parent.get("text")), parent.get("display_text_range"))
        subject = subject or None
    media: dict[str, dict[str, Any]] = {}
    for item in _list(includes.get("media")):
        if key := _id(_dict(item).get("media_key")):
            media[key] = _dict(item)
    keys = _list(_dict(post.get("attachments")).get("media_keys"))
    attachments = [_media(media[k]) for k in keys if isinstance(k, str) and k in media]
    author_person = _person(author, users.get(author))
    return _post(
        me,
        post_id=post_id,
        author=author_person,
        text=text,
        at=_iso_time(post["created_at"]),
        thread_key=_id(post.get("conversation_id")) or replied_to or post_id,
        replied_to=replied_to,
        replied_user=_person(replied_user, users.get(replied_user)) if replied_user else None,
        mentions_me=me in mentioned,
        quote="quoted" in references,
        subject=subject,
        post_url=_post_url(author_person.handle, post_id),
        attachments=attachments,
    )


def _v2_like(
    me: str, data: dict[str, Any], like: dict[str, Any], includes: dict[str, Any]
) -> PlatformEvent:
    post_id = _id(like.get("liked_tweet_id"))
    if post_id is None:
        return Ignored("malformed_like")
    if _text(_dict(data.get("filter")).get("direction")) == "outbound":
        return Ignored("own_like")
    if _id(like.get("liked_tweet_author_id")) != me:
        return Ignored("like_not_ours")
    liker = _id(like.get("liking_user_id") or like.get("user_id"))
    if liker is None:
        others = [u for u in _by_id(_list(includes.get("users"))) if u != me]
        liker = others[0] if others else None
    if liker is None:
        return Ignored("like_without_user")
    if liker == me:
        return Ignored("own_like")
    at = from_millis(like["timestamp_ms"]) if like.get("timestamp_ms") else _now()
    return ReactionChanged(external_id=post_id, person_external_id=liker, reaction=LIKE, at=at)
