"""What travels on the event stream, beside the core's domain events (``core/events.py``).

Every event on the stream is a JSON object with a ``type``; its SSE ``id`` orders it within the
workspace. Presence is not a database change, so its events are made here rather than in the core.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from bandeja.core.events import BaseEvent, Event

PresenceState = Literal["viewing", "typing_reply", "typing_note"]


class PresenceChanged(BaseEvent):
    """Someone started or stopped viewing or typing in a conversation; ``state`` None: gone."""

    type: Literal["presence.changed"] = "presence.changed"
    conversation_id: int
    user_id: int
    name: str
    state: PresenceState | None


class Reset(BaseModel):
    """The stream cannot say what this client missed: reload everything, then keep listening."""

    type: Literal["reset"] = "reset"
    reason: Literal["expired", "lagging"]


StreamEvent = Annotated[Event | PresenceChanged | Reset, Field(discriminator="type")]
stream_event_adapter: TypeAdapter[Any] = TypeAdapter(StreamEvent)


def payload_of(event: BaseEvent) -> dict[str, Any]:
    """The JSON object a browser receives for ``event``."""
    return event.model_dump(mode="json")
