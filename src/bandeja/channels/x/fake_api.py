"""The sandbox's X send API: the v2 paths Bandeja calls, answering as X does.

``201 {"data": ...}`` on success; v2 problems for bad requests and rate limits (429 with
``x-rate-limit-reset``: 15 DMs per 15 minutes per account); 403 with code 349 when the person does
not accept DMs from the account; 401 for an unknown token. Sends are recorded through
``SandboxApi.record_send``, and a repeated ``Idempotency-Key`` gets the first answer again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bandeja.channels.sandbox.contract import SandboxApi, SandboxChannel
from bandeja.channels.x.parse import SNOWFLAKE_EPOCH_MS
from bandeja.channels.x.rules import DM_TEXT_LIMIT, GROUP_DM_MAX_OTHERS, LONG_POST_TEXT_LIMIT
from bandeja.core.channels.models import Platform

DM_RATE_LIMIT = 15
DM_RATE_WINDOW_S = 15 * 60
_REMEMBERED = 10_000


class Recent(OrderedDict[str, Any]):
    """A bounded memory: the sandbox runs for days; keep only the latest entries."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > _REMEMBERED:
            self.popitem(last=False)


def _problem(
    status: int,
    title: str,
    detail: str,
    kind: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "type": kind, "status": status, **extra},
        status_code=status,
        headers=headers,
    )


def _invalid(message: str, parameter: str) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [{"parameters": {parameter: []}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
        status_code=400,
    )


def _cannot_message() -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]},
        status_code=403,
    )


class SendApi:
    """X's send endpoints, with what X remembers between calls: group conversations and the
    answers to replay."""

    def __init__(self) -> None:
        self.groups: Recent = Recent()  # group dm_conversation_id → its participant ids
        self._answers: Recent = Recent()  # our DM id → dm_conversation_id (idempotent replays)
        self._seq = 0

    def routes(self, api: SandboxApi) -> list[BaseRoute]:
        async def dm_with(request: Request) -> Response:
            return await self._send_dm(api, request, participant=request.path_params["pid"])

        async def dm_in(request: Request) -> Response:
            return await self._send_dm(api, request, conversation=request.path_params["cid"])

        async def dm_group(request: Request) -> Response:
            return await self._send_dm(api, request, group=True)

        async def tweets(request: Request) -> Response:
            return await self._send_post(api, request)

        return [
            Route("/2/dm_conversations/with/{pid}/messages", dm_with, methods=["POST"]),
            Route("/2/dm_conversations/{cid}/messages", dm_in, methods=["POST"]),
            Route("/2/dm_conversations", dm_group, methods=["POST"]),
            Route("/2/tweets", tweets, methods=["POST"]),
        ]

    async def _begin(
        self, api: SandboxApi, request: Request
    ) -> tuple[SandboxChannel, dict[str, Any], str | None] | Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else ""
        channel = api.channel_by_token(Platform.x, token)
        if channel is None:
            return _problem(401, "Unauthorized", "Unauthorized")
        failure = api.injected_failure(Platform.x)
        if failure is not None:
            status, failed, headers = failure
            return JSONResponse(failed, status_code=status, headers=headers)
        body: Any
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _invalid("the request body must be a JSON object", "body")
        return channel, body, request.headers.get("idempotency-key")

    def _rate_limited(self, api: SandboxApi, channel: SandboxChannel) -> Response | None:
        wait = api.rate_limited(f"x:{channel.external_id}:dm", DM_RATE_LIMIT, DM_RATE_WINDOW_S)
        if wait is None:
            return None
        headers = {
            "x-rate-limit-limit": str(DM_RATE_LIMIT),
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time() + wait) + 1),
        }
        return _problem(429, "Too Many Requests", "Too Many Requests", headers=headers)

    def _new_conversation_id(self) -> str:
        self._seq = (self._seq + 1) % 4096
        return str(((int(time.time() * 1000) - SNOWFLAKE_EPOCH_MS) << 22) | self._seq)

    async def _send_dm(
        self,
        api: SandboxApi,
        request: Request,
        *,
        participant: str | None = None,
        conversation: str | None = None,
        group: bool = False,
    ) -> Response:
        begun = await self._begin(api, request)
        if isinstance(begun, Response):
            return begun
        channel, body, key = begun
        previous = api.replay(key)
        if previous is not None:
            return JSONResponse(
                {
                    "data": {
                        "dm_conversation_id": self._answers.get(previous.message_id, ""),
                        "dm_event_id": previous.message_id,
                    }
                },
                status_code=201,
            )
        message = body.get("message") if group else body
        message = message if isinstance(message, dict) else {}
        text = message.get("text")
        if not isinstance(text, str) or not (text or message.get("attachments")):
            return _invalid("text or attachments is required", "text")
        if len(text) > DM_TEXT_LIMIT:
            return _invalid(f"text must be at most {DM_TEXT_LIMIT} characters", "text")
        me = channel.external_id
        if group:
            ids = body.get("participant_ids")
            if (
                body.get("conversation_type") != "Group"
                or not isinstance(ids, list)
                or not all(isinstance(i, str) for i in ids)
                or len(ids) < 2
            ):
                return _invalid(
                    "conversation_type must be Group, with at least 2 participant_ids",
                    "participant_ids",
                )
            if len(ids) > GROUP_DM_MAX_OTHERS:
                return _invalid(f"at most {GROUP_DM_MAX_OTHERS} participant_ids", "participant_ids")
            others: list[str] = ids
        elif conversation is not None:
            others = list(self.groups.get(conversation, []))
        else:
            others = [str(participant)]
        for other in others:
            person = api.person(Platform.x, other)
            if person is not None and not person.accepts_dms:
                return _cannot_message()
        limited = self._rate_limited(api, channel)
        if limited is not None:
            return limited
        if group:
            conversation = self._new_conversation_id()
            self.groups[conversation] = others
        elif conversation is not None:
            self.groups.setdefault(conversation, others)
        if conversation is not None:
            answer, recipient = conversation, conversation
        else:
            pair = sorted([me, str(participant)], key=lambda i: (len(i), i))
            answer, recipient = "-".join(pair), str(participant)
        record = api.record_send(channel, recipient, text, body, key)
        self._answers[record.message_id] = answer
        return JSONResponse(
            {"data": {"dm_conversation_id": answer, "dm_event_id": record.message_id}},
            status_code=201,
        )

    async def _send_post(self, api: SandboxApi, request: Request) -> Response:
        begun = await self._begin(api, request)
        if isinstance(begun, Response):
            return begun
        channel, body, key = begun
        previous = api.replay(key)
        if previous is not None:
            return JSONResponse(
                {
                    "data": {
                        "id": previous.message_id,
                        "text": previous.text,
                        "edit_history_tweet_ids": [previous.message_id],
                    }
                },
                status_code=201,
            )
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return _invalid("text is required", "text")
        if len(text) > LONG_POST_TEXT_LIMIT:
            # Whether the account has X Premium (longer posts) is not the sandbox's to know.
            return _problem(403, "Forbidden", "Your Tweet text is too long.")
        reply = body.get("reply")
        replied = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        record = api.record_send(channel, str(replied or ""), text, body, key)
        return JSONResponse(
            {
                "data": {
                    "id": record.message_id,
                    "text": text,
                    "edit_history_tweet_ids": [record.message_id],
                }
            },
            status_code=201,
        )
