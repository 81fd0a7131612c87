from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bandeja.core.tags.models import TagGroup
from bandeja.core.types import Text

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100)
    group: TagGroup = TagGroup.other
    color: str = "#6b7280"

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name cannot be blank")
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not _COLOR.match(value):
            raise ValueError("color must look like #1a2b3c")
        return value.lower()


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    group: TagGroup
    color: str
