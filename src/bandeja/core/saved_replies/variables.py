"""Variables in saved replies: ``{{contact.first_name}}`` and friends.

User text is never given to a template engine: a reply body is plain text in which only the
names below are replaced, so a body cannot reach any other data, and a mistyped name is refused
when the reply is saved instead of silently rendering as nothing in front of a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bandeja.core.errors import InvalidInput

VARIABLES: dict[str, str] = {
    "contact.first_name": "the contact's first name",
    "contact.name": "the contact's full name",
    "agent.first_name": "your first name",
    "agent.name": "your full name",
    "workspace.name": "the workspace's name",
}

# Spaces inside the braces are forgiven (``{{ contact.name }}``); anything else is checked.
_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PUNCTUATION = ",.;:!?)"


def check_body(body: str) -> None:
    """Refuse unknown variables and unbalanced braces, saying which and where."""
    for match in _VARIABLE.finditer(body):
        name = match.group(1)
        if name not in VARIABLES:
            known = ", ".join("{{" + v + "}}" for v in VARIABLES)
            raise InvalidInput(
                f"unknown variable {match.group(0)!r}; the variables are {known}",
                code="unknown_variable",
            )
    rest = _VARIABLE.sub("", body)
    for token in ("{{", "}}"):
        at = rest.find(token)
        if at >= 0:
            raise InvalidInput(
                f"unbalanced {token!r} in the text: write variables as {{{{contact.first_name}}}}",
                code="unbalanced_braces",
            )


def first_name(name: str | None) -> str:
    """The first word of a display name; handles (``@maria_r``) and blanks have none."""
    words = (name or "").split()
    if not words or words[0].startswith("@"):
        return ""
    return words[0]


def render(body: str, values: Mapping[str, str]) -> str:
    """Replace each variable with its value. A missing value leaves no stray space behind:
    "Hi {{contact.first_name}}, thanks" becomes "Hi, thanks" rather than "Hi , thanks"."""
    out: list[str] = []
    pos = 0
    for match in _VARIABLE.finditer(body):
        out.append(body[pos : match.start()])
        value = values.get(match.group(1), "")
        pos = match.end()
        if value:
            out.append(value)
            continue
        following = body[pos : pos + 1]
        text = "".join(out)
        if text.endswith((" ", "\t")) and (not following or following in " \t\n" + _PUNCTUATION):
            text = text.rstrip(" \t")
        elif (not text or text.endswith("\n")) and following in (" ", "\t"):
            # At the start of a line: drop the space the value would have been followed by.
            while pos < len(body) and body[pos] in " \t":
                pos += 1
        out = [text]
    out.append(body[pos:])
    return "".join(out)
