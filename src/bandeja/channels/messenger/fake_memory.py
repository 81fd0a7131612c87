"""What the sandbox's Messenger remembers between events: the comments it delivered or the Page
posted (their post, their top-level comment, their author), how often each DM was edited, and
which comments already got their one private reply. Facebook knows all of this; the fake needs
it so that later events about a comment carry the same post and thread, and so that its Graph
API refuses a second private reply."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from bandeja.channels.sandbox.contract import SimPerson

REMEMBERED = 20_000  # per kind of memory; the oldest entries are forgotten first


@dataclass(frozen=True, slots=True)
class Comment:
    post_id: str
    top_level_id: str | None  # None: this is a top-level comment
    author: SimPerson | None  # None: the Page
    at: datetime


@dataclass
class Memory:
    comments: OrderedDict[str, Comment] = field(default_factory=OrderedDict)
    edits: OrderedDict[str, int] = field(default_factory=OrderedDict)
    private_replied: set[str] = field(default_factory=set)

    def remember(self, comment_id: str, comment: Comment) -> None:
        self.comments[comment_id] = comment
        self.comments.move_to_end(comment_id)
        while len(self.comments) > REMEMBERED:
            self.comments.popitem(last=False)

    def edited(self, message_id: str) -> int:
        """Count one more edit of ``message_id``; returns how many it has had."""
        self.edits[message_id] = self.edits.get(message_id, 0) + 1
        while len(self.edits) > REMEMBERED:
            self.edits.popitem(last=False)
        return self.edits[message_id]

    def replied_privately(self, comment_id: str) -> None:
        if len(self.private_replied) >= REMEMBERED:
            self.private_replied.clear()
        self.private_replied.add(comment_id)

    def clear(self) -> None:
        self.comments.clear()
        self.edits.clear()
        self.private_replied.clear()
