"""Replies: checked against the platform's rules, stored with their send job, sent by a worker."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bandeja.channels.registry import Rules
from bandeja.core.messages.schemas import MessageOut
from bandeja.core.outbox import actions
from bandeja.core.outbox.types import ReplyDraft, Template
from bandeja.core.types import MAX_ID, DbId, Text
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(tags=["replies"])


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    parameters: list[Text] = Field(default_factory=list, max_length=20)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field("", max_length=20_000)
    private_reply_to: DbId | None = Field(
        None, description="Answer this customer comment (message id) privately, by DM."
    )
    tag: Text | None = Field(
        None, description='Messenger/Instagram message tag, e.g. "HUMAN_AGENT".'
    )
    template: TemplateIn | None = Field(None, description="WhatsApp approved template.")
    extra_recipients: list[Text] = Field(default_factory=list, max_length=60)
    promotional: bool = Field(
        False, description="Marketing content: refused to people who have not opted in."
    )
    seen_message_id: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="Send-guard: the newest message shown when the draft began (0: none). If "
        "someone replied after it, the answer is 409 `reply_collision` with what was sent in "
        "`error.details.sent`, unless `force` is true.",
    )
    force: bool = Field(False, description="Send even though someone replied meanwhile.")
    idempotency_key: Text | None = Field(
        None,
        max_length=100,
        description="The same key again returns the same message instead of sending twice.",
    )


def _wake_sender(request: Request) -> None:
    workers = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.sender.wake.set()


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=202,
    summary="Reply (checked against the platform's rules, then sent in the background)",
    responses={
        200: {"description": "The same idempotency key was used before"},
        409: {"description": "Someone replied after the draft began (`reply_collision`)"},
    },
)
async def post_reply(
    conversation_id: PathId, body: ReplyIn, request: Request, db: Db, actor: CurrentActor
) -> JSONResponse:
    key = body.idempotency_key or request.headers.get("idempotency-key")
    draft = ReplyDraft(
        text=body.text,
        private_reply_to_message_id=body.private_reply_to,
        tag=body.tag,
        template=Template(**body.template.model_dump()) if body.template else None,
        extra_recipients=body.extra_recipients,
        promotional=body.promotional,
        seen_message_id=body.seen_message_id,
    )
    queued = await actions.queue_reply(
        db, actor, conversation_id, draft, Rules(), idempotency_key=key, force=body.force
    )
    await db.commit()
    _wake_sender(request)
    return JSONResponse(
        MessageOut.model_validate(queued.message).model_dump(mode="json"),
        status_code=202 if queued.created else 200,
    )


@router.post("/messages/{message_id}/retry", status_code=202, summary="Send a failed reply again")
async def post_retry(
    message_id: PathId, request: Request, db: Db, actor: CurrentActor
) -> MessageOut:
    message = await actions.retry_send(db, actor, message_id)
    await db.commit()
    _wake_sender(request)
    return MessageOut.model_validate(message)
