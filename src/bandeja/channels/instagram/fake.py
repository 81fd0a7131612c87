"""Instagram's part of the sandbox: the webhooks Meta sends for an Instagram professional
account, signed like Meta signs them, and the Graph API paths Bandeja calls, answering in Graph's
success and error shapes.

Webhooks (what Instagram really sends, and only that):
  - a DM (``SimMessage`` kind ``dm``) → ``messaging[].message``; a comment → ``changes[]``
    ``field: "comments"``; a mention → ``field: "mentions"`` with ids only (the fake remembers
    the text for the Graph read that ``expand`` makes). A mention whose ``message_id`` equals
    its ``post_id`` is a mention in the post's caption; otherwise it is a comment mentioning us.
  - reactions, edits and unsends exist for DMs only (Instagram sends nothing when a comment is
    liked or removed, and comments cannot be edited); reads are ``messaging_seen`` (``read.mid``;
    Instagram has no delivery receipts); echoes are ``message`` with ``is_echo``.
After a send: a DM or private reply is echoed (``is_echo``); a public reply to a comment on the
account's media comes back as a ``comments`` change from the account itself; a reply to a
mention (on someone else's media) comes back as nothing.

Send API (paths relative to the sandbox's ``/instagram`` prefix, i.e. ``api_base_url``):
``POST /{ig-user-id}/messages``, ``POST /{comment-id}/replies``, ``POST /{ig-user-id}/mentions``,
``GET /{ig-user-id}?fields=mentioned_comment…|mentioned_media…`` and ``GET /{igsid}`` (profile).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bandeja.channels.sandbox.contract import (
    Delivery,
    SandboxApi,
    SandboxChannel,
    SentRecord,
    SimDelete,
    SimEcho,
    SimEdit,
    SimEvent,
    SimMessage,
    SimPerson,
    SimReaction,
    SimRead,
    SimStatus,
)
from bandeja.core.channels.models import Platform

DM_LIMIT_BYTES = 1000
COMMENT_LIMIT_CHARS = 2200
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# Instagram messaging: about 100 text sends per second per account; comments far fewer.
MESSAGES_PER_SECOND = 100
COMMENTS_PER_MINUTE = 60
MEMORY = 50_000  # remembered ids (mentions, comments, DMs) before the oldest are forgotten

_REACTION_NAMES = {
    "\u2764\ufe0f": "love",
    "\u2764": "love",
    "\U0001f602": "laugh",
    "\U0001f62e": "wow",
    "\U0001f622": "sad",
    "\U0001f621": "angry",
    "\U0001f44d": "like",
}
_ATTACHMENT_TYPES = {
    "image",
    "video",
    "audio",
    "file",
    "share",
    "story_mention",
    "ig_reel",
    "ig_post",
}


@dataclass(frozen=True, slots=True)
class _Said:
    """A customer message the fake delivered (for the Graph reads and the send checks)."""

    kind: str
    person: SimPerson
    text: str
    at: datetime
    media_id: str


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _graph_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _permalink(media_id: str) -> str:
    code = hashlib.sha256(media_id.encode()).hexdigest()[:11]
    return f"https://www.instagram.com/p/{code}/"


def _handle_of(channel: SandboxChannel) -> str:
    return re.sub(r"[^a-z0-9._]", "", channel.name.lower().lstrip("@")) or "business"


def sign(secret: str, body: bytes) -> dict[str, str]:
    """The headers Meta sends with a webhook: SHA-256 (and the legacy SHA-1) HMAC of the body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    headers: dict[str, str] | None = None,
    trace: str = "AbCdEfGhIjKlMnOpQrStUvW",
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": trace}
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _unsupported(node: str, verb: str) -> JSONResponse:
    return graph_error(
        400,
        100,
        f"Unsupported {verb} request. Object with ID '{node}' does not "
        "exist, cannot be loaded due to missing permissions, or does not support "
        "this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33,
        kind="GraphMethodException",
    )


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _field_names(spec: str) -> set[str]:
    """Top-level names of a Graph field list: ``a,b{c,d},e`` → {a, b, e}."""
    names, depth, current = set(), 0, ""
    for char in spec:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.strip())
            current = ""
            continue
        if depth == 0 and char not in "{}":
            current += char
    names.add(current.strip())
    return {n for n in names if n}


