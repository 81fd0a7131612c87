"""Telegram updates → the core's platform events.

One webhook delivery carries one ``Update`` (``update_id`` plus exactly one optional field).
What becomes inbox content:

- ``message`` in a private chat → a DM (thread = the chat id, which is the person's user id);
- ``message`` in a group that addresses the bot (an ``@bot`` mention, a ``/command@bot``, a
  ``text_mention`` of the bot, or a reply to one of the bot's messages) → a ``mention``
  conversation whose thread is the group chat; other group chatter is ``Ignored("group_message")``;
- ``edited_message`` → ``MessageEdited``; ``callback_query`` (a button press) → a message whose
  text is the pressed button's label; ``message_reaction`` → ``ReactionChanged``.

Everything else is an ``Ignored`` with a reason (see ``docs/channels/telegram.md``). Telegram
message ids are only unique within a chat, so a message's external id is ``"<chat_id>:<id>"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bandeja.channels.base import ChannelConfig, from_seconds
from bandeja.channels.telegram.content import content, forward_origin
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    Ignored,
    MessageEdited,
    MessageReceived,
    Person,
    PlatformEvent,
    ReactionChanged,
    Thread,
)

Json = Mapping[str, Any]

# Update fields that never become inbox content, and the reason they are counted under.
IGNORED_UPDATES = {
    "channel_post": "channel_post",
    "edited_channel_post": "channel_post",
    "inline_query": "inline_query",
    "chosen_inline_result": "chosen_inline_result",
    "poll": "poll",
    "poll_answer": "poll_answer",
    "chat_member": "chat_member",
    "chat_join_request": "chat_join_request",
    "chat_boost": "chat_boost",
    "removed_chat_boost": "chat_boost",
    "message_reaction_count": "reaction_count",  # anonymous reaction totals in channels/groups
    # Telegram Business: the bot would answer for a business account, which needs a
    # business_connection_id on every send; not supported (yet).
    "business_connection": "business_connection",
    "business_message": "business_message",
    "edited_business_message": "business_message",
    "deleted_business_messages": "business_message",
    "shipping_query": "payment",
    "pre_checkout_query": "payment",
    "purchased_paid_media": "payment",
}

# Message contents that carry nothing for an agent to answer.
IGNORED_CONTENT = {
    "poll": "poll",
    "game": "game",
    "story": "story",
    "invoice": "payment",
    "successful_payment": "payment",
    "refunded_payment": "payment",
    "paid_media": "paid_media",
    "giveaway": "giveaway",
    "giveaway_winners": "giveaway",
}

_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


def bot_username(name: str, settings: Mapping[str, Any]) -> str | None:
    """The bot's @username, which group messages use to address it: the ``bot_username``
    setting, else the channel account's name when it is one ("@CafeAuroraBot"). Telegram bot
    usernames always end in "bot"."""
    for candidate in (str(settings.get("bot_username") or ""), name.strip()):
        match = _USERNAME.match(candidate)
        if match and match.group(1).lower().endswith("bot"):
            return match.group(1)
    return None


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    update = json.loads(body)
    if not isinstance(update, dict):
        raise ValueError("a Telegram update is a JSON object")
    try:
        return _update(channel, update)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        # A shape we did not expect (a field of the wrong type): count it, keep the raw event.
        return [Ignored("malformed_update")]


def _update(channel: ChannelConfig, update: Json) -> list[PlatformEvent]:
    if isinstance(update.get("edited_message"), dict):
        return _edited(channel, update["edited_message"])
    handlers: dict[str, Callable[[ChannelConfig, Json], PlatformEvent]] = {
        "message": _message,
        "callback_query": _callback,
        "message_reaction": _reaction,
        "my_chat_member": _my_chat_member,
    }
    for key, handler in handlers.items():
        value = update.get(key)
        if isinstance(value, dict):
            return [handler(channel, value)]
    for key, reason in IGNORED_UPDATES.items():
        if key in update:
            return [Ignored(reason)]
    return [Ignored("unknown_update")]


# --- messages -----------------------------------------------------------------------------------


def _chat_type(chat: Json) -> str:
    # Telegram's own webhook examples omit ``type``: a positive chat id is a private chat.
    kind = chat.get("type")
    if isinstance(kind, str) and kind:
        return kind
    return "private" if int(chat["id"]) > 0 else "group"


def _thread(channel: ChannelConfig, message: Json) -> Thread | Ignored:
    chat = message["chat"]
    kind = _chat_type(chat)
    chat_id = str(chat["id"])
    if kind == "private":
        return Thread(kind=Kind.dm, key=chat_id)
    if kind in ("group", "supergroup"):
        if addresses_bot(channel, message):
            title = chat.get("title")
            return Thread(kind=Kind.mention, key=chat_id, subject=str(title) if title else None)
        return Ignored("group_message")
    return Ignored("channel_post")


def addresses_bot(channel: ChannelConfig, message: Json) -> bool:
    """Whether a group message is meant for the bot: it mentions it, runs one of its commands
    (``/help@bot``), or answers one of its messages."""
    bot_id = channel.external_id
    username = bot_username(channel.name, channel.settings)
    text = message.get("text") or message.get("caption") or ""
    entities = message.get("entities") or message.get("caption_entities") or []
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        kind = entity.get("type")
        if kind == "text_mention" and str((entity.get("user") or {}).get("id")) == bot_id:
            return True
        if kind in ("mention", "bot_command") and username:
            word = entity_text(str(text), entity)
            if kind == "mention" and word.lower() == f"@{username.lower()}":
                return True
            if kind == "bot_command" and word.lower().endswith(f"@{username.lower()}"):
                return True
    replied = message.get("reply_to_message")
    return isinstance(replied, dict) and str((replied.get("from") or {}).get("id")) == bot_id


def entity_text(text: str, entity: Json) -> str:
    """The text an entity covers. Telegram counts offsets and lengths in UTF-16 code units, so
    an emoji before a mention shifts it by two, not one."""
    encoded = text.encode("utf-16-le")
    start = int(entity.get("offset", 0)) * 2
    end = start + int(entity.get("length", 0)) * 2
    return encoded[start:end].decode("utf-16-le", errors="ignore")


def person(user: Json) -> Person:
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k)).strip()
    language = user.get("language_code")
    return Person(
        external_id=str(user["id"]),
        display_name=name or None,
        handle=str(user["username"]) if user.get("username") else None,
        language=str(language).lower()[:8] if language else None,
    )


def _sender(message: Json) -> Person:
    user = message.get("from")
    if isinstance(user, dict) and "id" in user:
        return person(user)
    # No ``from``: an anonymous group admin or a message sent on behalf of a chat.
    chat = message.get("sender_chat") or message["chat"]
    return Person(
        external_id=str(chat["id"]),
        display_name=str(chat.get("title") or chat.get("first_name") or "") or None,
        handle=str(chat["username"]) if chat.get("username") else None,
    )


def _message(channel: ChannelConfig, message: Json) -> PlatformEvent:
    thread = _thread(channel, message)
    if isinstance(thread, Ignored):
        return thread
    for key, reason in IGNORED_CONTENT.items():
        if key in message:
            return Ignored(reason)
    text, attachments = content(message)
    if not text and not attachments:
        # Service messages: pinned messages, chat photo changes, web app data, …
        return Ignored("service_message")
    extra: dict[str, Any] = {}
    forwarded = forward_origin(message)
    if forwarded:
        # The text is not the person's own: keep where it came from.
        extra["forwarded"] = forwarded
    if message.get("media_group_id"):
        extra["media_group_id"] = str(message["media_group_id"])
    chat_id = message["chat"]["id"]
    replied = message.get("reply_to_message")
    reply_to = None
    if isinstance(replied, dict) and "message_id" in replied:
        reply_chat = (replied.get("chat") or {}).get("id", chat_id)
        reply_to = f"{reply_chat}:{replied['message_id']}"
    return MessageReceived(
        thread=thread,
        sender=_sender(message),
        external_id=f"{chat_id}:{message['message_id']}",
        text=text,
        sent_at=from_seconds(message["date"]),
        attachments=attachments,
        reply_to_external_id=reply_to,
        extra=extra,
    )


# --- other updates ------------------------------------------------------------------------------


def _edited(channel: ChannelConfig, message: Json) -> list[PlatformEvent]:
    """An edit carries the whole message as it now is. Deliveries can overtake each other, and
    the core drops an edit of a message it does not have yet, so the message itself comes first
    (a no-op when it is already stored, the message with its new text when the edit won the
    race); the late original is then a duplicate."""
    thread = _thread(channel, message)
    if isinstance(thread, Ignored):
        return [Ignored(f"{thread.reason}_edit")]
    text = message.get("text") or message.get("caption")
    if not text:
        # Live locations move by editing the message; media swaps carry no text to show.
        return [Ignored("live_location" if "location" in message else "edited_media")]
    original = _message(channel, message)
    edit = MessageEdited(
        external_id=f"{message['chat']['id']}:{message['message_id']}",
        text=str(text),
        at=from_seconds(message.get("edit_date") or message["date"]),
    )
    return [original, edit] if isinstance(original, MessageReceived) else [edit]


def _callback(channel: ChannelConfig, query: Json) -> PlatformEvent:
    """A press on one of the bot's inline keyboard buttons: the person "said" the button."""
    data = query.get("data")
    if not data:
        return Ignored("callback_game")
    message = query.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    user = query["from"]
    chat_id = (chat or {}).get("id", user["id"])
    private = chat is None or _chat_type(chat) == "private"
    thread = Thread(
        kind=Kind.dm if private else Kind.mention,
        key=str(chat_id),
        subject=None if private or chat is None else chat.get("title"),
    )
    label = _button_label(message, str(data)) if isinstance(message, dict) else None
    reply_to = None
    if isinstance(message, dict) and message.get("message_id") is not None:
        reply_to = f"{chat_id}:{message['message_id']}"
    return MessageReceived(
        thread=thread,
        sender=person(user),
        external_id=f"cb:{query['id']}",
        text=label or str(data),
        # A callback query carries no time of its own; it arrives as the person presses.
        sent_at=datetime.now(UTC).replace(microsecond=0),
        reply_to_external_id=reply_to,
        extra={"callback_data": str(data)},
    )


