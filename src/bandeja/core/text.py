"""Text helpers shared by search and display."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip accents, so that "Perché", "perche" and "PERCHÉ" match each other."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_words(query: str, *, limit: int = 8) -> list[str]:
    """The folded words of a search query; at most ``limit`` of them are used."""
    return _WORD.findall(fold(query))[:limit]


def snippet(text: str, length: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
