"""WhatsApp Cloud API webhooks → the core's platform events.

A delivery (``object: "whatsapp_business_account"``) holds ``entry[]`` (one per WhatsApp Business
Account), each with ``changes[]``; a change's ``field`` names what it is about and its ``value``
carries it:

- ``messages``: ``value.messages[]`` (what people wrote, reacted, edited or revoked) and
  ``value.statuses[]`` (news about what the business sent), with ``value.contacts[]`` naming the
  senders. Both lists may hold several items, and one change may carry both.
- ``smb_message_echoes``: what the business sent from the WhatsApp Business app (numbers in
  "Coexistence"), kept as sent outside Bandeja.
- ``user_preferences``: a person stopped or resumed marketing messages.
- anything else (template reviews, account and quality updates, history sync, …) is counted as
  ignored, with the field's name.

Every number of a business account shares the Meta app's webhook subscription, so a change about
another phone number can reach this channel's URL: it is ignored (``other_phone_number``).

The body is signed by Meta, but its shape is still not trusted: every item is read with
defensive accessors, and an item that does not have the expected shape becomes an ``Ignored``
with a reason rather than an exception (one odd item must not hold back the others).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from bandeja.channels.base import ChannelConfig, from_seconds
from bandeja.channels.whatsapp.content import (
    details,
    label,
    obj,
    read,
    scalar,
    seq,
    string,
)
from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.types import (
    EchoReceived,
    Ignored,
    MarketingPreference,
    MessageDeleted,
    MessageEdited,
    MessageReceived,
    Person,
    PlatformEvent,
    ReactionChanged,
    StatusChanged,
    Thread,
)

OBJECT = "whatsapp_business_account"
_STATUSES: dict[str, Literal["sent", "delivered", "read", "failed"]] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}

# ``MessageReceived`` has no ``extra`` yet (``Message.extra`` exists but ingest does not fill it);
# pass the platform details along as soon as the core carries them.
_CARRIES_EXTRA = "extra" in {f.name for f in dataclasses.fields(MessageReceived)}


def parse(channel: ChannelConfig, body: bytes) -> list[PlatformEvent]:
    """All the events of one verified delivery, in the order the platform listed them.

    Raises ``ValueError`` only when the body is not a JSON object at all.
    """
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("a WhatsApp webhook body is a JSON object")
    if payload.get("object") != OBJECT:
        return [Ignored(f"object:{label(payload.get('object'))}")]
    events: list[PlatformEvent] = []
    for entry in seq(payload.get("entry")):
        changes = seq(obj(entry).get("changes"))
        if not changes:
            events.append(Ignored("malformed:entry"))
        for change in changes:
            events.extend(_change(channel, obj(change)))
    return events or [Ignored("empty")]


def _change(channel: ChannelConfig, change: dict[str, Any]) -> list[PlatformEvent]:
    field = label(change.get("field"))
    handler = _HANDLERS.get(field)
    if handler is None:
        # message_template_status_update, account_update, phone_number_quality_update, history,
        # smb_app_state_sync, business_capability_update, …: not inbox content.
        return [Ignored(f"field:{field}")]
    value = obj(change.get("value"))
    phone_number_id = string(obj(value.get("metadata")).get("phone_number_id"))
    if phone_number_id is None:
        return [Ignored(f"malformed:{field}")]
    if phone_number_id != channel.external_id:
        return [Ignored("other_phone_number")]
    names = _names(value)
    return handler(value, names) or [Ignored(f"empty:{field}")]


# --- field: messages ------------------------------------------------------------------------


def _messages(value: dict[str, Any], names: dict[str, str]) -> list[PlatformEvent]:
    value_errors = seq(value.get("errors"))
    events: list[PlatformEvent] = []
    for item in seq(value.get("messages")):
        events.append(_guarded(_message, obj(item), names, value_errors))
    for item in seq(value.get("statuses")):
        events.append(_guarded(_status, obj(item)))
    if not events:
        # Errors about the webhook itself, with nothing to attach them to.
        events.extend(Ignored(f"error:{_error(e)[0]}") for e in value_errors)
    return events


def _message(msg: dict[str, Any], names: dict[str, str], value_errors: list[Any]) -> PlatformEvent:
    sender = string(msg.get("from"))
    external_id = string(msg.get("id"))
    kind = label(msg.get("type"))
    if sender is None or external_id is None:
        return Ignored("malformed:message")
    at = _at(msg.get("timestamp"))
    person = _person(sender, names)
    if kind == "reaction":
        reaction = obj(msg.get("reaction"))
        target = string(reaction.get("message_id"))
        if target is None:
            return Ignored("malformed:reaction")
        # An empty emoji is how WhatsApp says the reaction was removed.
        return ReactionChanged(
            external_id=target,
            person_external_id=sender,
            reaction=string(reaction.get("emoji")),
            at=at,
        )
    if kind == "edit":
        return _edit(msg, at)
    if kind == "revoke":
        original = string(obj(msg.get("revoke")).get("original_message_id"))
        if original is None:
            return Ignored("malformed:revoke")
        return MessageDeleted(external_id=original, at=at)
    if kind == "system":
        # The person changed their number (user_changed_number) or identity: WhatsApp
        # starts a new wa_id; Bandeja does not merge identities on its own (an agent can).
        return Ignored(f"system:{label(obj(msg.get('system')).get('type'))}")
    if kind == "request_welcome":
        return Ignored("request_welcome")
    content = None if kind in ("unknown", "unsupported") else read(kind, msg)
    if content is None:
        errors = seq(msg.get("errors")) or value_errors
        if errors:
            # WhatsApp could not pass the message on (a poll, a view-once photo, …): it says
            # why in ``errors[]``; counted by error code.
            return Ignored(f"unsupported:{_error(errors[0])[0]}")
        return Ignored(f"type:{kind}")
    text, attachments, extra = content
    return _received(
        thread=Thread(kind=Kind.dm, key=sender),
        sender=person,
        external_id=external_id,
        text=text,
        sent_at=at,
        attachments=attachments,
        reply_to_external_id=string(obj(msg.get("context")).get("id")),
        extra={**extra, **details(msg)},
    )


def _edit(msg: dict[str, Any], at: datetime) -> PlatformEvent:
    edit = obj(msg.get("edit"))
    original = string(edit.get("original_message_id"))
    edited = obj(edit.get("message"))
    content = read(label(edited.get("type")), edited)
    if original is None or content is None:
        return Ignored("malformed:edit")
    return MessageEdited(external_id=original, text=content[0], at=at)


def _status(item: dict[str, Any]) -> PlatformEvent:
    external_id = string(item.get("id"))
    status = label(item.get("status"))
    if external_id is None:
        return Ignored("malformed:status")
    if status not in _STATUSES:
        # "deleted" (the person deleted the message for everyone), "warning" (a catalog item
        # problem), "played", …: nothing the inbox tracks.
        return Ignored(f"status:{status}")
    code = message = None
    errors = seq(item.get("errors"))
    if status == "failed" and errors:
        code, message = _error(errors[0])
    # ``biz_opaque_callback_data`` echoes Bandeja's "bandeja:<key>"; not needed to match: the
    # send answer already gave the message id these statuses name.
    return StatusChanged(
        external_id=external_id,
        status=_STATUSES[status],
        at=_at(item.get("timestamp")),
        error_code=code,
        error_message=message,
    )


# --- field: smb_message_echoes ---------------------------------------------------------------


def _echoes(value: dict[str, Any], names: dict[str, str]) -> list[PlatformEvent]:
    return [_guarded(_echo, obj(item), names) for item in seq(value.get("message_echoes"))]


def _echo(echo: dict[str, Any], names: dict[str, str]) -> PlatformEvent:
    """Sent by the business from the WhatsApp Business app: ``to`` is the customer."""
    recipient = string(echo.get("to"))
    external_id = string(echo.get("id"))
    kind = label(echo.get("type"))
    if recipient is None or external_id is None:
        return Ignored("malformed:echo")
    at = _at(echo.get("timestamp"))
    if kind == "edit":
        return _edit(echo, at)
    if kind == "revoke":
        original = string(obj(echo.get("revoke")).get("original_message_id"))
        return Ignored("malformed:revoke") if original is None else MessageDeleted(original, at)
    content = read(kind, echo)
    if content is None:
        return Ignored(f"echo:{kind}")
    text, attachments, _extra = content
    return EchoReceived(
        thread=Thread(kind=Kind.dm, key=recipient),
        recipient=_person(recipient, names),
        external_id=external_id,
        text=text,
        sent_at=at,
        attachments=attachments,
    )


# --- field: user_preferences -----------------------------------------------------------------


def _preferences(value: dict[str, Any], names: dict[str, str]) -> list[PlatformEvent]:
    return [_guarded(_preference, obj(item), names) for item in seq(value.get("user_preferences"))]


def _preference(item: dict[str, Any], names: dict[str, str]) -> PlatformEvent:
    wa_id = string(item.get("wa_id"))
    category = label(item.get("category"))
    choice = label(item.get("value")).lower()
    if wa_id is None:
        return Ignored("malformed:user_preference")
    if category != "marketing_messages":
        return Ignored(f"preference:{category}")
    if choice not in ("stop", "resume"):
        return Ignored(f"preference_value:{choice}")
    return MarketingPreference(
        person=_person(wa_id, names),
        opted_in=choice == "resume",
        at=_at(item.get("timestamp")),
        detail=string(item.get("detail")),
    )


_HANDLERS: dict[str, Callable[[dict[str, Any], dict[str, str]], list[PlatformEvent]]] = {
    "messages": _messages,
    "smb_message_echoes": _echoes,
    "user_preferences": _preferences,
}


# --- helpers ---------------------------------------------------------------------------------


def _received(*, extra: dict[str, Any], **fields: Any) -> MessageReceived:
    if _CARRIES_EXTRA and extra:
        fields["extra"] = extra
    return MessageReceived(**fields)


def _guarded(
    reader: Callable[..., PlatformEvent], item: dict[str, Any], *args: Any
) -> PlatformEvent:
    """One item's event; a shape no reader expected becomes an Ignored, never an exception."""
    if not item:
        return Ignored("malformed:item")
    try:
        return reader(item, *args)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return Ignored("malformed:item")


