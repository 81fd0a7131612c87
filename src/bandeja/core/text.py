"""Text helpers shared by search and display."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip accents, so that "Perché", "perche" and "PERCHÉ" match each other."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_text(text: str) -> str:
    """Text from outside made storable: NUL characters (refused by PostgreSQL) removed."""
    return text.replace("\x00", "") if "\x00" in text else text


def clean_json(value: Any) -> Any:
    """``clean_text`` through a JSON document (PostgreSQL's JSONB refuses NUL too)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    return value


def search_words(query: str, *, limit: int = 8) -> list[str]:
    """The folded words of a search query; at most ``limit`` of them are used."""
    return _WORD.findall(fold(query))[:limit]


def snippet(text: str, length: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
