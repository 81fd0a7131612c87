from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind, Status


class TagRef(BaseModel):
    id: int
    name: str
    color: str


class ChannelRef(BaseModel):
    id: int
    platform: Platform
    name: str


class ContactRef(BaseModel):
    id: int
    name: str
    avatar_url: str | None


class UserRef(BaseModel):
    id: int
    name: str


class ConversationSummary(BaseModel):
    """One row of the inbox list."""

    id: int
    kind: Kind
    status: Status
    follow_up_until: datetime | None
    priority: str
    channel: ChannelRef
    contact: ContactRef
    assignee: UserRef | None
    team_id: int | None
    tags: list[TagRef]
    snippet: str
    subject: str | None
    last_activity_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    message_count: int
    unread: bool
    created_at: datetime


class Counts(BaseModel):
    """Facet counts: per status (other filters applied) and per assignee (other filters applied).

    ``assignee`` keys are "unassigned", "me" and user ids as strings.
    """

    status: dict[str, int]
    assignee: dict[str, int]
    total: int


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    next_cursor: str | None
    counts: Counts | None = None


class ConversationDetail(ConversationSummary):
    completed_at: datetime | None
    post_url: str | None