def _names(value: dict[str, Any]) -> dict[str, str]:
    """wa_id → profile name, from ``value.contacts[]``."""
    names: dict[str, str] = {}
    for raw in seq(value.get("contacts")):
        contact = obj(raw)
        wa_id, name = string(contact.get("wa_id")), string(obj(contact.get("profile")).get("name"))
        if wa_id and name:
            names[wa_id] = name
    return names


def _person(wa_id: str, names: dict[str, str]) -> Person:
    return Person(external_id=wa_id, display_name=names.get(wa_id), handle=wa_id)


def _error(raw: Any) -> tuple[str, str]:
    """(code, words) of a WhatsApp ``errors[]`` item: the title, then the details if they add
    something (they usually say what to do)."""
    error = obj(raw)
    code = error.get("code")
    words = string(error.get("message")) or string(error.get("title")) or ""
    hint = string(obj(error.get("error_data")).get("details")) or string(error.get("details"))
    if hint and hint not in words:
        words = f"{words}: {hint}" if words else hint
    return (str(code) if scalar(code) else "unknown"), words


def _at(value: Any) -> datetime:
    """WhatsApp timestamps are seconds (strings in messages, numbers in user_preferences).
    A missing or broken one is read as now: keeping the message matters more than its time."""
    try:
        return from_seconds(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)
