from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bandeja.core.channels.models import Platform
from bandeja.core.conversations.schemas import ConversationSummary
from bandeja.core.types import DbId, Text


class IdentityOut(BaseModel):
    id: int
    channel_account_id: int
    platform: Platform
    external_id: str
    handle: str | None
    display_name: str | None
    avatar_url: str | None
    language: str | None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    avatar_url: str | None
    language: str | None
    created_at: datetime


class ContactDetail(ContactOut):
    identities: list[IdentityOut]
    conversations: list[ConversationSummary]


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, min_length=1, max_length=300)
    language: Text | None = Field(None, max_length=8)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: DbId = Field(description="The contact merged into this one, then deleted.")
