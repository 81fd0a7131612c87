"""Typed path and query parameters shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from bandeja.core.types import MAX_ID

# Larger numbers cannot name a row: refused with a 422 like any other bad input.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
