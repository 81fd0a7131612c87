"""Which connector serves which platform."""

from __future__ import annotations

import importlib
import logging

from bandeja.channels.base import Connector
from bandeja.core.channels.models import Platform
from bandeja.core.errors import InvalidInput
from bandeja.core.outbox.types import ReplyContext, RuleViolation

log = logging.getLogger(__name__)

_CONNECTORS: dict[Platform, Connector] = {}
_loaded = False


def register(connector: Connector) -> Connector:
    _CONNECTORS[connector.platform] = connector
    return connector


def _load() -> None:
    """Import every platform package once; each registers its connector. One broken package
    must not hide the others, so each is imported on its own."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for platform in Platform:
        try:
            importlib.import_module(f"bandeja.channels.{platform.value}")
        except ImportError:
            log.exception("the %s connector cannot be loaded", platform.value)


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
