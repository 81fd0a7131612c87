"""The composer's routes over HTTP: who may use them, replies (rules, idempotency, send-guard),
private replies, notes with mentions, and the saved-reply and mention pickers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bandeja.core.access import Actor
from bandeja.core.channels.models import Platform
from bandeja.core.conversations.models import Kind
from bandeja.core.messages.models import Direction, Message
from bandeja.core.notes.models import Note, NoteMention
from bandeja.core.saved_replies.actions import create_saved_reply
from bandeja.core.saved_replies.schemas import SavedReplyIn, VariantIn
from bandeja.core.users.models import Role
from tests.integration.ui_composer.support import workspace


def key(n: int = 1) -> str:
    return f"draft-key-{n:04d}"


async def _outbound(db, conversation_id: int) -> list[Message]:
    rows = await db.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.outbound)
        .order_by(Message.id)
        .execution_options(populate_existing=True)
    )
    found = list(rows.scalars())
    await db.commit()  # SQLite: end the test's transaction so that the app can write
    return found


async def test_composer_shows_the_platform_limits(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_ana.get(f"/inbox/c/{w.conv.id}/composer")
    assert r.status_code == 200, r.text
    assert 'data-max-length="2000"' in r.text
    assert 'data-unit="characters"' in r.text
    assert "data-window-ends=" in r.text
    assert f'name="seen_message_id" value="{w.message.id}"' in r.text
    # Each render is a new draft with its own key.
    again = await w.as_ana.get(f"/inbox/c/{w.conv.id}/composer")
    first_key = r.text.split('name="idempotency_key" value="')[1].split('"')[0]
    assert first_key not in again.text


async def test_composer_is_only_for_those_who_see_the_conversation(db, factory, client):
    w = await workspace(db, factory, client)
    for path in ("composer", "contact"):
        url = f"/inbox/c/{w.conv.id}/{path}"
        assert (await w.as_bruno.get(url)).status_code == 404  # agent not on the channel
        assert (await w.as_stranger.get(url)).status_code == 404  # another workspace
        assert (await w.as_owner.get(url)).status_code == 200
    r = await client.get(f"/inbox/c/{w.conv.id}/composer")
    assert r.status_code in (303, 307), r.status_code
    assert r.headers["location"].startswith("/login")
    assert (await w.as_ana.get("/inbox/c/0/composer")).status_code == 422


async def test_reply_is_queued_once_per_draft(db, factory, client):
    w = await workspace(db, factory, client)
    form = {"text": "Hola Lucía, ya lo miramos", "idempotency_key": key(), "seen_message_id": "0"}
    form["seen_message_id"] = str(w.message.id)
    r = await w.as_ana.post(f"/inbox/c/{w.conv.id}/reply", form)
    assert r.status_code == 200, r.text
    assert r.headers["HX-Trigger"] == "thread-changed"
    # A fresh composer: empty, with a new draft key.
    assert key() not in r.text
    # The same draft again (a double click): still one message.
    r = await w.as_ana.post(f"/inbox/c/{w.conv.id}/reply", form)
    assert r.status_code == 200, r.text
    sent = await _outbound(db, w.conv.id)
    assert [m.text for m in sent] == ["Hola Lucía, ya lo miramos"]
    assert sent[0].author_user_id == w.ana.id


async def test_reply_needs_the_csrf_token(db, factory, client):
    w = await workspace(db, factory, client)
    form = {"text": "hi", "idempotency_key": key()}
    r = await w.as_ana.post(f"/inbox/c/{w.conv.id}/reply", form, csrf=False)
    assert r.status_code == 403
    assert await _outbound(db, w.conv.id) == []
    # The token of another session does not do either.
    w.as_ana.csrf = w.as_owner.csrf
    assert (await w.as_ana.post(f"/inbox/c/{w.conv.id}/reply", form)).status_code == 403


async def test_bad_reply_input_is_refused(db, factory, client):
    w = await workspace(db, factory, client)
    url = f"/inbox/c/{w.conv.id}/reply"
    for bad in (
        {"text": "hi"},  # no draft key
        {"text": "hi", "idempotency_key": "short"},
        {"text": "hi", "idempotency_key": "has spaces in it"},
        {"text": "x" * 20_001, "idempotency_key": key()},
        {"text": "hi", "idempotency_key": key(), "seen_message_id": "-1"},
    ):
        r = await w.as_ana.post(url, bad)
        assert r.status_code == 422, (bad, r.text)
    # Blank text: the composer again, with the reason.
    r = await w.as_ana.post(url, {"text": "   ", "idempotency_key": key()})
    assert r.status_code == 422
    assert "composer-error" in r.text
    # Too long for Messenger (2,000): the rule's message, the draft kept.
    r = await w.as_ana.post(url, {"text": "é" * 2001, "idempotency_key": key(2)})
    assert r.status_code == 422
    assert "The text is too long for this platform." in r.text
    assert "é" * 2001 in r.text
    assert await _outbound(db, w.conv.id) == []


async def test_reply_outside_the_window_says_why(db, factory, client):
    w = await workspace(db, factory, client)
    old, _ = await factory.message(
        w.channel, person="c9", name="Old Timer", at=datetime.now(UTC) - timedelta(hours=30)
    )
    await db.commit()
    r = await w.as_ana.get(f"/inbox/c/{old.id}/composer")
    assert "The messaging window is closed." in r.text
    assert "24-hour Messenger messaging window closed" in r.text
    assert 'id="composer-reply-text"' in r.text
    assert "disabled" in r.text.split('id="composer-reply-text"')[1].split(">")[0]
    r = await w.as_ana.post(f"/inbox/c/{old.id}/reply", {"text": "hi", "idempotency_key": key()})
    assert r.status_code == 422
    assert 'data-error-code="rule:window_closed"' in r.text
    assert await _outbound(db, old.id) == []


async def test_a_teammates_reply_meanwhile_is_shown_first(db, factory, client):
    w = await workspace(db, factory, client)
    seen = w.message.id
    r = await w.as_owner.post(
        f"/inbox/c/{w.conv.id}/reply", {"text": "Olga here", "idempotency_key": key(1)}
    )
    assert r.status_code == 200
    r = await w.as_ana.post(
        f"/inbox/c/{w.conv.id}/reply",
        {"text": "Ana here", "idempotency_key": key(2), "seen_message_id": str(seen)},
    )
    assert r.status_code == 409, r.text
    assert "Olga here" in r.text
    assert "Send anyway" in r.text
    # The composer now knows Ana saw it: the same draft goes through.
    newest = r.text.split('name="seen_message_id" value="')[1].split('"')[0]
    r = await w.as_ana.post(
        f"/inbox/c/{w.conv.id}/reply",
        {"text": "Ana here", "idempotency_key": key(2), "seen_message_id": newest},
    )
    assert r.status_code == 200, r.text
    assert [m.text for m in await _outbound(db, w.conv.id)] == ["Olga here", "Ana here"]


async def test_private_reply_to_a_comment(db, factory, client):
    w = await workspace(db, factory, client, Platform.instagram)
    comment_conv, comment = await factory.message(
        w.channel, person="c5", name="Marta", kind=Kind.comment, thread="post-1"
    )
    await db.commit()
    r = await w.as_ana.get(f"/inbox/c/{comment_conv.id}/composer")
    assert "Reply privately" in r.text
    assert f'name="message_id" value="{comment.id}"' in r.text
    assert 'data-unit="bytes"' in r.text
    url = f"/inbox/c/{comment_conv.id}/private-reply"
    form = {"text": "Te escribo por privado", "idempotency_key": key(), "message_id": comment.id}
    r = await w.as_ana.post(url, form)
    assert r.status_code == 200, r.text
    assert r.headers["HX-Trigger"] == "thread-changed"
    sent = await _outbound(db, comment_conv.id)
    assert [(m.text, m.is_private_reply) for m in sent] == [("Te escribo por privado", True)]
    # One private reply per comment.
    form["seen_message_id"] = sent[0].id
    r = await w.as_ana.post(url, {**form, "idempotency_key": key(2)})
    assert r.status_code == 422
    assert "This comment already has a private reply." in r.text
    # A message of another conversation is not this comment.
    r = await w.as_ana.post(url, {**form, "idempotency_key": key(3), "message_id": w.message.id})
    assert r.status_code == 422, r.text
    assert (await w.as_ana.post(url, {**form, "message_id": "0"})).status_code == 422


async def test_note_mentions_only_those_who_see_the_channel(db, factory, client):
    w = await workspace(db, factory, client)
    text = "@[Olga Owner] and @[Bruno Díaz], look"
    r = await w.as_ana.post(f"/inbox/c/{w.conv.id}/composer/note", {"text": text})
    assert r.status_code == 200, r.text
    assert r.headers["HX-Trigger"] == "thread-changed"
    note = (await db.execute(select(Note).where(Note.conversation_id == w.conv.id))).scalar_one()
    assert note.text == text
    mentioned = (
        await db.execute(select(NoteMention.user_id).where(NoteMention.note_id == note.id))
    ).scalars()
    # Bruno is not on the channel: his name stays text, nobody notifies him.
    assert list(mentioned) == [w.owner.id]
    await db.commit()
    r = await w.as_ana.post(f"/inbox/c/{w.conv.id}/composer/note", {"text": "  "})
    assert r.status_code == 422
    assert (await w.as_ana.post(f"/inbox/c/{w.conv.id}/composer/note", {})).status_code == 422
    r = await w.as_bruno.post(f"/inbox/c/{w.conv.id}/composer/note", {"text": "hi"})
    assert r.status_code == 404
    count = await db.scalar(select(func.count()).select_from(Note))
    assert count == 1


async def test_mention_suggestions(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_ana.get("/ui/mentions", params={"conversation": w.conv.id})
    assert r.status_code == 200
    # Admins, owners and the channel's members; the actor last; never Bruno (not on the channel).
    assert [u["name"] for u in r.json()] == ["Adam Admin", "Olga Owner", "Ana Lima"]
    r = await w.as_ana.get("/ui/mentions", params={"conversation": w.conv.id, "q": "@ol"})
    assert r.json() == [
        {"id": w.owner.id, "name": "Olga Owner", "email": w.owner.email, "insert": "@[Olga Owner]"}
    ]
    r = await w.as_ana.get("/ui/mentions", params={"conversation": w.conv.id, "q": "OWN"})
    assert [u["id"] for u in r.json()] == [w.owner.id]
    assert (await w.as_ana.get("/ui/mentions", params={"conversation": "x"})).status_code == 422
    r = await w.as_bruno.get("/ui/mentions", params={"conversation": w.conv.id})
    assert r.status_code == 404
    r = await w.as_stranger.get("/ui/mentions", params={"conversation": w.conv.id})
    assert r.status_code == 404


async def test_saved_reply_picker_fills_the_contacts_first_name(db, factory, client):
    w = await workspace(db, factory, client)
    owner = Actor(user_id=w.owner.id, workspace_id=w.ws.id, role=Role.owner)
    bruno = Actor(user_id=w.bruno.id, workspace_id=w.ws.id, role=Role.agent)
    body = "Hi {{contact.first_name}}, {{agent.first_name}} here"
    await create_saved_reply(
        db,
        owner,
        SavedReplyIn(
            name="Greeting",
            shortcut="hi",
            shared=True,
            variants=[VariantIn(language="en", body=body)],
        ),
    )
    await create_saved_reply(
        db, bruno, SavedReplyIn(name="Bruno's own", variants=[VariantIn(language="en", body="x")])
    )
    await db.commit()
    r = await w.as_ana.get("/ui/saved-replies", params={"conversation": w.conv.id})
    assert r.status_code == 200
    assert 'data-insert-text="Hi Lucía, Ana here"' in r.text
    assert "own</span>" not in r.text
    r = await w.as_ana.get("/ui/saved-replies", params={"conversation": w.conv.id, "q": "zzz"})
    assert "data-insert-text" not in r.text
    r = await w.as_bruno.get("/ui/saved-replies", params={"conversation": w.conv.id})
    assert r.status_code == 404
