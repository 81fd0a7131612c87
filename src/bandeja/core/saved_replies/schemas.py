from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bandeja.core.types import DbId, Text

LANGUAGE_PATTERN = r"^[a-z]{2}$"
SHORTCUT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
MAX_BODY = 5_000


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(pattern=LANGUAGE_PATTERN, description="ISO 639-1 code: en, es, it...")
    body: Text = Field(min_length=1, max_length=MAX_BODY)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("body cannot be blank")
        return value.strip()


class SavedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100)
    shortcut: str | None = Field(
        None,
        pattern=SHORTCUT_PATTERN,
        description="Typed after / in the composer: lower-case letters, digits, - and _.",
    )
    shared: bool = Field(False, description="Shared with the workspace (admins) or personal.")
    variants: list[VariantIn] = Field(
        min_length=1,
        max_length=10,
        description="The text per language; the first is used when no language matches.",
    )

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name cannot be blank")
        return value

    @field_validator("variants")
    @classmethod
    def _one_per_language(cls, value: list[VariantIn]) -> list[VariantIn]:
        languages = [v.language for v in value]
        if len(set(languages)) != len(languages):
            raise ValueError("each language may appear once")
        return value


class VariantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    language: str
    body: str


class SavedReplyOut(BaseModel):
    id: int
    name: str
    shortcut: str | None
    shared: bool
    owner_id: int | None
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: DbId


class RenderedOut(BaseModel):
    saved_reply_id: int
    language: str
    text: str
