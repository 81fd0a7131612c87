"""LinkedIn's webhook authenticity: the ``challengeCode`` validation and ``X-LI-Signature``."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.support.webhooks import fixture

from .conftest import CLIENT_SECRET, signature

BODY = fixture("linkedin", "comment__ids_only")


async def test_challenge_is_answered_with_the_hmac_of_the_code(li):
    code = "f3b2c1d0-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
    response = await li.client.get(
        f"/webhooks/linkedin/{li.channel.id}", params={"challengeCode": code}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    expected = hmac.new(CLIENT_SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert response.json() == {"challengeCode": code, "challengeResponse": expected}


async def test_challenge_with_application_id_is_answered_too(li):
    response = await li.client.get(
        f"/webhooks/linkedin/{li.channel.id}",
        params={"challengeCode": "abc", "applicationId": "12345"},
    )
    assert response.json()["challengeCode"] == "abc"


async def test_get_without_challenge_is_refused(li):
    response = await li.client.get(f"/webhooks/linkedin/{li.channel.id}")
    assert response.status_code == 400


async def test_signed_notification_is_stored(li, workers):
    response = await li.deliver(BODY, {"X-LI-Signature": signature(BODY)})
    assert (response.status_code, response.text) == (200, "ok")
    assert len(await li.raw_events()) == 1


@pytest.mark.parametrize(
    "value",
    [
        signature(BODY).upper(),
        "hmacsha256=" + signature(BODY),
    ],
)
async def test_signature_spellings_linkedin_may_use_are_accepted(li, value):
    response = await li.deliver(BODY, {"X-LI-Signature": value})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (BODY, {}, 401, "rejected:missing X-LI-Signature"),
        (
            BODY.replace(b"COMMENT", b"COMMENT_DELETE"),
            {"X-LI-Signature": signature(BODY)},
            401,
            "rejected:bad signature",
        ),
        (
            BODY,
            {"X-LI-Signature": signature(BODY, "another-client-secret")},
            401,
            "rejected:bad signature",
        ),
        # The HMAC of the body alone (without the "hmacsha256=" prefix LinkedIn signs) is not it.
        (
            BODY,
            {"X-LI-Signature": hmac.new(CLIENT_SECRET.encode(), BODY, hashlib.sha256).hexdigest()},
            401,
            "rejected:bad signature",
        ),
        # A re-serialised body is not the body LinkedIn signed.
        (
            json.dumps(json.loads(BODY)).encode(),
            {"X-LI-Signature": signature(BODY)},
            401,
            "rejected:bad signature",
        ),
    ],
)
async def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    li, workers, body, headers, status, reason
):
    response = await li.deliver(body, headers)
    assert response.status_code == status
    await workers.drain()
    assert await li.raw_events() == []
    assert await li.messages() == []
    assert await li.ignored() == {reason: 1}


async def test_channel_without_client_secret_refuses_everything(db, factory, client):
    from bandeja.core.channels.models import Platform

    ws = await factory.workspace()
    channel = await factory.channel(
        ws, Platform.linkedin, external_id="90412345", credentials={"access_token": "x"}
    )
    await db.commit()
    response = await client.post(
        f"/webhooks/linkedin/{channel.id}",
        content=BODY,
        headers={"X-LI-Signature": signature(BODY, "")},
    )
    assert response.status_code == 403
    challenge = await client.get(
        f"/webhooks/linkedin/{channel.id}", params={"challengeCode": "abc"}
    )
    assert challenge.status_code == 403
