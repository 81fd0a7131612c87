"""LinkedIn's part of the sandbox: organization social action notifications (signed with
``X-LI-Signature``) and the Community Management API paths Bandeja calls.

Like the real notifications, the fake's carry ids only (no ``decorated…`` fields): the comment's
text, author and parent are read back through ``GET /rest/socialActions/{post}/comments/{id}``,
which is why the fake remembers every comment it announced or that Bandeja created. A mention
is a member's post (``urn:li:share:…``) readable at ``GET /rest/posts/{urn}``.

- ``SimMessage`` comment → ``COMMENT`` (nested when ``parent_id`` is set); mention →
  ``SHARE_MENTION``; ``SimEdit`` → ``COMMENT_EDIT``; ``SimDelete`` → ``COMMENT_DELETE``;
- ``SimEcho`` → ``ADMIN_COMMENT``: the Page's comment, either one Bandeja created (``echoes``
  after each send) or one written in LinkedIn itself, answering the person's latest comment;
- reactions, reads, statuses and opt-outs → nothing (LinkedIn notifies none of them).

Sandbox ids are strings; LinkedIn's post and comment ids are numbers, so they are mapped to
stable numbers (the same string, the same number).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bandeja.channels.linkedin import urns
from bandeja.channels.linkedin.parse import EVENT_TYPE
from bandeja.channels.linkedin.rules import TEXT_LIMIT
from bandeja.channels.linkedin.verify import SIGNATURE_HEADER, signature
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
)
from bandeja.core.channels.models import Platform

MEMORY = 20_000  # comments and posts remembered for the read routes (oldest forgotten first)


def number(value: str) -> int:
    """A sandbox id as a LinkedIn numeric id: itself when numeric, else a stable hash."""
    if value.isdigit():
        return int(value)
    digest = hashlib.sha256(value.encode()).digest()
    return 7_000_000_000_000_000_000 + int.from_bytes(digest[:8], "big") % 10**18


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def member(person_id: str) -> str:
    return person_id if person_id.startswith("urn:li:") else f"urn:li:person:{person_id}"


def activity(post_id: str) -> str:
    return post_id if urns.is_post(post_id) else f"urn:li:activity:{number(post_id)}"


def comment_urn(message_id: str, post: str) -> str:
    return urns.comment(message_id) or urns.make_comment(post, number(message_id))


@dataclass(frozen=True, slots=True)
class Comment:
    urn: str
    actor: str
    text: str
    created: int
    modified: int
    parent: str | None = None
    name: str | None = None

    def body(self) -> dict[str, Any]:
        post, comment_id = urns.comment_parts(self.urn) or ("", "")
        data: dict[str, Any] = {
            "actor": self.actor,
            "commentUrn": self.urn,
            "id": comment_id,
            "object": post,
            "created": {"actor": self.actor, "time": self.created},
            "lastModified": {"actor": self.actor, "time": self.modified},
            "message": {"attributes": [], "text": self.text},
        }
        if self.parent:
            data["parentComment"] = self.parent
        if self.name:
            first, _, last = self.name.partition(" ")
            data["actor~"] = {"localizedFirstName": first, "localizedLastName": last}
        return data


@dataclass(frozen=True, slots=True)
class Post:
    urn: str
    author: str
    text: str
    created: int
    name: str | None = None

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.urn,
            "author": self.author,
            "commentary": self.text,
            "createdAt": self.created,
            "publishedAt": self.created,
            "lastModifiedAt": self.created,
            "lifecycleState": "PUBLISHED",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
        }
        if self.name:
            first, _, last = self.name.partition(" ")
            data["author~"] = {"localizedFirstName": first, "localizedLastName": last}
        return data


class LinkedInFake:
    platform = Platform.linkedin

    def __init__(self) -> None:
        self._notification_ids = itertools.count(5_603_453_321)
        self.comments: OrderedDict[str, Comment] = OrderedDict()
        self.posts: OrderedDict[str, Post] = OrderedDict()
        # Each person's latest top-level comment thread, where a native Page reply lands.
        self._threads: dict[str, str] = {}

    # --- what LinkedIn knows --------------------------------------------------------------------

    def remember(self, item: Comment | Post) -> None:
        """Store a comment or post for the read routes (tests seed it for their fixtures)."""
        store: OrderedDict[str, Any] = self.comments if isinstance(item, Comment) else self.posts
        store[item.urn] = item
        store.move_to_end(item.urn)
        while len(store) > MEMORY:
            store.popitem(last=False)

    # --- webhooks -------------------------------------------------------------------------------

    def deliveries(self, channel: SandboxChannel, event: SimEvent) -> list[Delivery]:
        organization = urns.organization(channel.external_id)
        match event:
            case SimMessage(kind="comment"):
                post = activity(event.post_id or f"{channel.external_id}-post")
                urn = comment_urn(event.message_id, post)
                parent = comment_urn(event.parent_id, post) if event.parent_id else None
                self.remember(
                    Comment(
                        urn,
                        member(event.person.id),
                        event.text,
                        _millis(event.at),
                        _millis(event.at),
                        parent,
                        event.person.name,
                    )
                )
                self._threads[event.person.id] = parent or urn
                notification = self._notification(channel, "COMMENT", post, urn, event.at)
            case SimMessage(kind="mention"):
                share = (
                    event.post_id
                    if urns.is_post(event.post_id)
                    else f"urn:li:share:{number(event.post_id or event.message_id)}"
                )
                assert share is not None
                self.remember(
                    Post(
                        share,
                        member(event.person.id),
                        event.text,
                        _millis(event.at),
                        event.person.name,
                    )
                )
                notification = self._notification(channel, "SHARE_MENTION", share, share, event.at)
            case SimEdit():
                edited = self._find(event.message_id)
                if edited is None:
                    return []  # edits of posts are not notified
                urn = edited
                self.remember(
                    replace(self.comments[urn], text=event.text, modified=_millis(event.at))
                )
                post = (urns.comment_parts(urn) or (urn, ""))[0]
                notification = self._notification(channel, "COMMENT_EDIT", post, urn, event.at)
            case SimDelete():
                urn = self._find(event.message_id) or comment_urn(
                    event.message_id, activity(event.post_id or f"{channel.external_id}-post")
                )
                self.comments.pop(urn, None)
                post = (urns.comment_parts(urn) or (urn, ""))[0]
                notification = self._notification(channel, "COMMENT_DELETE", post, urn, event.at)
            case SimEcho():
                known = self._find(event.message_id)
                if known is not None:
                    urn = known
                else:
                    # Written in LinkedIn itself: the Page answers the person's latest thread.
                    thread = self._threads.get(event.person.id)
                    if thread is None:
                        return []
                    post = (urns.comment_parts(thread) or (thread, ""))[0]
                    urn = comment_urn(event.message_id, post)
                    self.remember(
                        Comment(
                            urn,
                            organization,
                            event.text,
                            _millis(event.at),
                            _millis(event.at),
                            thread,
                            channel.name,
                        )
                    )
                post = (urns.comment_parts(urn) or (urn, ""))[0]
                notification = self._notification(channel, "ADMIN_COMMENT", post, urn, event.at)
            case _:
                return []
        payload = {"type": EVENT_TYPE, "notifications": [notification]}
        return [self._signed(channel, payload)]

    def _find(self, message_id: str) -> str | None:
        """The comment a sandbox message id names (a URN, or the id a comment was made from)."""
        direct = urns.comment(message_id)
        if direct is not None:
            return direct if direct in self.comments else None
        suffix = f",{number(message_id)})"
        return next((urn for urn in reversed(self.comments) if urn.endswith(suffix)), None)

    def _notification(
        self, channel: SandboxChannel, action: str, source: str, generated: str, at: datetime
    ) -> dict[str, Any]:
        return {
            "notificationId": next(self._notification_ids),
            "organizationalEntity": urns.organization(channel.external_id),
            "action": action,
            "sourcePost": source,
            "generatedActivity": generated,
            "lastModifiedAt": _millis(at),
            "subscriber": "urn:li:person:sandboxAdmin1",
        }

    def _signed(self, channel: SandboxChannel, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = channel.secrets.get("signing_secret", "")
        return Delivery(
            url=channel.webhook_url,
            body=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)},
        )

    def echoes(self, channel: SandboxChannel, sent: SentRecord) -> list[SimEvent]:
        """After the Page comments through the API, LinkedIn notifies ``ADMIN_COMMENT``."""
        urn = _created_urn(sent)
        person = SimPerson(id=sent.recipient_id, name="", handle="", language="en")
        return [SimEcho(person=person, message_id=urn, text=sent.text, at=sent.at)]

    # --- the REST API ---------------------------------------------------------------------------

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        def authorized(request: Request) -> SandboxChannel | JSONResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            channel = api.channel_by_token(Platform.linkedin, token)
            if channel is None:
                return _error(401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
            if not request.headers.get("linkedin-version"):
                return _error(
                    400,
                    None,
                    "VERSION_MISSING",
                    "A version must be present. Please specify a version by adding "
                    "the LinkedIn-Version header.",
                )
            return channel

        async def get_comment(request: Request) -> JSONResponse:
            channel = authorized(request)
            if isinstance(channel, JSONResponse):
                return channel
            target = request.path_params["target"]
            post = (urns.comment_parts(target) or (target, ""))[0]
            urn = urns.make_comment(post, request.path_params["comment_id"])
            found = self.comments.get(urn)
            if found is None:
                # Notifications name posts by share or activity URN; comments by activity.
                suffix = f",{request.path_params['comment_id']})"
                found = next((c for u, c in self.comments.items() if u.endswith(suffix)), None)
            if found is None:
                return _error(404, None, "NOT_FOUND", f"Comment {urn} not found")
            return JSONResponse(found.body())

        async def get_post(request: Request) -> JSONResponse:
            channel = authorized(request)
            if isinstance(channel, JSONResponse):
                return channel
            found = self.posts.get(request.path_params["urn"])
            if found is None:
                return _error(404, None, "NOT_FOUND", "Post not found")
            return JSONResponse(found.body())

        async def create_comment(request: Request) -> JSONResponse:
            channel = authorized(request)
            if isinstance(channel, JSONResponse):
                return channel
            key = request.headers.get("idempotency-key")
            earlier = api.replay(key)
            if earlier is not None:
                return self._created(earlier)
            failure = api.injected_failure(Platform.linkedin)
            if failure is not None:
                status, body, headers = failure
                return JSONResponse(body, status_code=status, headers=headers)
            try:
                payload = await request.json()
            except ValueError:
                return _error(400, None, "BAD_REQUEST", "Request body is not valid JSON")
            text = (payload.get("message") or {}).get("text") if isinstance(payload, dict) else None
            if not isinstance(text, str) or not text.strip():
                return _error(
                    422,
                    None,
                    "UNPROCESSABLE_ENTITY",
                    "/message/text :: field is required but not found",
                )
            if payload.get("actor") != urns.organization(channel.external_id):
                return _error(
                    403,
                    100,
                    "ACCESS_DENIED",
                    "Not enough permissions to access: partnerApiSocialActions.CREATE",
                )
            if len(text) > TEXT_LIMIT:
                return _error(
                    422,
                    None,
                    "UNPROCESSABLE_ENTITY",
                    f"/message/text :: length {len(text)} exceeds {TEXT_LIMIT}",
                )
            parent = urns.comment(payload.get("parentComment"))
            target = urns.comment(request.path_params["target"]) or request.path_params["target"]
            if parent is None and not urns.is_post(target) and target not in self.posts:
                return _error(404, None, "NOT_FOUND", f"{target} not found")
            wait = api.rate_limited(f"linkedin:{channel.bandeja_id}", 100, 60.0)
            if wait is not None:
                return _error(
                    429,
                    101,
                    "TOO_MANY_REQUESTS",
                    "Resource level throttle APPLICATION DAY limit for calls to this "
                    "resource is reached.",
                    retry_after=wait,
                )
            recipient = (
                self.comments[parent].actor
                if parent is not None and parent in self.comments
                else (self.posts[target].author if target in self.posts else str(parent or target))
            )
            record = api.record_send(channel, recipient, text, payload, key)
            urn = _created_urn(record)
            self.remember(
                Comment(
                    urn,
                    str(payload["actor"]),
                    text,
                    _millis(record.at),
                    _millis(record.at),
                    parent,
                    channel.name,
                )
            )
            return self._created(record)

        return [
            Route(
                "/rest/socialActions/{target}/comments/{comment_id}", get_comment, methods=["GET"]
            ),
            Route("/rest/socialActions/{target}/comments", create_comment, methods=["POST"]),
            Route("/rest/posts/{urn}", get_post, methods=["GET"]),
        ]

    def _created(self, record: SentRecord) -> JSONResponse:
        urn = _created_urn(record)
        found = self.comments.get(urn)
        body = found.body() if found is not None else {"commentUrn": urn}
        comment_id = (urns.comment_parts(urn) or ("", ""))[1]
        return JSONResponse(body, status_code=201, headers={"x-restli-id": comment_id})


def _created_urn(record: SentRecord) -> str:
    """The comment a send created: under the post it was sent to, numbered from its record."""
    post = str(record.payload.get("object") or "")
    return urns.make_comment(post, number(record.message_id))


def _error(
    status: int, service: int | None, code: str, message: str, *, retry_after: float | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)


FAKE = LinkedInFake()
