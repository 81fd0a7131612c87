"""LinkedIn organization social action notifications, delivered signed through the real route,
completed with the (sandbox) Comments and Posts APIs and applied by the ingest worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bandeja.core.conversations.models import Kind
from bandeja.core.ingest.models import RawEventStatus
from bandeja.core.messages.actions import record_outbound
from bandeja.core.messages.models import AuthorType, DeliveryStatus, Direction
from tests.support.webhooks import fixture, fixture_json, fixture_names

from .conftest import (
    BATCHED,
    DECORATED,
    GIULIA,
    JAMES,
    MENTION_SHARE,
    MENTION_UGC,
    NESTED,
    ORG,
    PAGE_REPLY,
    SHARE,
    SHORT,
    SOFIA,
    TOP,
    T,
    seed_api,
)

POST_URL = f"https://www.linkedin.com/feed/update/{SHARE}/"
# Fixtures that need the API to become inbox content, and what they count as without it.
API_ONLY = {
    "admin_comment__reply": "own_comment",
    "comment_edit__ids_only": "edit_text_unavailable",
}


async def _ingest(li, workers, *names: str) -> None:
    for name in names:
        await li.deliver_fixture(name)
    await workers.drain()


@pytest.mark.parametrize("name", fixture_names("linkedin"))
async def test_every_fixture_is_accepted_and_processed(
    li, workers, db, factory, client, sessions, name
):
    """With the Comments API answering, and with it unreachable (this channel's token unknown
    to it): the delivery is processed either way."""
    from .conftest import make_linkedin

    down = await make_linkedin(db, factory, client, sessions, access_token="revoked")
    workers.sandbox.add_channel(li.sandbox_channel())
    seed_api()
    for channel in (li, down):
        response = await channel.deliver(fixture("linkedin", name))
        assert response.status_code == 200, response.text
    await workers.drain()
    for channel in (li, down):
        raws = await channel.raw_events()
        assert [r.status for r in raws] == [RawEventStatus.processed], [r.error for r in raws]
    # Both keep the same inbox items; only what the API adds (text, names) differs.
    up_ids = [m.external_id for m in await li.messages()]
    assert up_ids == [m.external_id for m in await down.messages()] or name in API_ONLY
    if name in API_ONLY:
        assert await down.ignored() == {API_ONLY[name]: 1}


async def test_comment_is_read_from_the_comments_api(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only")
    [conversation] = await li.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.comment, TOP)
    assert conversation.post_url == POST_URL
    [message] = await li.thread(TOP)
    assert message.text == "¿Hacéis envíos a Canarias? Me encantaría regalar una caja de café."
    assert message.external_id == TOP
    assert message.sent_at == T - timedelta(seconds=30)  # the comment's own time
    assert await li.extra_of(message.id) == {"post_urn": SHARE, "action": "COMMENT"}
    assert message.direction is Direction.inbound
    contact = await li.contact(SOFIA.id)
    assert contact.name == "Sofía Martín"
    [identity] = contact.identities
    assert (identity.external_id, identity.handle) == (SOFIA.id, SOFIA.id)


async def test_comment_is_kept_when_the_api_cannot_be_reached(li, workers, sandbox):
    await _ingest(li, workers, "comment__ids_only")  # the API knows nothing: 404
    [message] = await li.thread(TOP)
    assert (message.text, message.external_id, message.sent_at) == ("", TOP, T)
    assert await li.extra_of(message.id) == {
        "post_urn": SHARE,
        "action": "COMMENT",
        "lookup_failed": True,
    }
    [conversation] = await li.conversations()
    assert conversation.post_url == POST_URL
    [raw] = await li.raw_events()
    assert raw.status is RawEventStatus.processed


async def test_comment_is_kept_when_the_api_refuses_the_token(li, workers):
    # No sandbox channel for this token: the API answers 401.
    await _ingest(li, workers, "comment__ids_only")
    [message] = await li.messages()
    assert (message.text, message.external_id) == ("", TOP)


async def test_decorated_notification_text_is_used_when_the_api_is_down(li, workers, sandbox):
    await _ingest(li, workers, "comment__decorated")
    [message] = await li.thread(DECORATED)
    assert message.text == "Congratulations! Will the Brera shop keep its weekend brunch?"
    contact = await li.contact(JAMES.id)
    assert contact.name == "LinkedIn member"  # profiles are not readable; the URN is the handle
    assert contact.identities[0].handle == JAMES.id


async def test_a_reply_to_a_comment_joins_the_top_level_comments_thread(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only", "comment__reply_nested")
    [conversation] = await li.conversations()
    assert conversation.thread_key == TOP
    top, nested = await li.thread(TOP)
    assert (top.external_id, nested.external_id) == (TOP, NESTED)
    assert nested.reply_to_external_id == TOP
    assert nested.text == "Anche io vorrei saperlo, per Palermo!"
    assert nested.author_contact_id == (await li.contact(GIULIA.id)).id


async def test_short_comment_urns_are_normalised(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__short_urn")
    [message] = await li.messages()
    assert message.external_id == SHORT
    assert message.text == "Loved the oat flat white in Madrid."


async def test_a_batch_is_applied_notification_by_notification(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__batch")
    [message] = await li.messages()
    assert (message.external_id, message.text) == (BATCHED, "Quando aprite a Torino?")
    assert await li.ignored() == {"like": 1}


async def test_another_organizations_notification_is_ignored(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__other_organization")
    assert await li.messages() == []
    assert await li.ignored() == {"other_organization": 1}


async def test_page_comment_written_on_linkedin_is_an_outside_reply(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only", "admin_comment__reply")
    [conversation] = await li.conversations()
    customer, page = await li.thread(TOP)
    assert customer.direction is Direction.inbound
    assert (page.direction, page.author_type, page.status) == (
        Direction.outbound,
        AuthorType.external,
        DeliveryStatus.sent,
    )
    assert (page.external_id, page.text) == (
        PAGE_REPLY,
        "¡Hola Sofía! Sí, enviamos a Canarias en 72 h.",
    )
    # The Page's comment answers Sofía: no contact was made for anybody else.
    assert [i.external_id for i in (await li.contact(SOFIA.id)).identities] == [SOFIA.id]
    assert conversation.id == (await li.conversation(TOP)).id


async def test_page_comment_we_sent_is_matched_not_duplicated(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only")
    conversation = await li.conversation(TOP)
    async with li.sessions() as session:
        conversation = await session.merge(conversation)
        sent = await record_outbound(
            session,
            conversation,
            text="¡Hola Sofía!",
            sent_at=T,
            author_type=AuthorType.user,
            status=DeliveryStatus.sent,
            external_id=PAGE_REPLY,
        )
        await session.commit()
    await _ingest(li, workers, "admin_comment__reply")
    assert [m.id for m in await li.thread(TOP) if m.direction is Direction.outbound] == [sent.id]


async def test_page_comment_whose_recipient_cannot_be_read_joins_the_thread(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only")
    from bandeja.channels.linkedin.fake import FAKE

    del FAKE.comments[TOP]  # Sofía's comment can no longer be read: whom the Page answered?
    await _ingest(li, workers, "admin_comment__reply")
    _customer, page = await li.thread(TOP)
    assert (page.external_id, page.author_type) == (PAGE_REPLY, AuthorType.external)
    assert len(await li.conversations()) == 1


async def test_page_comment_on_an_unknown_thread_whose_recipient_is_unknown_is_counted(
    li, workers, sandbox
):
    seed_api()
    from bandeja.channels.linkedin.fake import FAKE

    del FAKE.comments[TOP]
    await _ingest(li, workers, "admin_comment__reply")
    assert await li.messages() == []
    assert await li.ignored() == {"echo_without_thread": 1}


async def test_page_comment_without_a_thread_is_ignored(li, workers, sandbox):
    await _ingest(li, workers, "admin_comment__reply")  # the API cannot tell its parent
    assert await li.messages() == []
    assert await li.ignored() == {"own_comment": 1}


async def test_edit_is_read_from_the_api(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only")
    from bandeja.channels.linkedin.fake import FAKE, Comment

    old = FAKE.comments[TOP]
    FAKE.remember(
        Comment(
            TOP,
            old.actor,
            "¿Hacéis envíos a Canarias y a Baleares?",
            old.created,
            old.created + 400_000,
            None,
            old.name,
        )
    )
    await _ingest(li, workers, "comment_edit__ids_only")
    [message] = await li.thread(TOP)
    assert message.text == "¿Hacéis envíos a Canarias y a Baleares?"
    assert message.edited_at is not None


async def test_edit_without_its_text_leaves_the_comment_as_it_was(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only")
    from bandeja.channels.linkedin.fake import FAKE

    del FAKE.comments[TOP]  # the API cannot give the new text
    await _ingest(li, workers, "comment_edit__ids_only")
    [message] = await li.thread(TOP)
    assert message.text.startswith("¿Hacéis envíos a Canarias?")
    assert message.edited_at is None
    assert await li.ignored() == {"edit_text_unavailable": 1}


async def test_decorated_edit_needs_no_api(li, workers):
    await _ingest(li, workers, "comment__decorated", "comment_edit__decorated")
    [message] = await li.thread(DECORATED)
    assert message.text == "Congratulations! Will the Brera shop keep its Sunday brunch?"
    assert message.edited_at == T + timedelta(seconds=410)


async def test_edit_before_the_comment_waits_and_ends_with_the_new_text(li, workers, sandbox):
    """The edit overtakes the comment: it waits for it; the late comment is read from the API as
    it is now, and the edit then applies on top."""
    seed_api()
    from bandeja.channels.linkedin.fake import FAKE, Comment

    old = FAKE.comments[TOP]
    FAKE.remember(
        Comment(TOP, old.actor, "¿Y a Baleares?", old.created, old.created + 1, None, old.name)
    )
    await li.deliver_fixture("comment_edit__ids_only")
    await workers.drain(settle=False)
    [waiting] = await li.raw_events()
    assert waiting.status is RawEventStatus.pending
    assert waiting.error == f"waiting: edit_unknown_message: {TOP}"
    await li.deliver_fixture("comment__ids_only")
    await workers.drain(settle=False)
    [message] = await li.thread(TOP)
    assert message.text == "¿Y a Baleares?"
    assert message.edited_at is None
    assert await li.retry_waiting() == 1
    await workers.drain(settle=False)
    [message] = await li.thread(TOP)
    assert message.text == "¿Y a Baleares?"
    # When LinkedIn says the comment was last modified.
    assert message.edited_at == T - timedelta(seconds=30) + timedelta(milliseconds=1)
    assert await li.ignored() == {}


async def test_delete_before_the_comment_waits_for_it(li, workers, sandbox):
    seed_api()
    await li.deliver_fixture("comment_delete__comment")
    await workers.drain(settle=False)
    await li.deliver_fixture("comment__ids_only")
    await workers.drain(settle=False)
    assert await li.retry_waiting() == 1
    await workers.drain(settle=False)
    [message] = await li.thread(TOP)
    assert message.text == ""
    assert message.deleted_at == T + timedelta(seconds=500)


async def test_delete_keeps_that_the_comment_existed(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "comment__ids_only", "comment_delete__comment")
    [message] = await li.thread(TOP)
    assert message.text == ""
    assert message.deleted_at == T + timedelta(seconds=500)


async def test_mention_is_read_from_the_posts_api(li, workers, sandbox):
    seed_api()
    await _ingest(li, workers, "share_mention__ids_only")
    [conversation] = await li.conversations()
    assert (conversation.kind, conversation.thread_key) == (Kind.mention, MENTION_SHARE)
    assert conversation.post_url == f"https://www.linkedin.com/feed/update/{MENTION_SHARE}/"
    [message] = await li.thread(MENTION_SHARE, Kind.mention)
    assert message.text == "Colazione perfetta da @Café Aurora Group a Milano ☕🥐"
    assert message.external_id == MENTION_SHARE
    assert (await li.contact(GIULIA.id)).name == "Giulia Conti"


async def test_decorated_mention_needs_no_api(li, workers):
    await _ingest(li, workers, "share_mention__decorated")
    [message] = await li.thread(MENTION_UGC, Kind.mention)
    assert message.text.startswith("Gracias al equipo de Café Aurora Group")
    assert message.author_contact_id == (await li.contact(SOFIA.id)).id


async def test_mention_is_kept_when_the_post_cannot_be_read(li, workers, sandbox):
    await _ingest(li, workers, "share_mention__ids_only")
    [message] = await li.thread(MENTION_SHARE, Kind.mention)
    assert (message.text, message.external_id) == ("", MENTION_SHARE)


@pytest.mark.parametrize(("name", "reason"), [("like__post", "like"), ("share__reshare", "share")])
async def test_likes_and_reshares_are_counted(li, workers, sandbox, name, reason):
    await _ingest(li, workers, name)
    assert await li.messages() == []
    assert await li.ignored() == {reason: 1}


async def test_same_delivery_five_times_is_one_comment(li, workers, sandbox):
    seed_api()
    for _ in range(5):
        await li.deliver_fixture("comment__ids_only")
    await workers.drain()
    assert len(await li.messages()) == 1


async def test_same_comment_in_two_notifications_is_one_comment(li, workers, sandbox):
    """LinkedIn retries with the same notificationId, but a re-sent batch may differ: the
    comment URN is what deduplicates."""
    seed_api()
    body = fixture_json("linkedin", "comment__ids_only")
    again = json.loads(json.dumps(body))
    again["notifications"][0]["notificationId"] += 7
    await li.deliver(json.dumps(body).encode())
    await li.deliver(json.dumps(again).encode())
    await workers.drain()
    assert len(await li.raw_events()) == 2
    assert [m.external_id for m in await li.messages()] == [TOP]


async def test_full_organization_urn_as_external_id(db, factory, client, sessions, workers):
    from .conftest import make_linkedin

    li = await make_linkedin(db, factory, client, sessions, external_id=ORG)
    workers.sandbox.add_channel(li.sandbox_channel())
    seed_api()
    await _ingest(li, workers, "comment__ids_only", "admin_comment__reply")
    assert [m.direction for m in await li.thread(TOP)] == [Direction.inbound, Direction.outbound]
