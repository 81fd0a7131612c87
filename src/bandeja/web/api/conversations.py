"""Conversation routes: the inbox list, one conversation, and the triage actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bandeja.core.access import Actor
from bandeja.core.activity.queries import ActivityOut, activity_of
from bandeja.core.channels.models import Platform
from bandeja.core.conversations import actions
from bandeja.core.conversations.filters import ConversationFilter, PriorityName
from bandeja.core.conversations.models import Kind, Status
from bandeja.core.conversations.queries import conversation_detail, list_conversations
from bandeja.core.conversations.schemas import ConversationDetail, ConversationPage
from bandeja.core.errors import InvalidInput
from bandeja.core.messages.queries import list_messages, messages_page
from bandeja.core.messages.schemas import MessagePage
from bandeja.core.notes.actions import add_note
from bandeja.core.notes.queries import notes_of
from bandeja.core.notes.schemas import NoteOut
from bandeja.core.types import MAX_ID, DbId, Text
from bandeja.core.views.actions import get_view
from bandeja.core.views.builtin import BUILTIN_VIEWS
from bandeja.web.deps import CurrentActor, Db
from bandeja.web.params import PathId

router = APIRouter(prefix="/conversations", tags=["conversations"])


def _assignee(value: str | None) -> str | int | None:
    if value is None or value in ("me", "unassigned", "anyone"):
        return value
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise InvalidInput('assignee must be "me", "unassigned", "anyone" or a user id')


async def list_filter(
    db: Db,
    actor: CurrentActor,
    view: Annotated[
        str | None,
        Query(
            description="A saved view id or a built-in view key "
            f"({', '.join(BUILTIN_VIEWS)}); a parameter replaces the view's value for its field."
        ),
    ] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    assignee: Annotated[
        str | None, Query(description='"me", "unassigned", "anyone" or a user id')
    ] = None,
    team: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    platform: Annotated[list[Platform] | None, Query()] = None,
    channel: Annotated[list[DbId] | None, Query(description="Channel account ids")] = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    tag: Annotated[list[DbId] | None, Query(description="Tag ids")] = None,
    tag_match: Literal["any", "all"] | None = None,
    priority: Annotated[list[PriorityName] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unread: bool | None = None,
    contact: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort: Literal["newest", "oldest"] | None = None,
) -> ConversationFilter:
    """Query parameters → a ``ConversationFilter``; a view's filter is the starting point."""
    base: dict[str, Any] = {}
    if view is not None:
        if view in BUILTIN_VIEWS:
            base = BUILTIN_VIEWS[view][1].model_dump(exclude_defaults=True)
        elif view.isdigit() and 1 <= int(view) <= MAX_ID:
            base = dict((await get_view(db, actor, int(view))).filters)
        else:
            raise InvalidInput(f"unknown view {view!r}")
    given = {
        "status": status,
        "assignee": _assignee(assignee),
        "team_id": team,
        "platforms": platform,
        "channel_account_ids": channel,
        "kinds": kind,
        "tag_ids": tag,
        "tag_match": tag_match,
        "priorities": priority,
        "q": q,
        "since": since,
        "until": until,
        "unread": unread,
        "contact_id": contact,
        "sort": sort,
    }
    base.update({k: v for k, v in given.items() if v is not None})
    try:
        return ConversationFilter.model_validate(base)
    except ValidationError as exc:
        raise InvalidInput("; ".join(e["msg"] for e in exc.errors())) from exc


Filter = Annotated[ConversationFilter, Depends(list_filter)]


@router.get("", summary="The inbox list, with facet counts")
async def get_conversations(
    db: Db,
    actor: CurrentActor,
    spec: Filter,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    counts: Annotated[bool, Query(description="Include counts per status and assignee")] = True,
) -> ConversationPage:
    return await list_conversations(db, actor, spec, cursor=cursor, limit=limit, with_counts=counts)


class OpenConversation(BaseModel):
    conversation: ConversationDetail
    messages: MessagePage
    notes: list[NoteOut]
    activity: list[ActivityOut]


@router.get("/{conversation_id}", summary="Open a conversation: messages, notes and activity")
async def get_conversation(
    conversation_id: PathId,
    db: Db,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200, description="Messages on the first page")] = 50,
) -> OpenConversation:
    detail = await conversation_detail(db, actor, conversation_id)
    return OpenConversation(
        conversation=detail,
        messages=await messages_page(db, conversation_id, before=None, limit=limit),
        notes=await notes_of(db, conversation_id),
        activity=await activity_of(db, conversation_id),
    )


@router.get("/{conversation_id}/messages", summary="Older messages, newest first")
async def get_messages(
    conversation_id: PathId,
    db: Db,
    actor: CurrentActor,
    before: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    return await list_messages(db, actor, conversation_id, before=before, limit=limit)


async def _detail(db: Db, actor: Actor, conversation_id: PathId) -> ConversationDetail:
    await db.commit()
    return await conversation_detail(db, actor, conversation_id)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: DbId | None = Field(description="A user id, or null to unassign")


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: DbId | None


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[DbId] = Field(default_factory=list)
    remove: list[DbId] = Field(default_factory=list)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: datetime = Field(description="When it returns to the open queue (with a time zone)")


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: PriorityName


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=10_000)


@router.post("/{conversation_id}/assign", summary="Assign to a teammate, or unassign")
async def post_assign(
    conversation_id: PathId, body: AssignIn, db: Db, actor: CurrentActor
) -> ConversationDetail:
    await actions.assign(db, actor, conversation_id, body.assignee_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/team", summary="Hand to a team, or clear the team")
async def post_team(
    conversation_id: PathId, body: TeamIn, db: Db, actor: CurrentActor
) -> ConversationDetail:
    await actions.set_team(db, actor, conversation_id, body.team_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/tags", summary="Add and remove tags")
async def post_tags(
    conversation_id: PathId, body: TagsIn, db: Db, actor: CurrentActor
) -> ConversationDetail:
    await actions.change_tags(db, actor, conversation_id, add=body.add, remove=body.remove)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/complete", summary="Mark complete")
async def post_complete(conversation_id: PathId, db: Db, actor: CurrentActor) -> ConversationDetail:
    await actions.complete(db, actor, conversation_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/reopen", summary="Reopen")
async def post_reopen(conversation_id: PathId, db: Db, actor: CurrentActor) -> ConversationDetail:
    await actions.reopen(db, actor, conversation_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/follow-up", summary="Set aside until a time")
async def post_follow_up(
    conversation_id: PathId, body: FollowUpIn, db: Db, actor: CurrentActor
) -> ConversationDetail:
    await actions.follow_up(db, actor, conversation_id, body.until)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/priority", summary="Set the priority")
async def post_priority(
    conversation_id: PathId, body: PriorityIn, db: Db, actor: CurrentActor
) -> ConversationDetail:
    await actions.set_priority(db, actor, conversation_id, body.priority)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/read", summary="Mark read for me")
async def post_read(conversation_id: PathId, db: Db, actor: CurrentActor) -> ConversationDetail:
    await actions.mark_read(db, actor, conversation_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/unread", summary="Mark unread for me")
async def post_unread(conversation_id: PathId, db: Db, actor: CurrentActor) -> ConversationDetail:
    await actions.mark_unread(db, actor, conversation_id)
    return await _detail(db, actor, conversation_id)


@router.post("/{conversation_id}/notes", status_code=201, summary="Add an internal note")
async def post_note(conversation_id: PathId, body: NoteIn, db: Db, actor: CurrentActor) -> NoteOut:
    note = await add_note(db, actor, conversation_id, body.text)
    await db.commit()
    return note
