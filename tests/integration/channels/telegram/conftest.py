"""A Telegram bot channel account, updates delivered with its secret token, the in-process
sandbox playing the Bot API, and reads of the inbox through the core's queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.telegram  # noqa: F401
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.channels.telegram.fake import FAKE
from bandeja.core.channels.models import Platform
from tests.support.harness import ChannelHarness
from tests.support.harness import now as now  # re-exported for the tests

BOT_ID = "7012345678"  # the fixtures' bot (@CafeAuroraBot)
BOT_NAME = "@CafeAuroraBot"
SECRET_TOKEN = "bdj-tg-Wq81_zP0xVb3"
BOT_TOKEN = "7012345678:AAHf3kQe9Xw2bS7pLm4TnR8vYc1DzJ0uKoE"
GROUP_ID = "-1001876543210"  # the fixtures' supergroup
# The fixtures' people (their Telegram user ids are their private chat ids).
LUCIA = SimPerson(id="5219876543", name="Lucía Fernández", handle="lucia_fdez", language="es")
MARCO = SimPerson(id="6123456789", name="Marco Rossi", handle="marcorossi", language="it")
EMMA = SimPerson(id="4876543210", name="Emma Clarke", handle="", language="en")


class Telegram(ChannelHarness):
    platform = Platform.telegram
    fake = FAKE
    secrets = {"signing_secret": SECRET_TOKEN, "access_token": BOT_TOKEN}

    def signed(self, body: bytes) -> dict[str, str]:
        return {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}


@pytest.fixture
async def tg(db, factory, client, sessions) -> Telegram:
    """A Telegram bot channel account (the fixtures' bot) and an owner's view of it."""
    return await Telegram.create(
        db,
        factory,
        client,
        sessions,
        external_id=BOT_ID,
        name=BOT_NAME,
        credentials={"signing_secret": SECRET_TOKEN, "access_token": BOT_TOKEN},
    )


@pytest.fixture
async def api(tg: Telegram) -> Telegram:
    """``tg`` with an owner's API token, for the JSON API."""
    return await tg.with_owner()


@pytest.fixture
def sandbox(tg: Telegram, workers):
    """The in-process sandbox of ``workers``, playing the Bot API for ``tg``'s bot; the
    fixtures' people have pressed Start (written to the bot)."""
    state = workers.sandbox
    state.add_channel(tg.sandbox_channel())
    for person in (LUCIA, MARCO, EMMA):
        state.add_person(Platform.telegram, person)
        state.wrote(tg.sandbox_channel(), person.id, datetime(2025, 12, 7, 10, tzinfo=UTC))
    return state
