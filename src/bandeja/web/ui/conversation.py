"""The conversation pane: the thread (messages, notes and activity by time), and the triage
actions (assign, tags, status, follow-up, priority, read state, retry of a failed send).

An action answers with the pane's head (status, assignee, tags, priority) and, out of band,
the thread (its new activity line) and the conversation's row in the list: the composer and
the contact panel are left alone, so a draft survives an assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bandeja.core.access import Actor
from bandeja.core.activity.queries import activity_of
from bandeja.core.conversations import actions
from bandeja.core.conversations.queries import conversation_detail
from bandeja.core.conversations.schemas import ConversationDetail
from bandeja.core.errors import InvalidInput
from bandeja.core.messages.queries import messages_page
from bandeja.core.notes.queries import notes_of
from bandeja.core.outbox.actions import retry_send
from bandeja.core.types import MAX_ID
from bandeja.storage.base import utcnow
from bandeja.web.deps import Db
from bandeja.web.params import PathId
from bandeja.web.ui import labels, lookups
from bandeja.web.ui.deps import UiActor
from bandeja.web.ui.inbox import events_cursor, page_context
from bandeja.web.ui.render import is_htmx, render, render_string

router = APIRouter(prefix="/inbox/c/{conversation_id}")
THREAD_MESSAGES = 50
# Activity that the thread already shows as a message or a note.
_SHOWN_ELSEWHERE = {"reply.queued", "reply.sent", "reply.failed", "reply.retried", "note.added"}


@dataclass(frozen=True, slots=True)
class ThreadItem:
    kind: Literal["message", "note", "activity"]
    at: datetime
    item: Any
    text: str = ""  # activity: what happened, with who did it


async def thread_items(
    db: AsyncSession, conversation: ConversationDetail, names: dict[int, str]
) -> list[ThreadItem]:
    """The latest messages, and the notes and activity since the oldest of them, by time."""
    page = await messages_page(db, conversation.id, before=None, limit=THREAD_MESSAGES)
    items = [ThreadItem("message", m.sent_at, m) for m in page.items]
    since = page.items[-1].sent_at if page.next_cursor and page.items else None
    items += [
        ThreadItem("note", n.created_at, n)
        for n in await notes_of(db, conversation.id)
        if since is None or n.created_at >= since
    ]
    for entry in await activity_of(db, conversation.id):
        if entry.verb in _SHOWN_ELSEWHERE or entry.verb not in labels.ACTIVITY:
            continue
        if since is not None and entry.created_at < since:
            continue
        items.append(ThreadItem("activity", entry.created_at, entry))
    items.sort(key=lambda i: i.at)
    return items


def _names(teammates: list[lookups.Teammate]) -> dict[int, str]:
    return {t.id: t.name for t in teammates}


async def pane_context(
    db: AsyncSession,
    actor: Actor,
    conversation_id: int,
    conversation: ConversationDetail | None = None,
    *,
    with_thread: bool = True,
) -> dict[str, Any]:
    conversation = conversation or await conversation_detail(db, actor, conversation_id)
    teammates = await lookups.teammates(db, actor)
    names = _names(teammates)
    teams = await lookups.teams(db, actor)
    return {
        "conversation": conversation,
        "thread": await thread_items(db, conversation, names) if with_thread else [],
        "names": names,
        "teammates": teammates,
        "assignable": [t for t in teammates if t.sees(conversation.channel.id)],
        "teams": teams,
        "team_names": {t.id: t.name for t in teams},
        "all_tags": await lookups.tags(db, actor),
    }


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def open_conversation(
    conversation_id: PathId, request: Request, db: Db, actor: UiActor
) -> Response:
    """Open a conversation (and mark it read for me): the pane for htmx, else the whole page."""
    stream_from = None if is_htmx(request) else await events_cursor(request, actor)
    conversation = await conversation_detail(db, actor, conversation_id)
    if conversation.unread:
        # Only when there is something to mark: a conversation opened again costs no write.
        await actions.mark_read(db, actor, conversation_id, checked=True)
        await db.commit()
        conversation = conversation.model_copy(update={"unread": False})
    context = await pane_context(db, actor, conversation_id, conversation)
    if is_htmx(request):
        return render(request, "inbox/pane.html", opened=True, **context)
    known = {
        "teammates": context["teammates"],
        "channels": await lookups.channel_accounts(db, actor),
        "tags": context["all_tags"],
    }
    page = await page_context(db, actor, request.query_params, **known)
    return render(request, "inbox/page.html", events_cursor=stream_from, **{**page, **context})


@router.get("/thread", response_class=HTMLResponse, include_in_schema=False)
async def thread(conversation_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    conversation = await conversation_detail(db, actor, conversation_id)
    names = _names(await lookups.teammates(db, actor))
    return render(
        request,
        "inbox/thread.html",
        conversation=conversation,
        thread=await thread_items(db, conversation, names),
        names=names,
        team_names={t.id: t.name for t in await lookups.teams(db, actor)},
    )


@router.get("/head", response_class=HTMLResponse, include_in_schema=False)
async def head(conversation_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    """The pane's head alone: ``live.js`` reloads it when a teammate (or a rule, or a follow-up
    coming due) changes the open conversation."""
    context = await pane_context(db, actor, conversation_id, with_thread=False)
    return render(request, "inbox/pane_head.html", **context)


async def _changed(
    request: Request, db: AsyncSession, actor: Actor, conversation_id: int
) -> Response:
    """After an action: commit, then the pane's head, its thread and the list's row."""
    await db.commit()
    context = await pane_context(db, actor, conversation_id)
    body = render_string(request, "inbox/pane_head.html", **context)
    body += render_string(request, "inbox/thread.html", oob=True, **context)
    body += render_string(request, "inbox/row.html", c=context["conversation"], oob=True)
    return HTMLResponse(body)


def _id(value: str, what: str) -> int | None:
    if value in ("", "none"):
        return None
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise InvalidInput(f"{what} must be an id or none")


@router.post("/assign", include_in_schema=False)
async def assign(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    assignee: Annotated[str | None, Form(max_length=20)] = None,
    team: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    """``assignee``: "me", a user id or "none"; ``team``: a team id or "none"."""
    if assignee is None and team is None:
        raise InvalidInput("choose a teammate or a team")
    if assignee is not None:
        user_id = actor.user_id if assignee == "me" else _id(assignee, "assignee")
        await actions.assign(db, actor, conversation_id, user_id)
    if team is not None:
        await actions.set_team(db, actor, conversation_id, _id(team, "team"))
    return await _changed(request, db, actor, conversation_id)


@router.post("/tags", include_in_schema=False)
async def tags(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    add: Annotated[list[str] | None, Form(max_length=50)] = None,
    remove: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    to_add = [i for i in (_id(v, "tag") for v in add or () if v) if i is not None]
    to_remove = [i for i in (_id(v, "tag") for v in remove or () if v) if i is not None]
    if not to_add and not to_remove:
        raise InvalidInput("choose a tag")
    await actions.change_tags(db, actor, conversation_id, add=to_add, remove=to_remove)
    return await _changed(request, db, actor, conversation_id)


def follow_up_time(
    preset: str | None, until: str | None, tz: ZoneInfo, now: datetime | None = None
) -> datetime:
    """When a follow-up ends: a preset in the agent's own time zone, or the picker's time."""
    now = (now or utcnow()).astimezone(tz)

    def nine_on(day: datetime) -> datetime:
        # Built from the wall-clock date, so that 9:00 stays 9:00 across a DST change.
        return datetime(day.year, day.month, day.day, 9, tzinfo=tz)

    if preset == "1h":
        return now + timedelta(hours=1)
    if preset == "tomorrow":
        return nine_on(now + timedelta(days=1))
    if preset == "monday":
        return nine_on(now + timedelta(days=7 - now.weekday()))
    if preset:
        raise InvalidInput("unknown follow-up preset")
    if not until:
        raise InvalidInput("choose when to follow up")
    try:
        picked = datetime.fromisoformat(until)
    except ValueError:
        raise InvalidInput("the follow-up time is not a date and time") from None
    return picked if picked.tzinfo else picked.replace(tzinfo=tz)


@router.post("/status", include_in_schema=False)
async def status(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    action: Annotated[Literal["complete", "reopen", "follow_up"], Form()],
    preset: Annotated[str | None, Form(max_length=20)] = None,
    until: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    if action == "complete":
        await actions.complete(db, actor, conversation_id)
    elif action == "reopen":
        await actions.reopen(db, actor, conversation_id)
    else:
        when = follow_up_time(preset, until, request.state.tz)
        await actions.follow_up(db, actor, conversation_id, when)
    return await _changed(request, db, actor, conversation_id)


@router.post("/priority", include_in_schema=False)
async def priority(
    conversation_id: PathId,
    request: Request,
    db: Db,
    actor: UiActor,
    priority: Annotated[Literal["none", "low", "medium", "high", "urgent"], Form()],
) -> Response:
    await actions.set_priority(db, actor, conversation_id, priority)
    return await _changed(request, db, actor, conversation_id)


@router.post("/read", include_in_schema=False)
async def read(conversation_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    await actions.mark_read(db, actor, conversation_id)
    return await _changed(request, db, actor, conversation_id)


@router.post("/unread", include_in_schema=False)
async def unread(conversation_id: PathId, request: Request, db: Db, actor: UiActor) -> Response:
    await actions.mark_unread(db, actor, conversation_id)
    return await _changed(request, db, actor, conversation_id)


@router.post("/messages/{message_id}/retry", include_in_schema=False)
async def retry(
    conversation_id: PathId, message_id: PathId, request: Request, db: Db, actor: UiActor
) -> Response:
    """Send a failed reply again; the thread shows it queued."""
    message = await retry_send(db, actor, message_id)
    if message.conversation_id != conversation_id:
        raise InvalidInput("that message belongs to another conversation")
    await db.commit()
    workers = getattr(request.app.state, "workers", None)
    if workers is not None:
        workers.sender.wake.set()
    return await thread(conversation_id, request, db, actor)
