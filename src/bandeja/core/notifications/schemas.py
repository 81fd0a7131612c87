from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bandeja.core.notifications.models import NotificationKind


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    conversation_id: int
    note_id: int | None
    actor_user_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    unread: int
    next_before: int | None
