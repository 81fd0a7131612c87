"""Settings over HTTP: admins only (agents get a 403 page), plain forms with the CSRF field,
channel accounts with their webhook URL and health, users, teams, tags and saved replies."""

from __future__ import annotations

from sqlalchemy import select

from bandeja.channels.compose import ComposeRules
from bandeja.core.access import Actor
from bandeja.core.channels.models import ChannelAccount, ChannelMember, Platform
from bandeja.core.outbox.actions import mark_failed, queue_reply
from bandeja.core.outbox.types import ReplyDraft
from bandeja.core.saved_replies.models import SavedReply
from bandeja.core.tags.models import Tag
from bandeja.core.users.models import Membership, Role, Team, User
from tests.integration.ui_composer.support import Browser, workspace

PAGES = ("channels", "users", "teams", "tags", "saved-replies")


async def form(browser: Browser, url: str, data: dict | list | None = None):
    """A plain form post, the way a browser sends it: the CSRF token as a field."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
    return await browser.post(url, [*pairs, ("csrf_token", browser.csrf)], csrf=False, htmx=False)


async def test_agents_get_a_403_page(db, factory, client):
    w = await workspace(db, factory, client)
    for page in ("", *PAGES):
        r = await w.as_ana.get(f"/settings/{page}".rstrip("/"))
        assert r.status_code == 403, page
        assert "Only owners and admins can change the settings." in r.text
    r = await form(w.as_ana, "/settings/tags", {"name": "sneaky"})
    assert r.status_code == 403
    assert (await db.execute(select(Tag))).first() is None
    await db.commit()
    r = await client.get("/settings/tags")
    assert r.status_code in (303, 307)
    assert r.headers["location"].startswith("/login")


async def test_admin_pages_render_in_spanish_and_italian(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_owner.get("/settings")
    assert r.status_code == 303
    assert r.headers["location"] == "/settings/channels"
    for page in PAGES:
        r = await w.as_owner.get(f"/settings/{page}")
        assert r.status_code == 200, (page, r.text)
        assert 'aria-current="page"' in r.text
    owner = await db.get(User, w.owner.id)
    for locale, title, agent_words in (
        ("es", "Cuentas de canal", "Respuestas guardadas"),
        ("it", "Account dei canali", "Risposte salvate"),
    ):
        owner.locale = locale
        await db.commit()
        r = await w.as_owner.get("/settings/channels")
        assert f"<h1>{title}</h1>" in r.text
        assert agent_words in r.text
    r = await w.as_ana.get("/settings/tags")
    assert "Only owners and admins" in r.text  # Ana's language is still English


async def test_forms_need_the_csrf_token(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_owner.post("/settings/tags", {"name": "x"}, csrf=False, htmx=False)
    assert r.status_code == 403
    r = await w.as_owner.post(
        "/settings/tags", {"name": "x", "csrf_token": w.as_ana.csrf}, csrf=False, htmx=False
    )
    assert r.status_code == 403
    assert (await db.execute(select(Tag))).first() is None


async def test_connect_a_channel_account_and_see_its_webhook_url(db, factory, client):
    w = await workspace(db, factory, client)
    data = {
        "platform": "telegram",
        "name": "Aurora bot",
        "external_id": "777000",
        "signing_secret": "s3cret-token",
        "access_token": "bot-token",
        "api_base_url": "http://127.0.0.1:9/telegram",
    }
    r = await form(w.as_owner, "/settings/channels", data)
    assert r.status_code == 303, r.text
    channel = (
        await db.execute(select(ChannelAccount).where(ChannelAccount.external_id == "777000"))
    ).scalar_one()
    await db.commit()
    assert r.headers["location"] == f"/settings/channels?added={channel.id}"
    assert channel.settings == {"api_base_url": "http://127.0.0.1:9/telegram"}
    assert channel.credentials_sealed is not None
    assert (
        b"s3cret-token" not in channel.credentials_sealed.encode()
        if isinstance(channel.credentials_sealed, str)
        else True
    )
    r = await w.as_owner.get(r.headers["location"])
    assert f"/webhooks/telegram/{channel.id}</code>" in r.text
    assert "Aurora bot" in r.text
    assert 'class="just-added"' in r.text
    # The same account again; bad input: refused with the reason, the form kept.
    r = await form(w.as_owner, "/settings/channels", data)
    assert r.status_code == 409
    assert "already connected" in r.text
    for bad, field in (
        ({**data, "external_id": "1", "signing_secret": ""}, "signing_secret"),
        ({**data, "external_id": "2", "platform": "myspace"}, "platform"),
        ({**data, "external_id": "3", "api_base_url": "ftp://x"}, "api_base_url"),
        ({**data, "external_id": "", "name": "x"}, "external_id"),
    ):
        r = await form(w.as_owner, "/settings/channels", bad)
        assert r.status_code == 422, (bad, r.text)
        assert field in r.text
    # An agent cannot.
    r = await form(w.as_ana, "/settings/channels", {**data, "external_id": "9"})
    assert r.status_code == 403
    count = len((await db.execute(select(ChannelAccount.id))).all())
    assert count == 2  # the workspace's own and the one added


async def test_channel_health(db, factory, client):
    w = await workspace(db, factory, client)
    r = await w.as_owner.get("/settings/channels")
    assert "Healthy" in r.text
    channel = await db.get(ChannelAccount, w.channel.id)
    channel.last_error = "invalid_signature: a delivery was not signed"
    await db.commit()
    r = await w.as_owner.get("/settings/channels")
    assert "Needs attention" in r.text
    assert "invalid_signature: a delivery was not signed" in r.text
    # A reply the platform refused counts as not delivered.
    owner = Actor(user_id=w.owner.id, workspace_id=w.ws.id, role=Role.owner)
    queued = await queue_reply(db, owner, w.conv.id, ReplyDraft(text="hi"), ComposeRules())
    await mark_failed(db, queued.job, code="http_400", message_text="refused")
    await db.commit()
    r = await w.as_owner.get("/settings/channels")
    assert "Replies not delivered: 1 " in r.text


async def test_users_and_roles(db, factory, client):
    w = await workspace(db, factory, client)
    new = {"email": "new.agent@example.com", "name": "Nina New", "password": "long enough"}
    r = await form(w.as_owner, "/settings/users", {**new, "role": "agent", "locale": "it"})
    assert r.status_code == 303, r.text
    r = await w.as_owner.get(r.headers["location"])
    assert "Nina New" in r.text
    assert "The user was added." in r.text
    r = await form(w.as_owner, "/settings/users", {**new, "role": "agent"})
    assert r.status_code == 409
    for bad in (
        {**new, "email": "not-an-email"},
        {**new, "email": "b@example.com", "password": "short"},
        {**new, "email": "c@example.com", "role": "emperor"},
    ):
        assert (await form(w.as_owner, "/settings/users", bad)).status_code == 422, bad
    r = await form(w.as_owner, f"/settings/users/{w.ana.id}/role", {"role": "admin"})
    assert r.status_code == 303
    membership = await db.get(Membership, (w.ws.id, w.ana.id))
    assert membership.role is Role.admin
    await db.commit()
    # Admins cannot make owners.
    admin = w.as_ana  # now an admin
    r = await form(admin, f"/settings/users/{w.bruno.id}/role", {"role": "owner"})
    assert r.status_code == 403
    r = await form(w.as_owner, "/settings/users/999999/role", {"role": "agent"})
    assert r.status_code == 404


async def test_channel_access_of_agents(db, factory, client):
    w = await workspace(db, factory, client)
    other = await factory.channel(w.ws, Platform.telegram, name="Second bot")
    await db.commit()
    page = await w.as_owner.get("/settings/users")
    assert f'action="/settings/users/{w.bruno.id}/channels"' in page.text
    # Bruno sees nothing, then exactly the accounts ticked, then none again.
    assert (await w.as_bruno.get(f"/inbox/c/{w.conv.id}")).status_code == 404
    r = await form(
        w.as_owner,
        f"/settings/users/{w.bruno.id}/channels",
        [("channel", str(w.channel.id)), ("channel", str(other.id))],
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/settings/users?done=channels_changed"
    assert (await w.as_bruno.get(f"/inbox/c/{w.conv.id}")).status_code == 200
    r = await form(w.as_owner, f"/settings/users/{w.bruno.id}/channels", [])
    assert r.status_code == 303
    assert (await w.as_bruno.get(f"/inbox/c/{w.conv.id}")).status_code == 404
    # Another workspace's account, garbage, an unknown user; agents may not.
    elsewhere = await factory.channel(await factory.workspace(), Platform.telegram)
    await db.commit()
    for bad in ([("channel", str(elsewhere.id))], [("channel", "x")]):
        r = await form(w.as_owner, f"/settings/users/{w.bruno.id}/channels", bad)
        assert r.status_code == 422, bad
    r = await form(w.as_owner, "/settings/users/999999/channels", [])
    assert r.status_code == 404
    r = await form(w.as_ana, f"/settings/users/{w.bruno.id}/channels", [])
    assert r.status_code == 403
    # A new agent can be given accounts as they are added.
    new = {"email": "nina@example.com", "name": "Nina", "password": "long enough"}
    r = await form(w.as_owner, "/settings/users", [*new.items(), ("channel", str(other.id))])
    assert r.status_code == 303, r.text
    nina = (await db.execute(select(User).where(User.email == "nina@example.com"))).scalar_one()
    members = (
        await db.execute(
            select(ChannelMember.channel_account_id).where(ChannelMember.user_id == nina.id)
        )
    ).scalars()
    assert list(members) == [other.id]
    await db.commit()


async def test_teams(db, factory, client):
    w = await workspace(db, factory, client)
    members = [("member_ids", w.ana.id), ("member_ids", w.bruno.id)]
    r = await form(w.as_owner, "/settings/teams", [("name", "Spanish desk"), *members])
    assert r.status_code == 303, r.text
    team = (await db.execute(select(Team))).scalar_one()
    await db.commit()
    r = await w.as_owner.get("/settings/teams")
    assert 'value="Spanish desk"' in r.text
    r = await form(
        w.as_owner, f"/settings/teams/{team.id}", {"name": "Desk ES", "member_ids": w.ana.id}
    )
    assert r.status_code == 303
    r = await w.as_owner.get("/settings/teams")
    assert 'value="Desk ES"' in r.text
    assert (await form(w.as_owner, "/settings/teams", {"name": ""})).status_code == 422
    r = await form(w.as_owner, "/settings/teams", {"name": "x", "member_ids": "abc"})
    assert r.status_code == 422
    assert (await form(w.as_owner, "/settings/teams", {"name": "Desk ES"})).status_code == 409


async def test_tags(db, factory, client):
    w = await workspace(db, factory, client)
    r = await form(
        w.as_owner, "/settings/tags", {"name": "Refund", "group": "topic", "color": "#AA3311"}
    )
    assert r.status_code == 303, r.text
    tag = (await db.execute(select(Tag))).scalar_one()
    await db.commit()
    assert (tag.name, tag.group.value, tag.color) == ("Refund", "topic", "#aa3311")
    r = await form(
        w.as_owner,
        f"/settings/tags/{tag.id}",
        {"name": "Refunds", "group": "type", "color": "#112233"},
    )
    assert r.status_code == 303
    r = await w.as_owner.get("/settings/tags?done=tag_saved")
    assert 'value="Refunds"' in r.text
    assert "The tag was saved." in r.text
    for bad in ({"name": "x", "color": "red"}, {"name": ""}, {"name": "x", "group": "nope"}):
        assert (await form(w.as_owner, "/settings/tags", bad)).status_code == 422, bad
    assert (await form(w.as_owner, "/settings/tags", {"name": "refunds"})).status_code == 409
    r = await form(w.as_stranger, f"/settings/tags/{tag.id}/delete")
    assert r.status_code == 404
    r = await form(w.as_owner, f"/settings/tags/{tag.id}/delete")
    assert r.status_code == 303
    assert (await db.execute(select(Tag))).first() is None
    await db.commit()


async def test_saved_replies(db, factory, client):
    w = await workspace(db, factory, client)
    data = {
        "name": "Opening hours",
        "shortcut": "hours",
        "shared": "1",
        "body_en": "Hi {{contact.first_name}}, we open at 8.",
        "body_es": "Hola {{contact.first_name}}, abrimos a las 8.",
        "body_it": "",
    }
    r = await form(w.as_owner, "/settings/saved-replies", data)
    assert r.status_code == 303, r.text
    reply = (await db.execute(select(SavedReply))).scalar_one()
    await db.commit()
    assert reply.owner_id is None
    assert [v.language for v in reply.variants] == ["en", "es"]
    r = await w.as_owner.get(f"/settings/saved-replies/{reply.id}")
    assert "Abrimos" not in r.text
    assert "Hola {{contact.first_name}}, abrimos a las 8." in r.text
    assert "{{agent.first_name}}" in r.text  # the variables help
    # A typo in a variable: refused, the form kept.
    r = await form(
        w.as_owner,
        f"/settings/saved-replies/{reply.id}",
        {**data, "body_it": "Ciao {{contact.nome}}"},
    )
    assert r.status_code == 422
    assert "unknown variable" in r.text
    assert "Ciao {{contact.nome}}" in r.text
    r = await form(
        w.as_owner,
        f"/settings/saved-replies/{reply.id}",
        {**data, "body_it": "Ciao {{contact.first_name}}!"},
    )
    assert r.status_code == 303
    assert (
        await form(w.as_owner, "/settings/saved-replies", {**data, "body_en": "", "body_es": ""})
    ).status_code == 422
    assert (
        await form(w.as_owner, "/settings/saved-replies", {**data, "name": "Other"})
    ).status_code == 409
    r = await form(w.as_owner, f"/settings/saved-replies/{reply.id}/delete")
    assert r.status_code == 303
    assert (await db.execute(select(SavedReply))).first() is None
    await db.commit()
    assert (await w.as_owner.get(f"/settings/saved-replies/{reply.id}")).status_code == 404
