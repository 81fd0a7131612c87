"""Which connector serves which platform."""

from __future__ import annotations

from bandeja.channels.base import Connector
from bandeja.core.channels.models import Platform
from bandeja.core.errors import InvalidInput
from bandeja.core.outbox.types import ReplyContext, RuleViolation

_CONNECTORS: dict[Platform, Connector] = {}


def register(connector: Connector) -> Connector:
    _CONNECTORS[connector.platform] = connector
    return connector


def connector_for(platform: Platform | str) -> Connector:
    _load()
    try:
        return _CONNECTORS[Platform(platform)]
    except (KeyError, ValueError):
        raise InvalidInput(f"no connector for platform {platform!r}") from None


def platforms() -> list[Platform]:
    _load()
    return sorted(_CONNECTORS, key=lambda p: p.value)


class Rules:
    """The platform rules of every connector, as the core's ``ReplyRules`` protocol."""

    def check_reply(self, context: ReplyContext) -> list[RuleViolation]:
        return connector_for(context.platform).check_reply(context)


def _load() -> None:
    if _CONNECTORS:
        return
    # Imported here so that each connector registers itself once, on first use.
    from bandeja.channels import instagram, linkedin, messenger, telegram, whatsapp, x  # noqa: F401
