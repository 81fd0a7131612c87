"""An X channel account (the fixtures' account, @cafeaurora), deliveries signed as X signs them,
and reads of the inbox through the core's queries."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.x  # noqa: F401
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.channels.x.fake import FAKE
from bandeja.core.channels.models import Platform
from tests.support.harness import ChannelHarness
from tests.support.harness import now as now  # re-exported for the tests

ME = "1587346721094627328"  # @cafeaurora, the account of every fixture (for_user_id)
CONSUMER_SECRET = "kQ7vXc2Lr9TzW4mYp1Hs8Nd3Bf6Gj0Ue5Aa2Ss9Dd4Ff7Gg"
ACCESS_TOKEN = "bWpUX3Rva2VuLWNhZmVhdXJvcmEtb2F1dGgyLXVzZXItY29udGV4dA"
# The fixtures' people.
LUCIA = SimPerson(
    id="1298455672871034881", name="Lucía Fernández", handle="luciafdz", language="es"
)
GIULIA = SimPerson(
    id="1423987120054566913",
    name="Giulia Bianchi",
    handle="giulia_bianchi",
    language="it",
    accepts_dms=False,
)
TOM = SimPerson(id="884213377", name="Tom Harris", handle="tomharris_uk", language="en")
MARCO = SimPerson(id="1544879011234451457", name="Marco Rossi", handle="marcorossi", language="it")


def signature(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    """Written out here rather than imported, so that the connector is checked against X's rule."""
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )


class X(ChannelHarness):
    platform = Platform.x
    fake = FAKE
    secrets = {"signing_secret": CONSUMER_SECRET, "access_token": ACCESS_TOKEN}
    default_kind = None  # thread keys do not repeat across kinds

    def signed(self, body: bytes) -> dict[str, str]:
        return {"x-twitter-webhooks-signature": signature(body)}


@pytest.fixture
async def x(db, factory, client, sessions) -> X:
    """The X channel account of the fixtures and an owner (with an API token) of its workspace."""
    harness = await X.create(
        db,
        factory,
        client,
        sessions,
        external_id=ME,
        name="Cafeaurora Madrid",
        credentials=dict(X.secrets),
    )
    return await harness.with_owner()


@pytest.fixture
def sandbox(x: X, workers):
    """The in-process sandbox of ``workers``, playing X for ``x``'s channel."""
    state = workers.sandbox
    state.add_channel(x.sandbox_channel())
    for person in (LUCIA, GIULIA, TOM, MARCO):
        state.add_person(Platform.x, person)
    return state
