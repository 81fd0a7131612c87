from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    direction: Direction
    author_type: AuthorType
    author_user_id: int | None
    author_contact_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    external_id: str | None
    reply_to_external_id: str | None
    sent_at: datetime
    status: DeliveryStatus
    error_code: str | None
    error_message: str | None
    is_private_reply: bool
    edited_at: datetime | None
    deleted_at: datetime | None
    reactions: dict[str, Any]
    extra: dict[str, Any]
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None
