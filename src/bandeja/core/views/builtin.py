"""The views every workspace has. Their filters use the same language as saved views."""

from __future__ import annotations

from bandeja.core.conversations.filters import ConversationFilter
from bandeja.core.conversations.models import Kind, Status

BUILTIN_VIEWS: dict[str, tuple[str, ConversationFilter]] = {
    "mine": ("Mine", ConversationFilter(status=[Status.open], assignee="me")),
    "unassigned": ("Unassigned", ConversationFilter(status=[Status.open], assignee="unassigned")),
    "open": ("All open", ConversationFilter(status=[Status.open])),
    "follow_up": ("Follow-up", ConversationFilter(status=[Status.follow_up])),
    "complete": ("Complete", ConversationFilter(status=[Status.complete])),
    "mentions": ("Mentions", ConversationFilter(status=[Status.open], kinds=[Kind.mention])),
}
