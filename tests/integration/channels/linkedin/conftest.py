"""A LinkedIn Page channel account, notifications signed as LinkedIn signs them, the in-process
sandbox playing the Community Management API (whose comments the tests seed), and reads of the
inbox through the core's queries."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

# Registers the connector (the registry imports every platform on first use; this keeps these
# tests independent of the other platforms' packages).
import bandeja.channels.linkedin  # noqa: F401
from bandeja.channels.linkedin.fake import FAKE, Comment, Post
from bandeja.channels.sandbox.contract import SimPerson
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from tests.support.harness import ChannelHarness
from tests.support.harness import now as now  # re-exported for the tests

ORG_ID = "90412345"  # the fixtures' organizationalEntity
ORG = f"urn:li:organization:{ORG_ID}"
CLIENT_SECRET = "WPL_AP1.q8Zt3xKv0LmN5bRd.Yw2FhQ=="
ACCESS_TOKEN = "AQXdSP_LinkedInCommunityTestToken"
SHARE = "urn:li:share:7270123456789012480"  # the fixtures' post, and its feed activity
ACTIVITY = "urn:li:activity:7270123456789012481"
MENTION_SHARE = "urn:li:share:7270999888777666555"
MENTION_UGC = "urn:li:ugcPost:7270999888777666556"
SOFIA = SimPerson(id="urn:li:person:aB3dE5fG7h", name="Sofía Martín", handle="", language="es")
JAMES = SimPerson(id="urn:li:person:Xy9Zw8Vu7t", name="James Whitfield", handle="", language="en")
GIULIA = SimPerson(id="urn:li:person:Qr5St6Uv7w", name="Giulia Conti", handle="", language="it")
T_MS = 1765101600000  # the fixtures' first lastModifiedAt
T = datetime(2025, 12, 7, 10, 0, tzinfo=UTC)


def comment(comment_id: int) -> str:
    return f"urn:li:comment:({ACTIVITY},{comment_id})"


TOP = comment(7270234567890123456)  # Sofía's comment (comment__ids_only)
DECORATED = comment(7270234567890123457)  # James's comment (comment__decorated)
NESTED = comment(7270234567890123458)  # Giulia's answer to Sofía (comment__reply_nested)
SHORT = comment(7270234567890123459)  # comment__short_urn, written "(activity:…,…)"
BATCHED = comment(7270234567890123460)  # comment__batch
PAGE_REPLY = comment(7270234567890123470)  # the Page's answer to Sofía (admin_comment__reply)


def signature(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()


def seed_api() -> None:
    """What the Comments and Posts APIs answer for the fixtures' comments and posts."""
    FAKE.remember(
        Comment(
            TOP,
            SOFIA.id,
            "¿Hacéis envíos a Canarias? Me encantaría regalar una caja de café.",
            T_MS - 30_000,
            T_MS - 30_000,
            None,
            SOFIA.name,
        )
    )
    FAKE.remember(
        Comment(
            DECORATED,
            JAMES.id,
            "Congratulations! Will the Brera shop keep its weekend brunch?",
            T_MS + 55_000,
            T_MS + 55_000,
            None,
            JAMES.name,
        )
    )
    FAKE.remember(
        Comment(
            NESTED,
            GIULIA.id,
            "Anche io vorrei saperlo, per Palermo!",
            T_MS + 115_000,
            T_MS + 115_000,
            TOP,
            GIULIA.name,
        )
    )
    FAKE.remember(
        Comment(
            SHORT,
            JAMES.id,
            "Loved the oat flat white in Madrid.",
            T_MS + 175_000,
            T_MS + 175_000,
            None,
            JAMES.name,
        )
    )
    FAKE.remember(
        Comment(
            BATCHED,
            GIULIA.id,
            "Quando aprite a Torino?",
            T_MS + 205_000,
            T_MS + 205_000,
            None,
            GIULIA.name,
        )
    )
    FAKE.remember(
        Comment(
            PAGE_REPLY,
            ORG,
            "¡Hola Sofía! Sí, enviamos a Canarias en 72 h.",
            T_MS + 295_000,
            T_MS + 295_000,
            TOP,
            "Café Aurora Group",
        )
    )
    FAKE.remember(
        Post(
            MENTION_SHARE,
            GIULIA.id,
            "Colazione perfetta da @Café Aurora Group a Milano ☕🥐",
            T_MS + 595_000,
            GIULIA.name,
        )
    )


@pytest.fixture(autouse=True)
def api_memory() -> Iterator[None]:
    """The fake's comments and posts are the module's; each test starts from what it had."""
    comments, posts = FAKE.comments.copy(), FAKE.posts.copy()
    yield
    FAKE.comments.clear()
    FAKE.comments.update(comments)
    FAKE.posts.clear()
    FAKE.posts.update(posts)


class LinkedIn(ChannelHarness):
    platform = Platform.linkedin
    fake = FAKE
    secrets = {"signing_secret": CLIENT_SECRET, "access_token": ACCESS_TOKEN}
    default_kind = Kind.comment

    def signed(self, body: bytes) -> dict[str, str]:
        return {"X-LI-Signature": signature(body)}


async def make_linkedin(
    db, factory, client, sessions, external_id: str = ORG_ID, access_token: str = ACCESS_TOKEN
) -> LinkedIn:
    return await LinkedIn.create(
        db,
        factory,
        client,
        sessions,
        external_id=external_id,
        name="Café Aurora Group",
        credentials={"signing_secret": CLIENT_SECRET, "access_token": access_token},
    )


@pytest.fixture
async def li(db, factory, client, sessions) -> LinkedIn:
    """A LinkedIn Page channel account (the fixtures' organization) and an owner's view of it."""
    return await make_linkedin(db, factory, client, sessions)


@pytest.fixture
async def api(li: LinkedIn) -> LinkedIn:
    """``li`` with an owner's API token, for the JSON API."""
    return await li.with_owner()


@pytest.fixture
def sandbox(li: LinkedIn, workers):
    """The in-process sandbox of ``workers``, playing LinkedIn's API for ``li``'s Page."""
    state = workers.sandbox
    state.add_channel(li.sandbox_channel())
    return state
