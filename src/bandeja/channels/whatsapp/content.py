"""What a WhatsApp message says: its text, attachments and details, for every message type.

Shared by customer messages (``messages[]``) and the business app's echoes
(``message_echoes[]``), which use the same ``type`` + ``<type>: {...}`` shape. Also the small
accessors that read untrusted JSON without raising.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
# Referral (click-to-WhatsApp ad) fields worth keeping with the message.
REFERRAL_KEYS = (
    "source_url",
    "source_id",
    "source_type",
    "headline",
    "body",
    "media_type",
    "image_url",
    "video_url",
    "thumbnail_url",
    "ctwa_clid",
)

# What a message says: (text, attachments, extra details).
Content = tuple[str, list[dict[str, Any]], dict[str, Any]]


def extra_of(msg: dict[str, Any]) -> dict[str, Any]:
    """The details of a customer message worth keeping beside its text (``Message.extra``):
    the reply button or list row chosen, a template button's payload, forwarding flags, the
    ad or catalog product the conversation started from."""
    content = read(label(msg.get("type")), msg)
    return {**(content[2] if content else {}), **details(msg)}


def details(msg: dict[str, Any]) -> dict[str, Any]:
    """What any message type may carry besides its content: forwarding, ad referral, product."""
    extra = _context_extra(obj(msg.get("context")))
    referral = obj(msg.get("referral"))
    if referral:
        # Click-to-WhatsApp ad: which ad, and its click id for conversion reporting.
        extra["referral"] = {k: referral[k] for k in REFERRAL_KEYS if scalar(referral.get(k))}
    return extra


def _context_extra(context: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if context.get("forwarded") is True:
        extra["forwarded"] = True
    if context.get("frequently_forwarded") is True:
        extra["frequently_forwarded"] = True
    product = obj(context.get("referred_product"))
    if product:
        # "Message business" from a product in the catalog.
        extra["referred_product"] = {k: v for k, v in product.items() if scalar(v)}
    return extra


def read(kind: str, msg: dict[str, Any]) -> Content | None:
    """The text, attachments and details of a message of ``kind``; None: not that shape."""
    body = msg.get(kind)
    if kind == "contacts":
        # Contact cards the person shared: a list, unlike every other type's object.
        return _contacts_of(seq(body))
    if not isinstance(body, dict):
        return None
    if kind == "text":
        text = string(body.get("body"))
        return None if text is None else (text, [], {})
    if kind in MEDIA_TYPES:
        return string(body.get("caption")) or "", [_media(kind, body)], {}
    reader = _READERS.get(kind)
    return reader(body) if reader is not None else None


def _media(kind: str, media: dict[str, Any]) -> dict[str, Any]:
    # The media id is what the Graph API downloads (GET /{media-id} → a short-lived URL, with
    # the access token); ``url`` is only sent to some accounts.
    attachment: dict[str, Any] = {"type": kind}
    for key, name in (
        ("id", "media_id"),
        ("mime_type", "mime_type"),
        ("sha256", "sha256"),
        ("filename", "name"),
        ("url", "url"),
    ):
        found = string(media.get(key))
        if found is not None:
            attachment[name] = found
    if kind == "audio" and media.get("voice") is True:
        attachment["voice"] = True
    if kind == "sticker" and media.get("animated") is True:
        attachment["animated"] = True
    return attachment


def _location(body: dict[str, Any]) -> Content | None:
    latitude, longitude = body.get("latitude"), body.get("longitude")
    if not number(latitude) or not number(longitude):
        return None
    name, address = string(body.get("name")), string(body.get("address"))
    attachment: dict[str, Any] = {"type": "location", "latitude": latitude, "longitude": longitude}
    for key, found in (("name", name), ("address", address), ("url", string(body.get("url")))):
        if found is not None:
            attachment[key] = found
    words = list(dict.fromkeys(p for p in (name, address) if p))
    text = "📍 " + (", ".join(words) if words else f"{latitude}, {longitude}")
    return text, [attachment], {}


def _contacts_of(cards: list[Any]) -> Content | None:
    attachments: list[dict[str, Any]] = []
    for raw in cards:
        card = obj(raw)
        name = string(obj(card.get("name")).get("formatted_name")) or ""
        phones = [p for p in (string(obj(x).get("phone")) for x in seq(card.get("phones"))) if p]
        emails = [e for e in (string(obj(x).get("email")) for x in seq(card.get("emails"))) if e]
        wa_ids = [w for w in (string(obj(x).get("wa_id")) for x in seq(card.get("phones"))) if w]
        attachment: dict[str, Any] = {"type": "contact", "name": name, "phones": phones}
        if emails:
            attachment["emails"] = emails
        if wa_ids:
            attachment["wa_ids"] = wa_ids
        company = string(obj(card.get("org")).get("company"))
        if company:
            attachment["company"] = company
        attachments.append(attachment)
    if not attachments:
        return None
    names = [a["name"] for a in attachments if a["name"]]
    return "👤 " + (", ".join(names) if names else "contact"), attachments, {}


def _interactive(body: dict[str, Any]) -> Content | None:
    kind = label(body.get("type"))
    if kind in ("button_reply", "list_reply"):
        # The person tapped a reply button or chose a list row of a message the business sent.
        reply = obj(body.get(kind))
        reply_id, title = string(reply.get("id")), string(reply.get("title"))
        if reply_id is None and title is None:
            return None
        chosen = {"type": kind, "id": reply_id, "title": title}
        description = string(reply.get("description"))
        if description:
            chosen["description"] = description
        return title or reply_id or "", [], {"reply": chosen}
    if kind == "nfm_reply":
        # A WhatsApp Flow was completed: its answers arrive as a JSON string.
        form = obj(body.get("nfm_reply"))
        try:
            answers = json.loads(string(form.get("response_json")) or "{}")
        except ValueError:
            answers = {}
        attachment = {
            "type": "form_response",
            "name": string(form.get("name")) or "flow",
            "response": answers if isinstance(answers, dict) else {},
        }
        return string(form.get("body")) or "", [attachment], {}
    return None


def _button(body: dict[str, Any]) -> Content | None:
    # A quick-reply button of a template the business sent.
    text, payload = string(body.get("text")), string(body.get("payload"))
    if text is None and payload is None:
        return None
    return text or payload or "", [], {"button_payload": payload}


def _order(body: dict[str, Any]) -> Content | None:
    """A cart sent from the catalog: the items as an attachment, a one-line summary as text."""
    items: list[dict[str, Any]] = []
    total: float | None = 0.0
    currencies: set[str | None] = set()
    for raw in seq(body.get("product_items")):
        item = obj(raw)
        product = string(item.get("product_retailer_id"))
        if product is None:
            continue
        quantity = item.get("quantity") if number(item.get("quantity")) else 1
        price = item.get("item_price") if number(item.get("item_price")) else None
        currency = string(item.get("currency"))
        items.append(
            {
                "product_retailer_id": product,
                "quantity": quantity,
                "item_price": price,
                "currency": currency,
            }
        )
        currencies.add(currency)
        total = None if total is None or price is None else total + quantity * price
    if not items:
        return None
    note = string(body.get("text")) or ""
    summary = "🛒 Order: " + ", ".join(
        f"{i['quantity']} x {i['product_retailer_id']}" for i in items
    )
    if total is not None and len(currencies) == 1:
        currency = currencies.pop()
        summary += f" (total {_amount(total)}{' ' + currency if currency else ''})"
    attachment = {"type": "order", "catalog_id": string(body.get("catalog_id")), "items": items}
    if note:
        attachment["note"] = note
    return (f"{note}\n{summary}" if note else summary), [attachment], {}


_READERS: dict[str, Callable[[dict[str, Any]], Content | None]] = {
    "location": _location,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
}


def _amount(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# --- reading untrusted JSON ------------------------------------------------------------------


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def string(value: Any) -> str | None:
    """A non-empty string (numbers as their text, as WhatsApp mixes both for ids), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value != "" else None


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def label(value: Any) -> str:
    """A type or field name for an Ignored reason (short, never None)."""
    return (string(value) or "none")[:40]
