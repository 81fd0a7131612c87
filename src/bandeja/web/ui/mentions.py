"""A note shows its mentions as names: ``@[Olivia Grant]`` (what the composer inserts, and what
``core.notes.actions`` resolves) reads "@Olivia Grant", marked so that the eye finds who was
called in. Only teammates' names are marked: any other bracketed name notified nobody, so it
stays as it was typed."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from bandeja.core.text import fold

# The bracketed form of core.notes.actions._MENTION (a bare @handle is left as it is).
_BRACKETED = re.compile(r"@\[([^\]]{1,200})\]")


def mentions_filter(text: str, teammates: Iterable[str]) -> Markup:
    """The note's text, escaped, with each ``@[Teammate Name]`` as a marked ``@Teammate Name``."""
    known = {fold(name) for name in teammates}
    parts: list[Markup] = []
    last = 0
    for match in _BRACKETED.finditer(text):
        if fold(match.group(1)) not in known:
            continue
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<span class="mention">@{}</span>').format(match.group(1).strip()))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