def _button_label(message: Json, data: str) -> str | None:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in keyboard:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text") or "") or None
    return None


def _reaction(channel: ChannelConfig, update: Json) -> PlatformEvent:
    user = update.get("user")
    if not isinstance(user, dict):
        return Ignored("anonymous_reaction")  # an anonymous admin, reacting as the chat
    reaction: str | None = None
    for item in update.get("new_reaction") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "emoji" and item.get("emoji"):
            reaction = str(item["emoji"])
            break
        if item.get("type") == "custom_emoji":
            reaction = reaction or f"custom_emoji:{item.get('custom_emoji_id')}"
        elif item.get("type") == "paid":
            reaction = reaction or "⭐"
    return ReactionChanged(
        external_id=f"{update['chat']['id']}:{update['message_id']}",
        person_external_id=str(user["id"]),
        reaction=reaction,
        at=from_seconds(update["date"]),
    )


def _my_chat_member(channel: ChannelConfig, update: Json) -> PlatformEvent:
    """The bot's own membership changed: in a private chat, the person blocked or unblocked
    the bot (Telegram then refuses sends with 403 "bot was blocked by the user")."""
    if _chat_type(update["chat"]) != "private":
        return Ignored("group_membership")
    status = (update.get("new_chat_member") or {}).get("status")
    return Ignored("blocked" if status == "kicked" else "unblocked")
