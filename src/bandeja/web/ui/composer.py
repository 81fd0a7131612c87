"""The composer: reply or internal note, with the platform's limits shown live, saved replies,
@mention suggestions and private replies to comments.

A post answers with a fresh composer and the ``thread-changed`` trigger (the pane reloads its
thread). A refusal (a platform rule, a teammate's reply meanwhile, bad input) answers 422 or 409
with the same composer, the draft kept and the reason shown; ``composer.js`` lets htmx swap
those answers in.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bandeja.channels.compose import ComposeRules
from bandeja.core.access import Actor
from bandeja.core.errors import Conflict, InvalidInput
from bandeja.core.notes.actions import add_note
from bandeja.core.notes.mentions import mentionable_users
from bandeja.core.outbox import actions as outbox
from bandeja.core.outbox.compose import ComposeOut, compose_context
from bandeja.core.outbox.types import ReplyDraft
from bandeja.core.saved_replies.queries import (
    list_saved_replies,
    render_reply,
    render_target,
)
from bandeja.core.types import MAX_ID
from bandeja.web.deps import Db
from bandeja.web.params import PathId
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.labels import N_
from bandeja.web.ui.render import render

router = APIRouter()

THREAD_CHANGED = {"HX-Trigger": "thread-changed"}

# Why a reply cannot be sent, by rule code, in the agent's language (the rule's own message,
# in English, gives the details).
REFUSALS = {
    "rule:window_closed": N_("The messaging window is closed."),
    "rule:template_required": N_("Only an approved template can be sent now."),
    "rule:business_cannot_start": N_("The person has to write first."),
    "rule:recipient_does_not_accept_dms": N_("This person does not accept direct messages."),
    "rule:not_supported": N_("This platform does not allow it."),
    "rule:private_reply_expired": N_("Too late for a private reply."),
    "rule:private_reply_already_sent": N_("This comment already has a private reply."),
    "rule:text_too_long": N_("The text is too long for this platform."),
    "reply_collision": N_("Someone replied after you started writing."),
}
GENERIC_REFUSAL = N_("This cannot be sent.")
MAX_REPLY = outbox.MAX_TEXT
Mode = Annotated[str, Query(pattern="^(reply|note|private)$")]
FormText = Annotated[str, Form(max_length=MAX_REPLY)]
DraftKey = Annotated[str, Form(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
SeenId = Annotated[int, Form(ge=0, le=MAX_ID)]
MessageId = Annotated[int, Form(ge=1, le=MAX_ID)]


def _new_key() -> str:
    """One key per draft: the same draft submitted twice (a double click, a retried request)
    makes one message (``queue_reply`` finds the first by this key)."""
    return f"ui-{secrets.token_urlsafe(18)}"


def _wake_sender(request: Request) -> None:
    workers = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.sender.wake.set()


async def _composer(
    request: Request,
    db: Db,
    actor: Actor,
    conversation_id: int,
    *,
    mode: str = "reply",
    text: str = "",
    key: str | None = None,
    seen_message_id: int | None = None,
    error: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    compose: ComposeOut = await compose_context(db, actor, conversation_id, ComposeRules())
    if mode == "private" and compose.private_reply is None:
        mode = "reply"
    return render(
        request,
        "composer/composer.html",
        status_code=status_code,
        headers=headers,
        compose=compose,
        conversation_id=conversation_id,
        mode=mode,
        text=text,
        draft_key=key or _new_key(),
        seen_message_id=compose.seen_message_id if seen_message_id is None else seen_message_id,
        error=error,
        refusals=REFUSALS,
        generic_refusal=GENERIC_REFUSAL,
    )


@router.get("/inbox/c/{conversation_id}/composer")
async def get_composer(
    conversation_id: PathId, request: Request, db: Db, actor: UiActor, mode: Mode = "reply"
) -> HTMLResponse:
    return await _composer(request, db, actor, conversation_id, mode=mode)


async def _send(
    request: Request,
    db: Db,
    actor: Actor,
    conversation_id: int,
    draft: ReplyDraft,
    key: str,
    force: bool,
    mode: str,
) -> HTMLResponse:
    try:
        await outbox.queue_reply(
            db, actor, conversation_id, draft, ComposeRules(), idempotency_key=key, force=force
        )
    except (InvalidInput, Conflict) as exc:
        await db.rollback()
        error: dict[str, object] = {"code": exc.code, "message": exc.message}
        seen: int | None = draft.seen_message_id
        if isinstance(exc, outbox.ReplyCollision):
            # The agent is now shown what was sent: sending the draft again is a decision.
            error["sent"], seen = exc.details["sent"], None
        return await _composer(
            request,
            db,
            actor,
            conversation_id,
            mode=mode,
            text=draft.text,
            key=key,
            seen_message_id=seen,
            error=error,
            status_code=409 if isinstance(exc, Conflict) else 422,
        )
    await db.commit()
    _wake_sender(request)
    return await _composer(request, db, actor, conversation_id, mode=mode, headers=THREAD_CHANGED)


@router.post("/inbox/c/{conversation_id}/reply")
async def post_reply(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    text: FormText,
    idempotency_key: DraftKey,
    seen_message_id: SeenId = 0,
    force: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    draft = ReplyDraft(text=text, seen_message_id=seen_message_id)
    return await _send(request, db, actor, conversation_id, draft, idempotency_key, force, "reply")


@router.post("/inbox/c/{conversation_id}/private-reply")
async def post_private_reply(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    text: FormText,
    idempotency_key: DraftKey,
    message_id: MessageId,
    seen_message_id: SeenId = 0,
    force: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    draft = ReplyDraft(
        text=text, private_reply_to_message_id=message_id, seen_message_id=seen_message_id
    )
    return await _send(
        request, db, actor, conversation_id, draft, idempotency_key, force, "private"
    )


@router.post("/inbox/c/{conversation_id}/composer/note")
async def post_note(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    text: Annotated[str, Form(max_length=20_000)],
) -> HTMLResponse:
    try:
        await add_note(db, actor, conversation_id, text)
    except InvalidInput as exc:
        await db.rollback()
        return await _composer(
            request,
            db,
            actor,
            conversation_id,
            mode="note",
            text=text,
            error={"code": exc.code, "message": exc.message},
            status_code=422,
        )
    await db.commit()
    return await _composer(request, db, actor, conversation_id, mode="note", headers=THREAD_CHANGED)


@router.get("/ui/mentions")
async def get_mentions(
    db: Db,
    actor: UiActor,
    conversation: Annotated[int, Query(ge=1, le=MAX_ID)],
    q: Annotated[str, Query(max_length=100)] = "",
) -> JSONResponse:
    """Suggestions for ``@`` in a note: teammates who can see the conversation."""
    users = await mentionable_users(db, actor, conversation, q)
    return JSONResponse(
        [{"id": u.id, "name": u.name, "email": u.email, "insert": f"@[{u.name}]"} for u in users]
    )


@router.get("/ui/saved-replies")
async def get_saved_replies(
    request: Request,
    db: Db,
    actor: UiActor,
    conversation: Annotated[int, Query(ge=1, le=MAX_ID)],
    q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The picker's list: each reply already in the contact's language, variables filled."""
    settings = request.app.state.settings
    target = await render_target(db, actor, conversation, settings.default_locale)
    replies = await list_saved_replies(db, actor, q, limit=50)
    return render(
        request,
        "composer/saved_replies.html",
        items=[(r, render_reply(r, target)) for r in replies],
        q=q,
    )
