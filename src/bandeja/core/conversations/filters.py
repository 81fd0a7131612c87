"""The conversation filter language, shared by the list API and saved views.

A filter only ever narrows what the actor may see (see ``access.py``). Every field is optional;
an empty list means "any". Stored in saved views as JSON, so fields are only ever added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind, Priority, Status
from bandeja.core.types import DbId, Text

PriorityName = Literal["none", "low", "medium", "high", "urgent"]
AssigneeFilter = Literal["me", "unassigned", "anyone"] | DbId


class ConversationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(default_factory=list, description="Any of these statuses.")
    assignee: AssigneeFilter | None = Field(
        None,
        description='"me", "unassigned", "anyone" (assigned to somebody) or a user id.',
    )
    team_id: DbId | None = None
    platforms: list[Platform] = Field(default_factory=list)
    channel_account_ids: list[DbId] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list)
    tag_ids: list[DbId] = Field(default_factory=list)
    tag_match: Literal["any", "all"] = "any"
    priorities: list[PriorityName] = Field(default_factory=list)
    q: Text | None = Field(None, max_length=200, description="Words in messages or contact name.")
    since: datetime | None = Field(None, description="Last activity at or after this time.")
    until: datetime | None = Field(None, description="Last activity before this time.")
    unread: bool | None = Field(None, description="Only unread (true) or read (false) for me.")
    contact_id: DbId | None = None
    sort: Literal["newest", "oldest"] = "newest"

    @model_validator(mode="after")
    def _check(self) -> ConversationFilter:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z")
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        if self.q is not None and not self.q.strip():
            self.q = None
        return self

    def priority_values(self) -> list[int]:
        return [int(Priority[name]) for name in self.priorities]

    def only_counter_fields(self) -> bool:
        """True when the live counters can answer this filter's counts (no scan needed)."""
        return not (
            self.team_id
            or self.tag_ids
            or self.priorities
            or self.q
            or self.since
            or self.until
            or self.unread is not None
            or self.contact_id
        )
