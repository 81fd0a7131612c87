from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.types import Text


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    shared: bool = False
    position: int = Field(0, ge=-1_000_000, le=1_000_000)
    filters: ConversationFilter = Field(default_factory=ConversationFilter)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name cannot be blank")
        return value


class ViewOut(BaseModel):
    id: int | str = Field(description="A number for saved views, a name for built-in ones.")
    name: str
    builtin: bool
    shared: bool
    owner_id: int | None
    position: int
    filters: ConversationFilter
    count: int | None = None
