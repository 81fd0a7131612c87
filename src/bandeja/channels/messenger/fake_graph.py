"""The sandbox's Graph API for Messenger: the paths Bandeja calls, answering as Meta does.

- ``POST /{page-id}/messages`` and ``POST /me/messages`` (DMs, private replies) →
  ``{"recipient_id", "message_id"}``;
- ``POST /{comment-id}/comments`` (public replies) → ``{"id"}``;
- ``GET /{psid}`` (User Profile API) → ``{"first_name", "last_name", "profile_pic", "id"}``.

The Page token comes as ``access_token`` (query) or ``Authorization: Bearer``; parameters as JSON,
a form or the query string, as Graph takes them. Errors have Graph's shape
(``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``) and codes: 190 bad
token, 100 invalid parameter (text over 2,000 characters, ...), 10 / 2018278 outside the
messaging window, 551 / 1545041 person unavailable, 613 rate limit (300 sends a second per Page),
10900 a second private reply. Injected failures and idempotency replays come from the sandbox.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bandeja.channels.messenger.fake_memory import Comment, Memory
from bandeja.channels.messenger.rules import HUMAN_AGENT, TAGS, TEXT_LIMIT
from bandeja.channels.sandbox.contract import SandboxApi, SandboxChannel
from bandeja.core.channels.models import Platform

SENDS_PER_SECOND = 300  # Messenger's documented send rate per Page
COMMENT_TEXT_LIMIT = 8_000
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = secrets.token_urlsafe(12)
    return JSONResponse({"error": error}, status_code=status)


class GraphApi:
    """The Graph API endpoints of one sandbox (``api``), sharing the fake's ``memory``."""

    def __init__(self, memory: Memory, api: SandboxApi) -> None:
        self.memory = memory
        self.api = api

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/me/messages", self.messages, methods=["POST"]),
            Route("/{page_id}/messages", self.messages, methods=["POST"]),
            Route("/{object_id}/comments", self.comments, methods=["POST"]),
            Route("/{user_id}", self.profile, methods=["GET"]),
        ]

    def _channel(self, request: Request) -> SandboxChannel | Response:
        token = request.query_params.get("access_token", "")
        auth = request.headers.get("authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        channel = self.api.channel_by_token(Platform.messenger, token)
        if channel is None:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        return channel

    def _before(self, channel: SandboxChannel) -> Response | None:
        """Injected failures, then Messenger's rate limit."""
        failure = self.api.injected_failure(Platform.messenger)
        if failure is not None:
            status, body, headers = failure
            return JSONResponse(body, status_code=status, headers=headers)
        if self.api.rate_limited(f"messenger:{channel.external_id}", SENDS_PER_SECOND, 1.0):
            return graph_error(400, 613, "(#613) Calls to this api have exceeded the rate limit.")
        return None

    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        """Graph takes parameters as JSON, as a form, or in the query string."""
        raw = await request.body()
        data: Any = None
        if raw:
            if "json" in request.headers.get("content-type", ""):
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
            else:
                form = parse_qs(raw.decode(errors="replace"))
                data = {k: v[-1] for k, v in form.items()}
        params: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
        for key, value in request.query_params.items():
            if key != "access_token":
                params.setdefault(key, value)
        # Form and query values of object parameters are JSON text.
        for key in ("recipient", "message"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def messages(self, request: Request) -> Response:
        channel = self._channel(request)
        if isinstance(channel, Response):
            return channel
        page_id = request.path_params.get("page_id", "me")
        if page_id not in ("me", channel.external_id):
            return graph_error(
                400,
                100,
                f"Unsupported post request. Object with ID '{page_id}' "
                "does not exist, cannot be loaded due to missing permissions, "
                "or does not support this operation",
                subcode=33,
                kind="GraphMethodException",
            )
        key = request.headers.get("idempotency-key")
        earlier = self.api.replay(key)
        if earlier is not None:
            return JSONResponse(
                {"recipient_id": earlier.recipient_id, "message_id": earlier.message_id}
            )
        refused = self._before(channel)
        if refused is not None:
            return refused
        body = await self._params(request)
        recipient = _dict(body.get("recipient"))
        message = _dict(body.get("message"))
        text = _str(message.get("text"))
        if not recipient:
            return graph_error(400, 100, "(#100) The parameter recipient is required")
        if not text and not message.get("attachment"):
            return graph_error(400, 100, "(#100) Param message must be non-empty")
        if len(text) > TEXT_LIMIT:
            return graph_error(
                400,
                100,
                f"(#100) Length of param message[text] must be less than or equal to {TEXT_LIMIT}",
            )
        messaging_type = body.get("messaging_type", "RESPONSE")
        tag = body.get("tag")
        if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return graph_error(
                400,
                100,
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}",
            )
        if messaging_type == "MESSAGE_TAG" and tag not in TAGS:
            return graph_error(
                400, 100, "(#100) Param tag must be one of {" + ", ".join(sorted(TAGS)) + "}"
            )
        comment_id = recipient.get("comment_id")
        if isinstance(comment_id, str) and comment_id:
            return self._private_reply(channel, comment_id, text, body, key)
        psid = str(recipient.get("id") or "")
        if not psid:
            return graph_error(400, 100, "(#100) The parameter recipient is required")
        last = self.api.last_inbound_at(channel, psid)
        window = HUMAN_AGENT_WINDOW if tag == HUMAN_AGENT else WINDOW
        in_window = last is not None and (
            (messaging_type == "MESSAGE_TAG" and tag != HUMAN_AGENT)
            or self.api.now() - last <= window
        )
        if not in_window:
            return graph_error(
                400,
                10,
                "(#10) This message is sent outside of allowed window. "
                "Learn more about the new policy here: https://developers."
                "facebook.com/docs/messenger-platform/policy-overview",
                subcode=2018278,
            )
        person = self.api.person(Platform.messenger, psid)
        if person is not None and not person.accepts_dms:
            return graph_error(
                400, 551, "(#551) This person isn't available right now.", subcode=1545041
            )
        record = self.api.record_send(channel, psid, text, body, key)
        return JSONResponse({"recipient_id": psid, "message_id": record.message_id})

    def _private_reply(
        self,
        channel: SandboxChannel,
        comment_id: str,
        text: str,
        body: dict[str, Any],
        key: str | None,
    ) -> Response:
        if comment_id in self.memory.private_replied:
            return graph_error(400, 10900, "(#10900) Activity already replied to")
        comment = self.memory.comments.get(comment_id)
        if comment is not None and self.api.now() - comment.at > PRIVATE_REPLY_WINDOW:
            return graph_error(
                400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278
            )
        author = comment.author.id if comment is not None and comment.author else comment_id
        record = self.api.record_send(channel, author, text, body, key)
        self.memory.replied_privately(comment_id)
        return JSONResponse({"recipient_id": author, "message_id": record.message_id})

    async def comments(self, request: Request) -> Response:
        channel = self._channel(request)
        if isinstance(channel, Response):
            return channel
        parent_id = request.path_params["object_id"]
        key = request.headers.get("idempotency-key")
        earlier = self.api.replay(key)
        if earlier is not None:
            return JSONResponse({"id": earlier.message_id})
        refused = self._before(channel)
        if refused is not None:
            return refused
        body = await self._params(request)
        text = _str(body.get("message"))
        if not text and not body.get("attachment_url"):
            return graph_error(400, 100, "(#100) Missing message or attachment")
        if len(text) > COMMENT_TEXT_LIMIT:
            return graph_error(
                400,
                100,
                f"(#100) Param message must be at most {COMMENT_TEXT_LIMIT} characters long",
            )
        parent = self.memory.comments.get(parent_id)
        record = self.api.record_send(channel, parent_id, text, body, key)
        top_level = (parent.top_level_id if parent else None) or parent_id
        post_id = parent.post_id if parent else f"{channel.external_id}_{parent_id.split('_')[0]}"
        self.memory.remember(
            record.message_id,
            Comment(post_id=post_id, top_level_id=top_level, author=None, at=record.at),
        )
        return JSONResponse({"id": record.message_id})

    async def profile(self, request: Request) -> Response:
        channel = self._channel(request)
        if isinstance(channel, Response):
            return channel
        user_id = request.path_params["user_id"]
        person = self.api.person(Platform.messenger, user_id)
        if person is None:
            return graph_error(
                400,
                100,
                f"Unsupported get request. Object with ID '{user_id}' "
                "does not exist, cannot be loaded due to missing permissions, "
                "or does not support this operation",
                subcode=33,
                kind="GraphMethodException",
            )
        first, _, last = person.name.partition(" ")
        return JSONResponse(
            {
                "first_name": first,
                "last_name": last,
                "profile_pic": f"https://platform-lookaside.fbsbx.com/platform/"
                f"profilepic/?psid={person.id}",
                "id": person.id,
            }
        )
