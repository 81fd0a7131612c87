"""The webhook route for a Page: handshake, signatures, duplicates, reordering, and names."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json

import pytest

from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import DeliveryStatus
from tests.support.webhooks import fixture

from .conftest import (
    APP_SECRET,
    GIULIA_ID,
    LUCIA,
    LUCIA_ID,
    MID_OUT,
    MID_TEXT,
    REPLY_COMMENT,
    TOP_COMMENT,
    VERIFY_TOKEN,
    Page,
    signature,
)

BODY = fixture("messenger", "message__text")


async def test_handshake_echoes_the_challenge_with_our_verify_token(page: Page) -> None:
    url = f"/webhooks/messenger/{page.channel.id}"
    ok = await page.client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": VERIFY_TOKEN,
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for bad in (
        {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "guess"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN},
        {"hub.challenge": "1"},
    ):
        refused = await page.client.get(url, params=bad)
        assert refused.status_code == 403, bad
        assert "1" not in refused.text


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("tampered_body", 401, "rejected:bad signature"),
        ("wrong_secret", 401, "rejected:bad signature"),
        ("missing_header", 401, "rejected:missing X-Hub-Signature-256"),
        ("sha1_only", 401, "rejected:missing X-Hub-Signature-256"),
        ("not_hex", 401, "rejected:bad signature"),
    ],
)
async def test_bad_signatures_are_refused_and_nothing_is_stored(
    page: Page, case: str, status: int, reason: str
) -> None:
    body, headers = BODY, {"X-Hub-Signature-256": signature(BODY)}
    if case == "tampered_body":
        body = BODY.replace(b"cuatro", b"catorce")
    elif case == "wrong_secret":
        headers = {"X-Hub-Signature-256": signature(BODY, secret="not-the-app-secret")}
    elif case == "missing_header":
        headers = {}
    elif case == "sha1_only":
        headers = {
            "X-Hub-Signature": "sha1="
            + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
        }
    else:
        headers = {"X-Hub-Signature-256": "sha256=" + "zz" * 32}
    response = await page.deliver(body, headers)
    assert response.status_code == status
    await page.workers.drain()
    assert await page.raw_events() == []
    assert await page.messages() == []
    assert await page.ignored() == {reason: 1}


async def test_valid_signature_in_upper_case_hex_is_accepted(page: Page) -> None:
    response = await page.deliver(
        BODY, {"X-Hub-Signature-256": signature(BODY).upper().replace("SHA256=", "sha256=")}
    )
    assert response.status_code == 200
    await page.workers.drain()
    assert [m.external_id for m in await page.messages()] == [MID_TEXT]


async def test_a_body_that_is_not_json_fails_visibly_and_stays_stored(page: Page) -> None:
    response = await page.deliver(b"<xml>not json</xml>")
    assert response.status_code == 200  # signed by the app: stored before it is read
    await page.workers.drain()
    [raw] = await page.raw_events()
    assert raw.status.value == "failed"
    assert "JSONDecodeError" in (raw.error or "")


async def test_the_same_delivery_five_times_is_one_message(page: Page) -> None:
    for _ in range(5):
        assert (await page.deliver(BODY)).status_code == 200
    await page.workers.drain()
    assert len(await page.raw_events()) == 1
    [message] = await page.messages()
    assert message.external_id == MID_TEXT
    assert (await page.conversation(LUCIA_ID)).message_count == 1


async def test_the_same_message_in_different_bodies_is_stored_once(page: Page) -> None:
    data = json.loads(BODY)
    batch = {"object": "page", "entry": [data["entry"][0], data["entry"][0]]}
    other_time = {**data, "entry": [{**data["entry"][0], "time": 1773150009999}]}
    await page.deliver_json(batch)
    await page.deliver_json(other_time)
    await page.deliver_fixtures("message__text")
    assert len(await page.raw_events()) == 3
    assert len(await page.messages()) == 1
    assert (await page.conversation(LUCIA_ID)).message_count == 1


async def test_read_before_delivery_stays_read(page: Page) -> None:
    await page.deliver_fixtures(
        "message_echo__page_inbox", "read__watermark", "delivery__mids", "delivery__watermark"
    )
    assert (await page.message(MID_OUT)).status is DeliveryStatus.read
    await page.assert_all_processed()


async def test_statuses_for_unknown_messages_are_counted_not_failed(page: Page) -> None:
    await page.deliver_fixtures("delivery__mids", "reaction__react", "message_edit__text")
    await page.assert_all_processed()
    assert await page.ignored() == {
        "status_unknown_message": 1,
        "reaction_unknown_message": 1,
        "edit_unknown_message": 1,
    }


async def test_a_reply_before_its_top_level_comment_lands_in_the_same_thread(page: Page) -> None:
    await page.deliver_fixtures("feed_comment__reply", "feed_comment__add")
    [conversation] = await page.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.comment, TOP_COMMENT)
    messages = await page.thread(TOP_COMMENT, Kind.comment)
    # Ordered by the platform's times, not by arrival.
    assert [m.external_id for m in messages] == [TOP_COMMENT, REPLY_COMMENT]
    assert conversation.message_count == 2


async def test_an_old_message_arriving_late_does_not_move_the_thread_back(page: Page) -> None:
    await page.deliver_fixtures("message__batch")
    newest = (await page.conversation(GIULIA_ID)).last_activity_at
    await page.deliver_fixtures(
        "message__reply_to"
    )  # Giulia, two minutes after T0: older than the batch
    conversation = await page.conversation(GIULIA_ID)
    assert conversation.last_activity_at == newest
    assert conversation.message_count == 2
    assert conversation.last_message_preview == "Avete il pane senza glutine?"


async def test_a_dm_sender_is_named_from_the_profile_api(page: Page) -> None:
    page.sandbox.add_person(page.sandbox_channel().platform, LUCIA)
    await page.deliver_fixtures("message__text")
    conversation = await page.conversation(LUCIA_ID)
    assert (await page.contact_of(conversation)).name == "Lucía Fernández"
    identity = await page.identity(LUCIA_ID)
    assert identity.display_name == "Lucía Fernández"
    assert (identity.avatar_url or "").startswith("https://platform-lookaside.fbsbx.com/")


async def test_profile_lookups_can_be_turned_off(page: Page) -> None:
    page.sandbox.add_person(page.sandbox_channel().platform, LUCIA)
    await page.set_settings(fetch_profiles=False)
    await page.deliver_fixtures("message__text")
    assert (await page.identity(LUCIA_ID)).display_name is None


async def test_a_profile_api_failure_never_fails_the_delivery(page: Page) -> None:
    page.sandbox.add_person(page.sandbox_channel().platform, LUCIA)
    page.sandbox.add_channel(
        dataclasses.replace(page.sandbox_channel(), secrets={"access_token": "another-token"})
    )
    await page.deliver_fixtures("message__text")  # the sandbox refuses our token now: (#190)
    await page.assert_all_processed()
    assert (await page.identity(LUCIA_ID)).display_name is None
