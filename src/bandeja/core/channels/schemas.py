from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bandeja.core.channels.models import Platform
from bandeja.core.types import DbId, Text


class ChannelAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    external_id: Text = Field(min_length=1, max_length=200)
    name: Text = Field(min_length=1, max_length=200)
    credentials: dict[Text, Text] = Field(
        default_factory=dict,
        description="Secrets (signing_secret, access_token, verify_token...); stored encrypted.",
    )
    settings: dict[str, Any] = Field(default_factory=dict)
    member_ids: list[DbId] = Field(default_factory=list)


class ChannelAccountOut(BaseModel):
    id: int
    platform: Platform
    external_id: str
    name: str
    settings: dict[str, Any]
    member_ids: list[int]
    last_event_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    webhook_url: str | None = None
