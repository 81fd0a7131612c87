from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from bandeja.core.types import DbId, Text
from bandeja.core.users.models import Role


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: Text = Field(min_length=1, max_length=200)
    password: Text = Field(min_length=8, max_length=1000)
    role: Role = Role.agent
    locale: str | None = Field(None, pattern="^(en|es|it)$")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    locale: str | None = Field(None, pattern="^(en|es|it)$")
    channel_account_ids: list[DbId] | None = Field(
        None, description="Channel accounts this member can see (replaces the current list)."
    )


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    locale: str | None
    avatar_url: str | None
    channel_account_ids: list[int]
    team_ids: list[int]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    member_ids: list[DbId] = Field(default_factory=list)


class TeamOut(BaseModel):
    id: int
    name: str
    member_ids: list[int]
