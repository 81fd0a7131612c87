"""The inbox list's URL: which view, which filters, and the ``ConversationFilter`` they make.

``/inbox?view=<built-in key or saved view id>&status=…&assignee=…`` — the view's filter is the
starting point and each parameter given replaces the view's value for its field (as in the JSON
API). When the filter form itself is submitted (``f=1``), its fields replace the view's even when
left empty ("any"), so that a view can be widened as well as narrowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from bandeja.core.access import Actor
from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.errors import InvalidInput
from bandeja.core.types import MAX_ID
from bandeja.core.views.actions import get_view, may_edit
from bandeja.core.views.builtin import BUILTIN_VIEWS

DEFAULT_VIEW = "open"
# URL parameter -> filter field; the list ones may repeat.
_LISTS = {
    "status": "status",
    "platform": "platforms",
    "channel": "channel_account_ids",
    "kind": "kinds",
    "tag": "tag_ids",
    "priority": "priorities",
}
_SINGLE = {"assignee": "assignee", "q": "q"}
FORM_PARAMS = (*_LISTS, *_SINGLE)


@dataclass
class Listing:
    view: str
    spec: ConversationFilter
    # The filter parameters of the URL (without the view and the cursor), for links that keep them.
    params: list[tuple[str, str]] = field(default_factory=list)
    saved_view_name: str | None = None
    # The agent may delete this saved view (theirs, or a shared one and they are an admin).
    saved_view_editable: bool = False

    def query(self, **extra: str) -> str:
        pairs = [("view", self.view), *self.params, *extra.items()]
        return urlencode(pairs)

    def first(self, name: str) -> str:
        """The filter's current value of a form field (its first one for lists)."""
        value: Any = getattr(self.spec, _LISTS.get(name) or _SINGLE[name])
        if isinstance(value, list):
            value = value[0] if value else ""
        return "" if value is None else str(getattr(value, "value", value))


def _assignee(value: str) -> str | int:
    if value in ("me", "unassigned", "anyone"):
        return value
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise InvalidInput('assignee must be "me", "unassigned", "anyone" or a user id')


async def listing(session: AsyncSession, actor: Actor, query: QueryParams) -> Listing:
    view = query.get("view") or DEFAULT_VIEW
    saved_name, editable = None, False
    if view in BUILTIN_VIEWS:
        base: dict[str, Any] = BUILTIN_VIEWS[view][1].model_dump(exclude_defaults=True)
    elif view.isdigit() and 1 <= int(view) <= MAX_ID:
        saved = await get_view(session, actor, int(view))
        base, saved_name, editable = dict(saved.filters), saved.name, may_edit(actor, saved)
    else:
        raise InvalidInput(f"unknown view {view!r}")
    from_form = query.get("f") == "1"
    params: list[tuple[str, str]] = [("f", "1")] if from_form else []
    for name, target in _LISTS.items():
        values = [v.strip() for v in query.getlist(name) if v.strip()][:50]
        if values or from_form:
            base[target] = values
            params.extend((name, v) for v in values)
    for name, target in _SINGLE.items():
        value = (query.get(name) or "").strip()
        if value or from_form:
            base[target] = (_assignee(value) if name == "assignee" else value) if value else None
            if value:
                params.append((name, value))
    try:
        spec = ConversationFilter.model_validate(base)
    except ValidationError as exc:
        raise InvalidInput("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    return Listing(
        view=view,
        spec=spec,
        params=params,
        saved_view_name=saved_name,
        saved_view_editable=editable,
    )
