"""LinkedIn URNs as the Community Management API writes them.

- organization: ``urn:li:organization:2414183`` (a channel account's ``external_id`` may be the
  bare number or the whole URN);
- post: ``urn:li:share:…``, ``urn:li:ugcPost:…`` or its feed activity ``urn:li:activity:…``;
- comment: ``urn:li:comment:(urn:li:activity:<post activity id>,<comment id>)``; some payloads
  abbreviate the inner URN as ``activity:<id>``, which is normalised here so that the same
  comment always has the same external id.
"""

from __future__ import annotations

import re
from urllib.parse import quote

ORGANIZATION = "urn:li:organization:"
_COMMENT = re.compile(r"^urn:li:comment:\((?:urn:li:)?([A-Za-z]+):([^,()]+),(\d+)\)$")


def organization(external_id: str) -> str:
    value = external_id.strip()
    return value if value.startswith(ORGANIZATION) else f"{ORGANIZATION}{value}"


def comment_parts(urn: str | None) -> tuple[str, str] | None:
    """``(object URN, comment id)`` of a comment URN, or None when it is not one."""
    match = _COMMENT.match(urn.strip()) if isinstance(urn, str) else None
    if match is None:
        return None
    kind, ident, comment_id = match.groups()
    return f"urn:li:{kind}:{ident}", comment_id


def comment(urn: str | None) -> str | None:
    """The canonical form of a comment URN (None when ``urn`` is not a comment URN)."""
    parts = comment_parts(urn)
    return f"urn:li:comment:({parts[0]},{parts[1]})" if parts else None


def make_comment(object_urn: str, comment_id: str | int) -> str:
    return f"urn:li:comment:({object_urn},{comment_id})"


def is_post(urn: object) -> bool:
    return isinstance(urn, str) and urn.startswith(
        ("urn:li:share:", "urn:li:ugcPost:", "urn:li:activity:")
    )


def post_url(urn: str | None) -> str | None:
    """The post's page, for the conversation header."""
    return f"https://www.linkedin.com/feed/update/{urn}/" if urn else None


def path(urn: str) -> str:
    """A URN as one path segment (Rest.li 2.0 wants ``:``, ``(``, ``)`` and ``,`` encoded)."""
    return quote(urn, safe="")
