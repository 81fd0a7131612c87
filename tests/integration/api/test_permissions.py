"""Who may see and do what, through the API: one test per rule of docs/api.md "Permissions".

Agents see the conversations of the channel accounts they are members of; owners and admins see
every conversation of their workspace; nothing crosses workspaces; invisible and missing look the
same (404).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select, update

from bandeja.core.channels.models import Platform
from bandeja.core.contacts.models import Contact
from bandeja.core.users.models import ApiToken, Role
from tests.support.factory import PASSWORD


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str), body
    assert body["error"]["message"], body


async def _workspace(db, factory) -> SimpleNamespace:
    """One workspace: an owner, an admin, an agent who is a member of `mine` only, and a
    conversation on each of `mine` and `other`."""
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga Owner")
    admin, _ = await factory.user(ws, Role.admin, name="Adam Admin")
    agent, _ = await factory.user(ws, Role.agent, name="Ana Agent")
    mine = await factory.channel(ws, Platform.instagram, members=[agent])
    other = await factory.channel(ws, Platform.x)
    visible, _ = await factory.message(mine, person="v1", name="Vera Visible", text="visible")
    hidden, _ = await factory.message(other, person="h1", name="Hugo Hidden", text="hidden")
    w = SimpleNamespace(
        ws=ws,
        owner=owner,
        admin=admin,
        agent=agent,
        mine=mine,
        other=other,
        visible=visible,
        hidden=hidden,
        owner_h=bearer(await factory.token(ws, owner)),
        admin_h=bearer(await factory.token(ws, admin)),
        agent_h=bearer(await factory.token(ws, agent)),
    )
    await db.commit()
    return w


async def test_agent_lists_only_conversations_of_their_channel_accounts(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.get("/api/v1/conversations", headers=w.agent_h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["id"] for c in body["items"]] == [w.visible.id]
    assert body["counts"]["total"] == 1
    assert sum(body["counts"]["status"].values()) == 1
    # Narrowing to the hidden channel account must not widen the scope.
    r = await client.get("/api/v1/conversations", headers=w.agent_h, params={"channel": w.other.id})
    assert r.json()["items"] == []
    assert r.json()["counts"]["total"] == 0
    # The built-in view counts obey the same scope.
    views = (await client.get("/api/v1/views", headers=w.agent_h)).json()
    assert {v["id"]: v["count"] for v in views}["open"] == 1
    # So do the channel accounts the agent is shown.
    channels = (await client.get("/api/v1/channel-accounts", headers=w.agent_h)).json()
    assert [c["id"] for c in channels] == [w.mine.id]


async def test_owner_and_admin_see_every_conversation(db, factory, client):
    w = await _workspace(db, factory)
    for headers in (w.owner_h, w.admin_h):
        r = await client.get("/api/v1/conversations", headers=headers)
        assert {c["id"] for c in r.json()["items"]} == {w.visible.id, w.hidden.id}
        assert r.json()["counts"]["total"] == 2
        opened = await client.get(f"/api/v1/conversations/{w.hidden.id}", headers=headers)
        assert opened.status_code == 200, opened.text
        assert opened.json()["conversation"]["snippet"] == "hidden"
        channels = (await client.get("/api/v1/channel-accounts", headers=headers)).json()
        assert {c["id"] for c in channels} == {w.mine.id, w.other.id}


async def test_agent_cannot_open_a_conversation_of_another_channel_account(db, factory, client):
    w = await _workspace(db, factory)
    ok = await client.get(f"/api/v1/conversations/{w.visible.id}", headers=w.agent_h)
    assert ok.status_code == 200, ok.text
    for path in (
        f"/api/v1/conversations/{w.hidden.id}",
        f"/api/v1/conversations/{w.hidden.id}/messages",
    ):
        r = await client.get(path, headers=w.agent_h)
        assert_error(r, 404, "not_found")
        assert "hidden" not in r.text
    # Invisible and missing look the same.
    missing = await client.get("/api/v1/conversations/987654", headers=w.agent_h)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_agent_cannot_act_on_a_conversation_of_another_channel_account(db, factory, client):
    w = await _workspace(db, factory)
    tag = (await client.post("/api/v1/tags", headers=w.agent_h, json={"name": "vip"})).json()
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    actions = [
        ("assign", {"assignee_id": w.agent.id}),
        ("assign", {"assignee_id": None}),
        ("team", {"team_id": None}),
        ("tags", {"add": [tag["id"]]}),
        ("complete", None),
        ("reopen", None),
        ("follow-up", {"until": later}),
        ("priority", {"priority": "high"}),
        ("read", None),
        ("unread", None),
        ("notes", {"text": "sneaky note"}),
    ]
    for action, body in actions:
        r = await client.post(
            f"/api/v1/conversations/{w.hidden.id}/{action}", headers=w.agent_h, json=body
        )
        assert r.status_code == 404, (action, r.text)
        assert r.json()["error"]["code"] == "not_found"
    # Nothing happened to it.
    opened = (await client.get(f"/api/v1/conversations/{w.hidden.id}", headers=w.owner_h)).json()
    assert opened["conversation"]["status"] == "open"
    assert opened["conversation"]["assignee"] is None
    assert opened["conversation"]["tags"] == []
    assert opened["conversation"]["priority"] == "none"
    assert opened["notes"] == []
    assert opened["activity"] == []


async def test_agent_cannot_connect_channel_accounts(db, factory, client):
    w = await _workspace(db, factory)
    body = {
        "platform": "telegram",
        "external_id": "bot-1",
        "name": "Bot",
        "credentials": {"bot_token": "tok"},
    }
    r = await client.post("/api/v1/channel-accounts", headers=w.agent_h, json=body)
    assert_error(r, 403, "permission_denied")
    channels = (await client.get("/api/v1/channel-accounts", headers=w.owner_h)).json()
    assert {c["platform"] for c in channels} == {"instagram", "x"}
    r = await client.post("/api/v1/channel-accounts", headers=w.admin_h, json=body)
    assert r.status_code == 201, r.text


async def test_agent_cannot_create_or_change_teams(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post("/api/v1/teams", headers=w.agent_h, json={"name": "Care"})
    assert_error(r, 403, "permission_denied")
    team = await client.post(
        "/api/v1/teams", headers=w.admin_h, json={"name": "Care", "member_ids": [w.agent.id]}
    )
    assert team.status_code == 201, team.text
    r = await client.put(
        f"/api/v1/teams/{team.json()['id']}",
        headers=w.agent_h,
        json={"name": "Renamed", "member_ids": []},
    )
    assert_error(r, 403, "permission_denied")
    teams = (await client.get("/api/v1/teams", headers=w.agent_h)).json()
    assert [(t["name"], t["member_ids"]) for t in teams] == [("Care", [w.agent.id])]


async def test_agent_cannot_add_members_or_change_roles_and_access(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post(
        "/api/v1/users",
        headers=w.agent_h,
        json={"email": "new@example.com", "name": "New", "password": "x" * 12},
    )
    assert_error(r, 403, "permission_denied")
    for patch in ({"role": "admin"}, {"channel_account_ids": [w.mine.id, w.other.id]}):
        r = await client.patch(f"/api/v1/users/{w.agent.id}", headers=w.agent_h, json=patch)
        assert_error(r, 403, "permission_denied")
    r = await client.patch(f"/api/v1/users/{w.admin.id}", headers=w.agent_h, json={"name": "X"})
    assert_error(r, 403, "permission_denied")
    # An agent may change their own name.
    r = await client.patch(
        f"/api/v1/users/{w.agent.id}", headers=w.agent_h, json={"name": "Ana Renamed"}
    )
    assert r.status_code == 200, r.text
    users = {u["id"]: u for u in (await client.get("/api/v1/users", headers=w.owner_h)).json()}
    assert "new@example.com" not in {u["email"] for u in users.values()}
    assert users[w.agent.id]["role"] == "agent"
    assert users[w.agent.id]["channel_account_ids"] == [w.mine.id]
    assert users[w.agent.id]["name"] == "Ana Renamed"
    assert users[w.admin.id]["name"] == "Adam Admin"


async def test_agent_cannot_rename_or_delete_tags(db, factory, client):
    w = await _workspace(db, factory)
    tag = (await client.post("/api/v1/tags", headers=w.agent_h, json={"name": "billing"})).json()
    r = await client.put(f"/api/v1/tags/{tag['id']}", headers=w.agent_h, json={"name": "money"})
    assert_error(r, 403, "permission_denied")
    r = await client.delete(f"/api/v1/tags/{tag['id']}", headers=w.agent_h)
    assert_error(r, 403, "permission_denied")
    tags = (await client.get("/api/v1/tags", headers=w.agent_h)).json()
    assert [t["name"] for t in tags] == ["billing"]
    r = await client.put(f"/api/v1/tags/{tag['id']}", headers=w.admin_h, json={"name": "money"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "money", r.text


async def test_agent_can_create_tags_views_and_notes(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post("/api/v1/tags", headers=w.agent_h, json={"name": "Refund"})
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/views",
        headers=w.agent_h,
        json={"name": "My IG", "filters": {"platforms": ["instagram"]}},
    )
    assert r.status_code == 201, r.text
    assert r.json()["owner_id"] == w.agent.id
    assert r.json()["shared"] is False
    r = await client.post(
        f"/api/v1/conversations/{w.visible.id}/notes", headers=w.agent_h, json={"text": "checking"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["author_id"] == w.agent.id


async def test_only_owners_grant_or_take_the_owner_role(db, factory, client):
    w = await _workspace(db, factory)
    new_owner = {"email": "boss@example.com", "name": "Boss", "password": "x" * 12, "role": "owner"}
    r = await client.post("/api/v1/users", headers=w.admin_h, json=new_owner)
    assert_error(r, 403, "permission_denied")
    r = await client.patch(f"/api/v1/users/{w.agent.id}", headers=w.admin_h, json={"role": "owner"})
    assert_error(r, 403, "permission_denied")
    r = await client.patch(f"/api/v1/users/{w.owner.id}", headers=w.admin_h, json={"role": "agent"})
    assert_error(r, 403, "permission_denied")
    r = await client.patch(f"/api/v1/users/{w.admin.id}", headers=w.admin_h, json={"role": "owner"})
    assert_error(r, 403, "permission_denied")
    roles = {
        u["id"]: u["role"] for u in (await client.get("/api/v1/users", headers=w.owner_h)).json()
    }
    assert roles == {w.owner.id: "owner", w.admin.id: "admin", w.agent.id: "agent"}
    # Admins still manage the other roles.
    r = await client.patch(f"/api/v1/users/{w.agent.id}", headers=w.admin_h, json={"role": "admin"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "admin", r.text
    # Owners grant it.
    r = await client.patch(f"/api/v1/users/{w.agent.id}", headers=w.owner_h, json={"role": "owner"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "owner", r.text
    r = await client.post("/api/v1/users", headers=w.owner_h, json=new_owner)
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "owner", r.text


async def test_last_owner_cannot_be_demoted(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.patch(f"/api/v1/users/{w.owner.id}", headers=w.owner_h, json={"role": "admin"})
    assert_error(r, 422, "invalid_input")
    me = (await client.get("/api/v1/auth/me", headers=w.owner_h)).json()
    assert me["role"] == "owner"
    # With a second owner, one of them may step down.
    r = await client.patch(f"/api/v1/users/{w.admin.id}", headers=w.owner_h, json={"role": "owner"})
    assert r.status_code == 200, r.text
    r = await client.patch(f"/api/v1/users/{w.owner.id}", headers=w.owner_h, json={"role": "admin"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "admin", r.text
    # And now the remaining one is the last.
    r = await client.patch(f"/api/v1/users/{w.admin.id}", headers=w.admin_h, json={"role": "agent"})
    assert_error(r, 422, "invalid_input")


async def _two_workspaces(db, factory, client) -> tuple[SimpleNamespace, SimpleNamespace]:
    a = await _workspace(db, factory)
    b = await _workspace(db, factory)
    b.tag = (await client.post("/api/v1/tags", headers=b.owner_h, json={"name": "b-tag"})).json()
    b.team = (
        await client.post(
            "/api/v1/teams", headers=b.owner_h, json={"name": "b-team", "member_ids": [b.owner.id]}
        )
    ).json()
    b.view = (
        await client.post(
            "/api/v1/views", headers=b.owner_h, json={"name": "b-view", "shared": True}
        )
    ).json()
    await client.post(
        f"/api/v1/conversations/{b.visible.id}/tags", headers=b.owner_h, json={"add": [b.tag["id"]]}
    )
    await client.post(
        f"/api/v1/conversations/{b.visible.id}/team",
        headers=b.owner_h,
        json={"team_id": b.team["id"]},
    )
    await client.post(
        f"/api/v1/conversations/{b.visible.id}/assign",
        headers=b.owner_h,
        json={"assignee_id": b.owner.id},
    )
    return a, b


async def test_a_token_of_one_workspace_cannot_reach_conversations_of_another(db, factory, client):
    a, b = await _two_workspaces(db, factory, client)
    conv = b.visible.id
    for r in (
        await client.get(f"/api/v1/conversations/{conv}", headers=a.owner_h),
        await client.get(f"/api/v1/conversations/{conv}/messages", headers=a.owner_h),
        await client.post(f"/api/v1/conversations/{conv}/complete", headers=a.owner_h),
        await client.post(
            f"/api/v1/conversations/{conv}/assign",
            headers=a.owner_h,
            json={"assignee_id": a.owner.id},
        ),
        await client.post(
            f"/api/v1/conversations/{conv}/notes", headers=a.owner_h, json={"text": "hi"}
        ),
    ):
        assert_error(r, 404, "not_found")
    listed = (await client.get("/api/v1/conversations", headers=a.owner_h)).json()
    assert {c["id"] for c in listed["items"]} == {a.visible.id, a.hidden.id}
    opened = (await client.get(f"/api/v1/conversations/{conv}", headers=b.owner_h)).json()
    assert opened["conversation"]["status"] == "open"
    assert opened["notes"] == []


async def test_a_token_of_one_workspace_cannot_reach_other_resources_of_another(
    db, factory, client
):
    a, b = await _two_workspaces(db, factory, client)
    h = a.owner_h
    contact_id = b.visible.contact_id
    not_found = [
        await client.get(f"/api/v1/contacts/{contact_id}", headers=h),
        await client.patch(f"/api/v1/contacts/{contact_id}", headers=h, json={"name": "Pwned"}),
        await client.post(
            f"/api/v1/contacts/{a.visible.contact_id}/merge",
            headers=h,
            json={"source_id": contact_id},
        ),
        await client.put(f"/api/v1/views/{b.view['id']}", headers=h, json={"name": "Pwned"}),
        await client.delete(f"/api/v1/views/{b.view['id']}", headers=h),
        await client.get("/api/v1/conversations", headers=h, params={"view": b.view["id"]}),
        await client.put(f"/api/v1/tags/{b.tag['id']}", headers=h, json={"name": "Pwned"}),
        await client.delete(f"/api/v1/tags/{b.tag['id']}", headers=h),
        await client.put(
            f"/api/v1/teams/{b.team['id']}", headers=h, json={"name": "Pwned", "member_ids": []}
        ),
        await client.patch(f"/api/v1/users/{b.agent.id}", headers=h, json={"name": "Pwned"}),
    ]
    for r in not_found:
        assert_error(r, 404, "not_found")
    # Another workspace's ids are refused as input to this workspace's conversations.
    for action, body in (
        ("tags", {"add": [b.tag["id"]]}),
        ("team", {"team_id": b.team["id"]}),
        ("assign", {"assignee_id": b.agent.id}),
    ):
        r = await client.post(
            f"/api/v1/conversations/{a.visible.id}/{action}", headers=h, json=body
        )
        assert_error(r, 422, "invalid_input")
    r = await client.patch(
        f"/api/v1/users/{a.agent.id}", headers=h, json={"channel_account_ids": [b.mine.id]}
    )
    assert_error(r, 422, "invalid_input")
    # B's data is untouched and A's lists do not show it.
    contact = (await client.get(f"/api/v1/contacts/{contact_id}", headers=b.owner_h)).json()
    assert contact["name"] == "Vera Visible"
    assert [t["name"] for t in (await client.get("/api/v1/tags", headers=b.owner_h)).json()] == [
        "b-tag"
    ]
    assert "b-tag" not in {t["name"] for t in (await client.get("/api/v1/tags", headers=h)).json()}
    assert "b-view" not in {
        v["name"] for v in (await client.get("/api/v1/views", headers=h)).json()
    }
    assert not (await client.get("/api/v1/teams", headers=h)).json()
    assert b.agent.id not in {
        u["id"] for u in (await client.get("/api/v1/users", headers=h)).json()
    }
    assert {c["id"] for c in (await client.get("/api/v1/contacts", headers=h)).json()} == {
        a.visible.contact_id,
        a.hidden.contact_id,
    }


async def test_filters_naming_another_workspaces_ids_return_nothing(db, factory, client):
    a, b = await _two_workspaces(db, factory, client)
    for params in (
        {"tag": b.tag["id"]},
        {"channel": b.mine.id},
        {"channel": b.other.id},
        {"team": b.team["id"]},
        {"contact": b.visible.contact_id},
        {"assignee": str(b.owner.id)},
    ):
        r = await client.get("/api/v1/conversations", headers=a.owner_h, params=params)
        assert r.status_code == 200, (params, r.text)
        assert r.json()["items"] == [], params
        assert r.json()["counts"]["total"] == 0, params
        assert sum(r.json()["counts"]["status"].values()) == 0, params
        # The same filter works in B, so the emptiness above is the workspace scope.
        r = await client.get("/api/v1/conversations", headers=b.owner_h, params=params)
        assert r.json()["items"], params
    # A saved view in A naming B's ids counts and lists nothing either.
    view = await client.post(
        "/api/v1/views",
        headers=a.owner_h,
        json={
            "name": "foreign",
            "filters": {"tag_ids": [b.tag["id"]], "channel_account_ids": [b.mine.id]},
        },
    )
    assert view.status_code == 201, view.text
    counts = {
        v["id"]: v["count"] for v in (await client.get("/api/v1/views", headers=a.owner_h)).json()
    }
    assert counts[view.json()["id"]] == 0
    r = await client.get(
        "/api/v1/conversations", headers=a.owner_h, params={"view": view.json()["id"]}
    )
    assert r.json()["items"] == []


async def test_personal_views_are_invisible_to_everybody_else(db, factory, client):
    w = await _workspace(db, factory)
    view = (
        await client.post(
            "/api/v1/views",
            headers=w.agent_h,
            json={"name": "Ana's", "filters": {"status": ["open"]}},
        )
    ).json()
    mine = (await client.get("/api/v1/views", headers=w.agent_h)).json()
    assert view["id"] in {v["id"] for v in mine}
    for headers in (w.owner_h, w.admin_h):
        assert view["id"] not in {
            v["id"] for v in (await client.get("/api/v1/views", headers=headers)).json()
        }
        r = await client.get("/api/v1/conversations", headers=headers, params={"view": view["id"]})
        assert_error(r, 404, "not_found")
        r = await client.put(f"/api/v1/views/{view['id']}", headers=headers, json={"name": "taken"})
        assert_error(r, 404, "not_found")
        r = await client.delete(f"/api/v1/views/{view['id']}", headers=headers)
        assert_error(r, 404, "not_found")
    r = await client.get("/api/v1/conversations", headers=w.agent_h, params={"view": view["id"]})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["items"]] == [w.visible.id]


async def test_shared_views_are_visible_to_all_but_edited_only_by_their_owner_or_admins(
    db,
    factory,
    client,
):
    w = await _workspace(db, factory)
    other_agent, _ = await factory.user(w.ws, Role.agent, name="Otto Agent")
    other_h = bearer(await factory.token(w.ws, other_agent))
    await db.commit()
    view = (
        await client.post(
            "/api/v1/views",
            headers=w.agent_h,
            json={"name": "Team IG", "shared": True, "filters": {"platforms": ["instagram"]}},
        )
    ).json()
    assert view["id"] in {
        v["id"] for v in (await client.get("/api/v1/views", headers=other_h)).json()
    }
    r = await client.get("/api/v1/conversations", headers=other_h, params={"view": view["id"]})
    assert r.status_code == 200, r.text
    r = await client.put(
        f"/api/v1/views/{view['id']}", headers=other_h, json={"name": "Hijacked", "shared": True}
    )
    assert_error(r, 403, "permission_denied")
    r = await client.delete(f"/api/v1/views/{view['id']}", headers=other_h)
    assert_error(r, 403, "permission_denied")
    names = {
        v["id"]: v["name"] for v in (await client.get("/api/v1/views", headers=w.agent_h)).json()
    }
    assert names[view["id"]] == "Team IG"
    r = await client.put(
        f"/api/v1/views/{view['id']}",
        headers=w.admin_h,
        json={"name": "Instagram", "shared": True, "filters": {"platforms": ["instagram"]}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Instagram", r.text
    r = await client.delete(f"/api/v1/views/{view['id']}", headers=w.agent_h)
    assert r.status_code == 204, r.text
    assert view["id"] not in {
        v["id"] for v in (await client.get("/api/v1/views", headers=other_h)).json()
    }


async def test_assigning_to_an_agent_who_cannot_see_the_channel_is_refused(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post(
        f"/api/v1/conversations/{w.hidden.id}/assign",
        headers=w.owner_h,
        json={"assignee_id": w.agent.id},
    )
    assert_error(r, 422, "invalid_input")
    opened = (await client.get(f"/api/v1/conversations/{w.hidden.id}", headers=w.owner_h)).json()
    assert opened["conversation"]["assignee"] is None
    assert opened["activity"] == []
    # Admins need no channel membership; agents do once they get it.
    r = await client.post(
        f"/api/v1/conversations/{w.hidden.id}/assign",
        headers=w.owner_h,
        json={"assignee_id": w.admin.id},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/v1/users/{w.agent.id}",
        headers=w.owner_h,
        json={"channel_account_ids": [w.mine.id, w.other.id]},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/conversations/{w.hidden.id}/assign",
        headers=w.owner_h,
        json={"assignee_id": w.agent.id},
    )
    assert r.status_code == 200, r.text
    assert r.json()["assignee"]["id"] == w.agent.id, r.text


async def test_unauthenticated_requests_get_401_with_the_error_body(db, factory, client):
    w = await _workspace(db, factory)
    attempts = [
        ("GET", "/api/v1/conversations", {}),
        ("GET", f"/api/v1/conversations/{w.visible.id}", {}),
        ("POST", f"/api/v1/conversations/{w.visible.id}/complete", {}),
        ("GET", "/api/v1/auth/me", {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("GET", "/api/v1/auth/me", {"Authorization": "Bearer "}),
        ("GET", "/api/v1/tags", {"Authorization": "Bearer"}),
        ("GET", "/api/v1/users", {"Cookie": "bandeja_session=not-a-session"}),
    ]
    for method, path, headers in attempts:
        r = await client.request(method, path, headers=headers)
        assert_error(r, 401, "unauthenticated")
        assert r.headers.get("www-authenticate") == "Bearer", (path, r.headers)
    opened = (await client.get(f"/api/v1/conversations/{w.visible.id}", headers=w.owner_h)).json()
    assert opened["conversation"]["status"] == "open"


async def _login(client, w) -> str:
    r = await client.post(
        "/api/v1/auth/login",
        json={"email": w.agent.email, "password": PASSWORD, "workspace": w.ws.slug},
    )
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == w.agent.id
    assert client.cookies.get("bandeja_session")
    return r.json()["csrf_token"]


async def test_cookie_sessions_need_the_csrf_header_on_unsafe_methods(db, factory, client):
    w = await _workspace(db, factory)
    csrf = await _login(client, w)
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["csrf_token"] == csrf, me.text
    assert (await client.get("/api/v1/conversations")).status_code == 200
    path = f"/api/v1/conversations/{w.visible.id}/complete"
    assert_error(await client.post(path), 403, "permission_denied")
    # One character changed (not "x" for "x": the token may end with it).
    wrong = csrf[:-1] + ("y" if csrf.endswith("x") else "x")
    assert_error(await client.post(path, headers={"X-CSRF-Token": wrong}), 403, "permission_denied")
    opened = (await client.get(f"/api/v1/conversations/{w.visible.id}")).json()
    assert opened["conversation"]["status"] == "open"
    r = await client.post(path, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "complete", r.text


async def test_a_non_ascii_csrf_header_is_refused_like_any_wrong_one(db, factory, client):
    w = await _workspace(db, factory)
    await _login(client, w)
    r = await client.post(
        f"/api/v1/conversations/{w.visible.id}/complete",
        headers={"X-CSRF-Token": "token-é".encode()},
    )
    assert_error(r, 403, "permission_denied")


async def test_wrong_password_or_workspace_does_not_log_in(db, factory, client):
    w = await _workspace(db, factory)
    other = await factory.workspace()
    await db.commit()
    for body in (
        {"email": w.agent.email, "password": PASSWORD + "!"},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": w.agent.email, "password": PASSWORD, "workspace": other.slug},
    ):
        r = await client.post("/api/v1/auth/login", json=body)
        assert_error(r, 401, "unauthenticated")
        assert "bandeja_session" not in r.cookies


async def test_logout_invalidates_the_session_cookie(db, factory, client):
    w = await _workspace(db, factory)
    csrf = await _login(client, w)
    cookie = client.cookies.get("bandeja_session")
    assert_error(await client.post("/api/v1/auth/logout"), 403, "permission_denied")
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    r = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204, r.text
    client.cookies.clear()
    # The old cookie, replayed, no longer works.
    r = await client.get("/api/v1/auth/me", headers={"Cookie": f"bandeja_session={cookie}"})
    assert_error(r, 401, "unauthenticated")


async def test_revoked_and_unknown_tokens_are_refused(db, factory, client):
    w = await _workspace(db, factory)
    assert (await client.get("/api/v1/auth/me", headers=w.agent_h)).status_code == 200
    await db.execute(
        update(ApiToken).where(ApiToken.user_id == w.agent.id).values(revoked_at=datetime.now(UTC))
    )
    await db.commit()
    assert_error(await client.get("/api/v1/auth/me", headers=w.agent_h), 401, "unauthenticated")
    assert_error(
        await client.get("/api/v1/auth/me", headers=bearer("bdj_" + "x" * 43)),
        401,
        "unauthenticated",
    )
    # A token is only good for its own workspace's member: another member's token still works.
    assert (await client.get("/api/v1/auth/me", headers=w.owner_h)).json()["user_id"] == w.owner.id


async def test_agent_sees_only_contacts_of_conversations_they_can_see(db, factory, client):
    w = await _workspace(db, factory)
    listed = (await client.get("/api/v1/contacts", headers=w.agent_h)).json()
    assert [c["id"] for c in listed] == [w.visible.contact_id]
    r = await client.get(f"/api/v1/contacts/{w.hidden.contact_id}", headers=w.agent_h)
    assert_error(r, 404, "not_found")
    r = await client.get(f"/api/v1/contacts/{w.visible.contact_id}", headers=w.agent_h)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["conversations"]] == [w.visible.id]


async def _contact_name(sessions, contact_id: int) -> str | None:
    async with sessions() as s:
        return await s.scalar(select(Contact.name).where(Contact.id == contact_id))


async def test_agent_cannot_rename_a_contact_they_cannot_see(db, factory, client, sessions):
    w = await _workspace(db, factory)
    r = await client.patch(
        f"/api/v1/contacts/{w.hidden.contact_id}",
        headers=w.agent_h,
        json={"name": "Renamed by agent"},
    )
    assert_error(r, 404, "not_found")
    # A 404 must mean that nothing was written.
    assert await _contact_name(sessions, w.hidden.contact_id) == "Hugo Hidden"


async def test_agent_cannot_merge_away_a_contact_they_cannot_see(db, factory, client, sessions):
    w = await _workspace(db, factory)
    r = await client.post(
        f"/api/v1/contacts/{w.visible.contact_id}/merge",
        headers=w.agent_h,
        json={"source_id": w.hidden.contact_id},
    )
    assert_error(r, 404, "not_found")
    assert await _contact_name(sessions, w.hidden.contact_id) == "Hugo Hidden"
    # The hidden conversation did not move onto the agent's visible contact.
    detail = (
        await client.get(f"/api/v1/contacts/{w.visible.contact_id}", headers=w.owner_h)
    ).json()
    assert [i["external_id"] for i in detail["identities"]] == ["v1"]