class InstagramFake:
    platform = Platform.instagram

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Inbound ids the fake delivered → what they were. Module-level (this object is the
        # module's FAKE) so that a Graph read served by any sandbox app finds a mention the
        # engine delivered; bounded, oldest forgotten first.
        self._said: OrderedDict[str, _Said] = OrderedDict()
        self._edits: OrderedDict[str, int] = OrderedDict()

    # --- memory -------------------------------------------------------------------------------

    def _remember(self, store: OrderedDict[str, Any], key: str, value: Any) -> None:
        with self._lock:
            store[key] = value
            store.move_to_end(key)
            while len(store) > MEMORY:
                store.popitem(last=False)

    def said(self, message_id: str) -> _Said | None:
        return self._said.get(message_id)

    # --- webhooks -----------------------------------------------------------------------------

    def _delivery(self, channel: SandboxChannel, payload: dict[str, Any]) -> Delivery:
        # Meta escapes non-ASCII characters (\u00e9): the signature is over exactly these bytes.
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
        return Delivery(
            url=channel.webhook_url,
            headers=sign(channel.secrets.get("signing_secret", ""), body),
            body=body,
        )

    def _messaging(
        self, channel: SandboxChannel, item: dict[str, Any], at: datetime
    ) -> list[Delivery]:
        return [
            self._delivery(
                channel,
                {
                    "object": "instagram",
                    "entry": [{"time": _ms(at), "id": channel.external_id, "messaging": [item]}],
                },
            )
        ]

    def _change(
        self, channel: SandboxChannel, field: str, value: dict[str, Any], at: datetime
    ) -> list[Delivery]:
        return [
            self._delivery(
                channel,
                {
                    "object": "instagram",
                    "entry": [
                        {
                            "id": channel.external_id,
                            "time": int(at.timestamp()),
                            "changes": [{"field": field, "value": value}],
                        }
                    ],
                },
            )
        ]

    def _from(
        self, channel: SandboxChannel, person: SimPerson, at: datetime, **event: Any
    ) -> list[Delivery]:
        """A messaging webhook about something ``person`` did."""
        item = {
            "sender": {"id": person.id},
            "recipient": {"id": channel.external_id},
            "timestamp": _ms(at),
            **event,
        }
        return self._messaging(channel, item, at)

    def _is_dm(self, message_id: str) -> bool:
        said = self._said.get(message_id)
        return said is None or said.kind == "dm"

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        match event:
            case SimMessage(kind="dm"):
                return self._dm(channel, event)
            case SimMessage(kind="comment"):
                return self._comment(channel, event)
            case SimMessage(kind="mention"):
                return self._mention(channel, event)
            case SimReaction() if self._is_dm(event.message_id):
                reaction: dict[str, Any] = {"mid": event.message_id, "action": "unreact"}
                if event.reaction:
                    reaction = {
                        "mid": event.message_id,
                        "action": "react",
                        "reaction": _REACTION_NAMES.get(event.reaction, "other"),
                        "emoji": event.reaction,
                    }
                return self._from(channel, event.person, event.at, reaction=reaction)
            case SimEdit() if self._is_dm(event.message_id):
                with self._lock:
                    count = self._edits.get(event.message_id, 0) + 1
                self._remember(self._edits, event.message_id, count)
                edit = {"mid": event.message_id, "text": event.text, "num_edit": count}
                return self._from(channel, event.person, event.at, message_edit=edit)
            case SimDelete(kind="dm"):
                unsent = {"mid": event.message_id, "is_deleted": True}
                return self._from(channel, event.person, event.at, message=unsent)
            case SimRead(status="read", message_id=str()) | SimStatus(status="read"):
                assert event.message_id is not None
                return self._from(channel, event.person, event.at, read={"mid": event.message_id})
            case SimEcho():
                return self._messaging(
                    channel,
                    {
                        "sender": {"id": channel.external_id},
                        "recipient": {"id": event.person.id},
                        "timestamp": _ms(event.at),
                        "message": {"mid": event.message_id, "text": event.text, "is_echo": True},
                    },
                    event.at,
                )
        # Reactions, edits and removals of comments, delivery receipts, opt-outs: Instagram
        # sends no webhook for them.
        return []

    def _dm(self, channel: SandboxChannel, event: SimMessage) -> list[Delivery]:
        message: dict[str, Any] = {"mid": event.message_id}
        if event.text:
            message["text"] = event.text
        attachments = [self._attachment(a) for a in event.attachments]
        if attachments:
            message["attachments"] = attachments
        if event.reply_to_message_id:
            message["reply_to"] = {"mid": event.reply_to_message_id}
        self._remember(
            self._said, event.message_id, _Said("dm", event.person, event.text, event.at, "")
        )
        return self._from(channel, event.person, event.at, message=message)

    @staticmethod
    def _attachment(attachment: dict[str, Any]) -> dict[str, Any]:
        kind = str(attachment.get("type") or "image")
        kind = {"reel": "ig_reel", "post": "ig_post"}.get(kind, kind)
        if kind not in _ATTACHMENT_TYPES:
            kind = "file"
        payload: dict[str, Any] = {"url": str(attachment.get("url") or "")}
        if kind == "ig_reel":
            payload.update(
                title=attachment.get("title", ""),
                reel_video_id=str(attachment.get("reel_video_id", "")),
            )
        if kind == "ig_post":
            payload.update(
                title=attachment.get("title", ""),
                ig_post_media_id=str(attachment.get("media_id", "")),
            )
        return {"type": kind, "payload": payload}

    def _comment(self, channel: SandboxChannel, event: SimMessage) -> list[Delivery]:
        media_id = event.post_id or ""
        value: dict[str, Any] = {
            "from": {"id": event.person.id, "username": event.person.handle},
            "media": {"id": media_id, "media_product_type": "FEED"},
            "id": event.message_id,
            "text": event.text,
        }
        if event.parent_id:
            value["parent_id"] = event.parent_id
        if event.person.id != channel.external_id:
            self._remember(
                self._said,
                event.message_id,
                _Said("comment", event.person, event.text, event.at, media_id),
            )
        return self._change(channel, "comments", value, event.at)

    def _mention(self, channel: SandboxChannel, event: SimMessage) -> list[Delivery]:
        media_id = event.post_id or ""
        caption = bool(media_id) and event.message_id == media_id
        value = (
            {"media_id": media_id}
            if caption
            else {"comment_id": event.message_id, "media_id": media_id}
        )
        self._remember(
            self._said,
            event.message_id,
            _Said(
                "caption" if caption else "mention", event.person, event.text, event.at, media_id
            ),
        )
        return self._change(channel, "mentions", value, event.at)

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        payload = sent.payload
        recipient = payload.get("recipient")
        if isinstance(recipient, dict):
            if "comment_id" in recipient and sent.recipient_id == recipient["comment_id"]:
                return []  # a private reply to a comment the fake never saw: nobody to echo to
            person = SimPerson(id=sent.recipient_id, name="", handle="", language="en")
            return [SimEcho(person=person, message_id=sent.message_id, text=sent.text, at=sent.at)]
        if "media_id" in payload:
            return []  # a comment on someone else's media: no webhook for the account
        said = self._said.get(sent.recipient_id)
        account = SimPerson(
            id=channel.external_id, name=channel.name, handle=_handle_of(channel), language="en"
        )
        return [
            SimMessage(
                person=account,
                message_id=sent.message_id,
                text=sent.text,
                at=sent.at,
                kind="comment",
                post_id=said.media_id if said else None,
                parent_id=sent.recipient_id,
            )
        ]

    # --- Graph API ----------------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        fake = self
        # Comments answered privately, per sandbox (a new sandbox starts with none).
        private_replied: OrderedDict[str, datetime] = OrderedDict()

        def trace() -> str:
            return api.new_id("A").replace(".", "")[:23]

        async def authorized(request: Request) -> SandboxChannel | Response:
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            token = token or request.query_params.get("access_token", "")
            channel = api.channel_by_token(Platform.instagram, token) if token else None
            if channel is None:
                return graph_error(
                    400,
                    190,
                    "Invalid OAuth access token - Cannot parse access token",
                    trace=trace(),
                )
            return channel

        async def body_of(request: Request) -> dict[str, Any] | None:
            """Graph takes JSON, a form, or query parameters (nested objects as JSON text)."""
            data: dict[str, Any] = dict(request.query_params)
            data.pop("access_token", None)
            raw = await request.body()
            if raw:
                if "json" in request.headers.get("content-type", ""):
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        return None
                    if not isinstance(parsed, dict):
                        return None
                    data.update(parsed)
                else:
                    form = await request.form()
                    data.update({k: v for k, v in form.items() if isinstance(v, str)})
            for key in ("recipient", "message"):
                value = data.get(key)
                if isinstance(value, str) and value.startswith("{"):
                    try:
                        data[key] = json.loads(value)
                    except ValueError:
                        return None
            return data

        def failure() -> Response | None:
            injected = api.injected_failure(Platform.instagram)
            if injected is None:
                return None
            status, body, headers = injected
            return JSONResponse(body, status_code=status, headers=headers)

        async def messages(request: Request) -> Response:
            channel = await authorized(request)
            if isinstance(channel, Response):
                return channel
            node = request.path_params["ig_user_id"]
            if node not in (channel.external_id, "me"):
                return _unsupported(node, "post")
            key = request.headers.get("idempotency-key")
            earlier = api.replay(key)
            if earlier is not None:
                return JSONResponse(
                    {"recipient_id": earlier.recipient_id, "message_id": earlier.message_id}
                )
            injected = failure()
            if injected is not None:
                return injected
            body = await body_of(request)
            if body is None:
                return graph_error(400, 100, "(#100) Invalid JSON for postcard", trace=trace())
            recipient, message = _dict(body.get("recipient")), _dict(body.get("message"))
            text = message.get("text")
            if not recipient:
                return graph_error(
                    400, 100, "(#100) param recipient must be non-empty.", trace=trace()
                )
            if not isinstance(text, str) or not text:
                return graph_error(
                    400,
                    100,
                    "(#100) Param message[text] must be a non-empty UTF-8 encoded string",
                    trace=trace(),
                )
            if len(text.encode()) > DM_LIMIT_BYTES:
                return graph_error(
                    400,
                    100,
                    "(#100) Length of param message[text] must be less "
                    f"than or equal to {DM_LIMIT_BYTES}",
                    trace=trace(),
                )
            tag = body.get("tag")
            if tag is not None and tag != "HUMAN_AGENT":
                return graph_error(
                    400, 100, "(#100) Param tag must be one of {HUMAN_AGENT}", trace=trace()
                )
            now = api.now()
            comment_id = str(recipient.get("comment_id") or "")
            if comment_id:
                said = fake.said(comment_id)
                if comment_id in private_replied:
                    return graph_error(
                        400,
                        10,
                        "(#10) This comment has already been replied to privately.",
                        subcode=2534023,
                        trace=trace(),
                    )
                if said is not None and now - said.at > PRIVATE_REPLY_WINDOW:
                    return graph_error(
                        400,
                        10,
                        "(#10) This message is sent outside of allowed window.",
                        subcode=2534022,
                        trace=trace(),
                    )
                recipient_id = said.person.id if said is not None else comment_id
            else:
                recipient_id = str(recipient.get("id") or "")
                if not recipient_id:
                    return graph_error(
                        400, 100, "(#100) param recipient[id] must be non-empty.", trace=trace()
                    )
                person = api.person(Platform.instagram, recipient_id)
                if person is not None and not person.accepts_dms:
                    return graph_error(
                        400,
                        551,
                        "(#551) This person isn't available right now.",
                        subcode=1545041,
                        trace=trace(),
                    )
                last = api.last_inbound_at(channel, recipient_id)
                window = HUMAN_AGENT_WINDOW if tag == "HUMAN_AGENT" else WINDOW
                if last is None or now - last > window:
                    return graph_error(
                        400,
                        10,
                        "(#10) This message is sent outside of allowed "
                        "window. Learn more about the new policy here: "
                        "https://developers.facebook.com/docs/messenger-platform/"
                        "policy-overview",
                        subcode=2534022,
                        trace=trace(),
                    )
            if (
                api.rate_limited(
                    f"instagram:{channel.external_id}:messages", MESSAGES_PER_SECOND, 1.0
                )
                is not None
            ):
                return graph_error(
                    400,
                    613,
                    "(#613) Calls to this api have exceeded the rate limit.",
                    trace=trace(),
                )
            record = api.record_send(channel, recipient_id, text, body, key)
            if comment_id:
                fake._remember(private_replied, comment_id, now)
            return JSONResponse({"recipient_id": recipient_id, "message_id": record.message_id})

        async def replies(request: Request) -> Response:
            channel = await authorized(request)
            if isinstance(channel, Response):
                return channel
            comment_id = request.path_params["comment_id"]
            return await comment(request, channel, comment_id, None)

        async def mentions(request: Request) -> Response:
            channel = await authorized(request)
            if isinstance(channel, Response):
                return channel
            node = request.path_params["ig_user_id"]
            if node not in (channel.external_id, "me"):
                return _unsupported(node, "post")
            return await comment(request, channel, None, node)

        async def comment(
            request: Request, channel: SandboxChannel, comment_id: str | None, account: str | None
        ) -> Response:
            """A public comment: a reply to a comment (``/{comment-id}/replies``) or to a
            mention (``/{ig-user-id}/mentions``)."""
            key = request.headers.get("idempotency-key")
            earlier = api.replay(key)
            if earlier is not None:
                return JSONResponse({"id": earlier.message_id})
            injected = failure()
            if injected is not None:
                return injected
            body = await body_of(request)
            if body is None:
                return graph_error(400, 100, "(#100) Invalid parameter", trace=trace())
            text = body.get("message")
            if not isinstance(text, str) or not text.strip():
                return graph_error(
                    400, 100, "(#100) The parameter message is required", trace=trace()
                )
            if len(text) > COMMENT_LIMIT_CHARS:
                return graph_error(
                    400, 100, "(#100) Invalid parameter", subcode=2207050, trace=trace()
                )
            if account is not None:
                media_id = str(body.get("media_id") or "")
                if not media_id:
                    return graph_error(
                        400, 100, "(#100) The parameter media_id is required", trace=trace()
                    )
                mentioned = str(body.get("comment_id") or "")
                said = fake.said(mentioned or media_id)
                if said is not None and said.media_id and said.media_id != media_id:
                    return graph_error(400, 100, "(#100) Invalid parameter", trace=trace())
                target = mentioned or media_id
            else:
                assert comment_id is not None
                said = fake.said(comment_id)
                if said is not None and said.kind != "comment":
                    return _unsupported(comment_id, "post")
                target = comment_id
            if (
                api.rate_limited(
                    f"instagram:{channel.external_id}:comments", COMMENTS_PER_MINUTE, 60.0
                )
                is not None
            ):
                return graph_error(400, 4, "(#4) Application request limit reached", trace=trace())
            record = api.record_send(channel, target, text, body, key)
            return JSONResponse({"id": record.message_id})

        async def node(request: Request) -> Response:
            channel = await authorized(request)
            if isinstance(channel, Response):
                return channel
            object_id = request.path_params["object_id"]
            fields = request.query_params.get("fields", "")
            if object_id in (channel.external_id, "me"):
                return read_account(channel, fields)
            person = api.person(Platform.instagram, object_id)
            if person is None:
                return _unsupported(object_id, "get")
            profile = {"name": person.name, "username": person.handle, "id": person.id}
            wanted = _field_names(fields) | {"id"} if fields else {"name", "id"}
            return JSONResponse({k: v for k, v in profile.items() if k in wanted})

        def read_account(channel: SandboxChannel, fields: str) -> Response:
            found = re.match(
                r"\s*(mentioned_comment\.comment_id|mentioned_media\.media_id)"
                r"\(([^)]*)\)\{(.*)\}\s*$",
                fields,
            )
            if found is None:
                return JSONResponse(
                    {
                        "id": channel.external_id,
                        "username": _handle_of(channel),
                        "name": channel.name,
                    }
                )
            edge, ref, spec = found.groups()
            said = fake.said(ref)
            caption = edge.startswith("mentioned_media")
            if said is None or said.kind != ("caption" if caption else "mention"):
                return _unsupported(ref, "get")
            wanted = _field_names(spec) | {"id"}
            node_value: dict[str, Any] = {
                "id": ref,
                "timestamp": _graph_time(said.at),
                "username": said.person.handle,
                "like_count": 0,
            }
            if caption:
                node_value.update(
                    caption=said.text, media_type="IMAGE", permalink=_permalink(said.media_id)
                )
                key = "mentioned_media"
            else:
                node_value.update(
                    text=said.text,
                    media={"id": said.media_id, "permalink": _permalink(said.media_id)},
                    **{"from": {"id": said.person.id, "username": said.person.handle}},
                )
                key = "mentioned_comment"
            return JSONResponse(
                {
                    key: {k: v for k, v in node_value.items() if k in wanted},
                    "id": channel.external_id,
                }
            )

        return [
            Route("/{ig_user_id}/messages", messages, methods=["POST"]),
            Route("/{ig_user_id}/mentions", mentions, methods=["POST"]),
            Route("/{comment_id}/replies", replies, methods=["POST"]),
            Route("/{object_id}", node, methods=["GET"]),
        ]


FAKE = InstagramFake()
