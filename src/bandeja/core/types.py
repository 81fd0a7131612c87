"""Input types shared by the core's schemas: what an id and a piece of text may be."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# Ids are 64-bit in the database; a larger number can only be a mistake (and would make the
# database driver fail), so it is refused at the edge like any other bad input.
MAX_ID = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


# Text typed by people: PostgreSQL cannot store NUL characters, so they are refused here.
Text = Annotated[str, AfterValidator(_no_nul)]
