from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    author_id: int | None
    text: str
    mentioned_user_ids: list[int]
    created_at: datetime
