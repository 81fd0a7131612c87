"""Health, docs, and the workspace resources: tags, views, teams, users, contacts, channel
accounts. Ends with a fuzz of every write route: docs/api.md promises that no input produces a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bandeja.config import Settings
from bandeja.core.channels.models import ChannelAccount, Platform
from bandeja.core.security import SecretBox
from bandeja.core.users.models import Role
from bandeja.storage.engine import create_engine
from bandeja.web.app import create_app


@pytest.fixture
async def safe_client(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that receives a 500 as a response instead of the app's exception. The tests
    using it report every 500 themselves; the app's log of each traceback only costs time."""
    monkeypatch.setattr(logging.getLogger("bandeja.web.errors"), "disabled", True)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    assert r.json()["error"]["message"], r.text


async def _workspace(db, factory) -> SimpleNamespace:
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga")
    agent, _ = await factory.user(ws, Role.agent, name="Ana")
    channel = await factory.channel(ws, Platform.instagram, members=[agent])
    conv, message = await factory.message(channel, person="p1", name="José Núñez", text="hola")
    w = SimpleNamespace(
        ws=ws,
        owner=owner,
        agent=agent,
        channel=channel,
        conv=conv,
        message=message,
        h=bearer(await factory.token(ws, owner)),
        agent_h=bearer(await factory.token(ws, agent)),
    )
    await db.commit()
    return w


async def test_health_readiness_and_docs_load(db, client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}
    r = await client.get("/api/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
    r = await client.get("/api/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/assign",
        "/api/v1/views",
        "/api/v1/tags",
        "/api/v1/teams",
        "/api/v1/users",
        "/api/v1/contacts/{contact_id}/merge",
        "/api/v1/channel-accounts",
    ):
        assert path in paths, path


async def test_readiness_is_503_when_the_database_is_unreachable(tmp_path):
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    app = create_app(
        Settings(env="test", data_dir=tmp_path, secret_key="k" * 40), engine=dead, background=False
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/readyz")
        assert (await c.get("/healthz")).status_code == 200
    await dead.dispose()
    assert_error(r, 503, "not_ready")


async def test_tags_crud_with_case_insensitive_unique_names(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post(
        "/api/v1/tags", headers=w.h, json={"name": "  VIP ", "group": "urgency", "color": "#ABCDEF"}
    )
    assert r.status_code == 201, r.text
    vip = r.json()
    assert (vip["name"], vip["group"], vip["color"]) == ("VIP", "urgency", "#abcdef")
    other = (await client.post("/api/v1/tags", headers=w.h, json={"name": "billing"})).json()
    assert_error(
        await client.post("/api/v1/tags", headers=w.h, json={"name": "vip"}), 409, "conflict"
    )
    assert_error(
        await client.put(f"/api/v1/tags/{other['id']}", headers=w.h, json={"name": "Vip"}),
        409,
        "conflict",
    )
    for bad in (
        {"name": ""},
        {"name": "   "},
        {"name": "x", "color": "red"},
        {"name": "x", "group": "mood"},
        {"name": "x" * 101},
        {"name": "x", "extra": 1},
    ):
        assert_error(await client.post("/api/v1/tags", headers=w.h, json=bad), 422, "invalid_input")
    # Renaming a tag to another spelling of its own name is fine.
    r = await client.put(
        f"/api/v1/tags/{vip['id']}", headers=w.h, json={"name": "vip", "group": "urgency"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "vip", r.text
    tags = (await client.get("/api/v1/tags", headers=w.agent_h)).json()
    assert [(t["name"], t["group"]) for t in tags] == [("billing", "other"), ("vip", "urgency")]
    # Deleting a tag takes it off conversations.
    await client.post(
        f"/api/v1/conversations/{w.conv.id}/tags",
        headers=w.h,
        json={"add": [vip["id"], other["id"]]},
    )
    r = await client.delete(f"/api/v1/tags/{vip['id']}", headers=w.h)
    assert r.status_code == 204, r.text
    opened = (await client.get(f"/api/v1/conversations/{w.conv.id}", headers=w.h)).json()
    assert [t["name"] for t in opened["conversation"]["tags"]] == ["billing"]
    assert_error(await client.delete(f"/api/v1/tags/{vip['id']}", headers=w.h), 404, "not_found")
    # The name is free again.
    assert (await client.post("/api/v1/tags", headers=w.h, json={"name": "VIP"})).status_code == 201


async def test_views_crud_with_filter_validation(db, factory, client):
    w = await _workspace(db, factory)
    filters = {
        "status": ["open"],
        "platforms": ["instagram"],
        "q": "hola",
        "since": "2020-01-01T00:00:00Z",
    }
    r = await client.post(
        "/api/v1/views", headers=w.h, json={"name": "IG open", "position": 2, "filters": filters}
    )
    assert r.status_code == 201, r.text
    view = r.json()
    assert (view["builtin"], view["shared"], view["owner_id"], view["position"]) == (
        False,
        False,
        w.owner.id,
        2,
    )
    listed = {v["id"]: v for v in (await client.get("/api/v1/views", headers=w.h)).json()}
    assert {"mine", "unassigned", "open", "follow_up", "complete", "mentions"} <= set(listed)
    assert listed[view["id"]]["count"] == 1
    assert listed[view["id"]]["filters"]["platforms"] == ["instagram"]
    assert listed[view["id"]]["filters"]["q"] == "hola"
    bad_filters = [
        {"colour": "red"},
        {"status": ["closed"]},
        {"assignee": "bob"},
        {"since": "2026-01-01T00:00:00"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"tag_ids": "1"},
        {"priorities": ["critical"]},
        {"q": "x" * 201},
    ]
    for bad in bad_filters:
        r = await client.post("/api/v1/views", headers=w.h, json={"name": "bad", "filters": bad})
        assert_error(r, 422, "invalid_input")
        r = await client.put(
            f"/api/v1/views/{view['id']}", headers=w.h, json={"name": "bad", "filters": bad}
        )
        assert_error(r, 422, "invalid_input")
    for bad_body in (
        {"name": ""},
        {"name": "  "},
        {"name": "v", "owner_id": 1},
        {"name": "v", "shared": "maybe"},
    ):
        assert_error(
            await client.post("/api/v1/views", headers=w.h, json=bad_body), 422, "invalid_input"
        )
    r = await client.put(
        f"/api/v1/views/{view['id']}",
        headers=w.h,
        json={"name": "Complete", "shared": True, "filters": {"status": ["complete"]}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["shared"] is True
    assert r.json()["filters"]["status"] == ["complete"]
    assert r.json()["filters"]["platforms"] == []  # replaced, not merged
    listed = {v["id"]: v for v in (await client.get("/api/v1/views", headers=w.agent_h)).json()}
    assert listed[view["id"]]["name"] == "Complete"
    assert listed[view["id"]]["count"] == 0
    assert (await client.delete(f"/api/v1/views/{view['id']}", headers=w.h)).status_code == 204
    assert_error(await client.delete(f"/api/v1/views/{view['id']}", headers=w.h), 404, "not_found")
    assert view["id"] not in {
        v["id"] for v in (await client.get("/api/v1/views", headers=w.h)).json()
    }


async def test_teams_are_created_listed_and_updated(db, factory, client):
    w = await _workspace(db, factory)
    stranger_ws = await factory.workspace()
    stranger, _ = await factory.user(stranger_ws, Role.owner)
    await db.commit()
    r = await client.post(
        "/api/v1/teams",
        headers=w.h,
        json={"name": " Care ", "member_ids": [w.agent.id, w.agent.id]},
    )
    assert r.status_code == 201, r.text
    care = r.json()
    assert (care["name"], care["member_ids"]) == ("Care", [w.agent.id])
    assert_error(
        await client.post("/api/v1/teams", headers=w.h, json={"name": "Care"}), 409, "conflict"
    )
    assert_error(
        await client.post(
            "/api/v1/teams", headers=w.h, json={"name": "Sales", "member_ids": [stranger.id]}
        ),
        422,
        "invalid_input",
    )
    r = await client.put(
        f"/api/v1/teams/{care['id']}",
        headers=w.h,
        json={"name": "Customer care", "member_ids": [w.owner.id]},
    )
    assert r.status_code == 200, r.text
    teams = (await client.get("/api/v1/teams", headers=w.agent_h)).json()
    assert [(t["name"], t["member_ids"]) for t in teams] == [("Customer care", [w.owner.id])]
    users = {u["id"]: u for u in (await client.get("/api/v1/users", headers=w.h)).json()}
    assert users[w.owner.id]["team_ids"] == [care["id"]]
    assert users[w.agent.id]["team_ids"] == []
    assert_error(
        await client.put("/api/v1/teams/424242", headers=w.h, json={"name": "x"}), 404, "not_found"
    )


async def test_renaming_a_team_to_a_taken_name_is_a_conflict(db, factory, safe_client):
    w = await _workspace(db, factory)
    await safe_client.post("/api/v1/teams", headers=w.h, json={"name": "Care"})
    sales = (await safe_client.post("/api/v1/teams", headers=w.h, json={"name": "Sales"})).json()
    r = await safe_client.put(
        f"/api/v1/teams/{sales['id']}", headers=w.h, json={"name": "Care", "member_ids": []}
    )
    assert_error(r, 409, "conflict")


async def test_users_are_listed_added_and_changed(db, factory, client):
    w = await _workspace(db, factory)
    r = await client.post(
        "/api/v1/users",
        headers=w.h,
        json={
            "email": "New.Person@Example.com",
            "name": " New Person ",
            "password": "long enough",
            "role": "admin",
            "locale": "it",
        },
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["email"], new["name"], new["role"], new["locale"]) == (
        "new.person@example.com",
        "New Person",
        "admin",
        "it",
    )
    assert_error(
        await client.post(
            "/api/v1/users",
            headers=w.h,
            json={"email": "NEW.person@example.com", "name": "Again", "password": "long enough"},
        ),
        409,
        "conflict",
    )
    for bad in (
        {"email": "not-an-email", "name": "x", "password": "long enough"},
        {"email": "a@example.com", "name": "x", "password": "short"},
        {"email": "a@example.com", "name": "x", "password": "long enough", "role": "boss"},
        {"email": "a@example.com", "name": "x", "password": "long enough", "locale": "fr"},
        {"email": "a@example.com", "name": "", "password": "long enough"},
    ):
        assert_error(
            await client.post("/api/v1/users", headers=w.h, json=bad), 422, "invalid_input"
        )
    r = await client.patch(
        f"/api/v1/users/{new['id']}",
        headers=w.h,
        json={"role": "agent", "channel_account_ids": [w.channel.id], "locale": "es"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["role"], r.json()["channel_account_ids"], r.json()["locale"]) == (
        "agent",
        [w.channel.id],
        "es",
    )
    assert_error(
        await client.patch(
            f"/api/v1/users/{new['id']}", headers=w.h, json={"channel_account_ids": [424242]}
        ),
        422,
        "invalid_input",
    )
    assert_error(
        await client.patch("/api/v1/users/424242", headers=w.h, json={"name": "x"}),
        404,
        "not_found",
    )
    listed = await client.get("/api/v1/users", headers=w.agent_h)
    assert {u["email"] for u in listed.json()} == {
        w.owner.email,
        w.agent.email,
        "new.person@example.com",
    }
    assert "password" not in listed.text
    assert "argon2" not in listed.text
    # The new member can log in with the password they were given.
    r = await client.post(
        "/api/v1/auth/login", json={"email": "new.person@example.com", "password": "long enough"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "agent", r.text


async def test_contact_search_finds_names_ignoring_case(db, factory, client):
    w = await _workspace(db, factory)
    await factory.message(w.channel, person="p2", name="Marta Rossi")
    await db.commit()
    for q, names in (
        ("rossi", ["Marta Rossi"]),
        ("MARTA", ["Marta Rossi"]),
        ("José", ["José Núñez"]),
        ("zzz", []),
        (None, ["José Núñez", "Marta Rossi"]),
    ):
        params = {"q": q} if q else {}
        r = await client.get("/api/v1/contacts", headers=w.h, params=params)
        assert r.status_code == 200, r.text
        assert [c["name"] for c in r.json()] == names, q
    r = await client.get("/api/v1/contacts", headers=w.h, params={"limit": 1})
    assert len(r.json()) == 1
    assert_error(
        await client.get("/api/v1/contacts", headers=w.h, params={"limit": 0}), 422, "invalid_input"
    )


async def test_contact_search_ignores_accents_like_the_inbox_search(db, factory, client):
    """The inbox's q finds "José Núñez" with "jose nunez" (docs/api.md: accents ignored); the
    contact search must find the same person with the same words."""
    w = await _workspace(db, factory)
    inbox = (await client.get("/api/v1/conversations", headers=w.h, params={"q": "jose"})).json()
    assert [c["contact"]["name"] for c in inbox["items"]] == ["José Núñez"]
    for q in ("jose", "nunez", "JOSE NUNEZ"):
        r = await client.get("/api/v1/contacts", headers=w.h, params={"q": q})
        assert [c["name"] for c in r.json()] == ["José Núñez"], q


async def test_contact_detail_rename_and_merge_across_platforms(db, factory, client):
    w = await _workspace(db, factory)
    x = await factory.channel(w.ws, Platform.x)
    x_conv, x_msg = await factory.message(x, person="@jose", name="jose_x", text="from x")
    await db.commit()
    target, source = w.conv.contact_id, x_conv.contact_id
    assert target != source
    r = await client.patch(
        f"/api/v1/contacts/{target}", headers=w.h, json={"name": " José N. ", "language": "es"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["language"]) == ("José N.", "es")
    assert_error(
        await client.patch(f"/api/v1/contacts/{target}", headers=w.h, json={"name": "   "}),
        422,
        "invalid_input",
    )
    assert_error(
        await client.post(
            f"/api/v1/contacts/{target}/merge", headers=w.h, json={"source_id": target}
        ),
        422,
        "invalid_input",
    )
    assert_error(
        await client.post(
            f"/api/v1/contacts/{target}/merge", headers=w.h, json={"source_id": 424242}
        ),
        404,
        "not_found",
    )
    r = await client.post(
        f"/api/v1/contacts/{target}/merge", headers=w.h, json={"source_id": source}
    )
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["name"] == "José N."
    assert sorted((i["platform"], i["external_id"]) for i in detail["identities"]) == [
        ("instagram", "p1"),
        ("x", "@jose"),
    ]
    assert {c["id"] for c in detail["conversations"]} == {w.conv.id, x_conv.id}
    assert all(c["contact"]["id"] == target for c in detail["conversations"])
    assert_error(await client.get(f"/api/v1/contacts/{source}", headers=w.h), 404, "not_found")
    assert_error(
        await client.post(
            f"/api/v1/contacts/{target}/merge", headers=w.h, json={"source_id": source}
        ),
        404,
        "not_found",
    )
    messages = (
        await client.get(f"/api/v1/conversations/{x_conv.id}/messages", headers=w.h)
    ).json()["items"]
    assert [(m["id"], m["author_contact_id"]) for m in messages] == [(x_msg.id, target)]
    listed = (
        await client.get("/api/v1/conversations", headers=w.h, params={"contact": target})
    ).json()
    assert {c["id"] for c in listed["items"]} == {w.conv.id, x_conv.id}
    # The next message from the merged identity lands on the merged contact.
    again, _ = await factory.message(
        x, person="@jose", text="still me", kind=x_conv.kind, thread="another-thread"
    )
    await db.commit()
    assert again.contact_id == target


async def test_channel_accounts_are_listed_and_created_and_secrets_never_leave(
    db,
    factory,
    client,
    app,
    sessions,
):
    w = await _workspace(db, factory)
    secret = "s3cr3t-" + "z" * 20
    body = {
        "platform": "whatsapp",
        "external_id": "1555000",
        "name": " Support WA ",
        "credentials": {"access_token": secret, "app_secret": secret + "-app"},
        "settings": {"api_base_url": "http://sandbox.local"},
        "member_ids": [w.agent.id],
    }
    r = await client.post("/api/v1/channel-accounts", headers=w.h, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["platform"], created["external_id"], created["name"]) == (
        "whatsapp",
        "1555000",
        "Support WA",
    )
    assert created["member_ids"] == [w.agent.id]
    assert created["settings"] == {"api_base_url": "http://sandbox.local"}
    assert_error(
        await client.post("/api/v1/channel-accounts", headers=w.h, json=body), 409, "conflict"
    )
    # The same external id on another platform is another account.
    r = await client.post(
        "/api/v1/channel-accounts", headers=w.h, json={**body, "platform": "telegram"}
    )
    assert r.status_code == 201, r.text
    telegram = r.json()
    responses = [created, telegram]
    for headers in (w.h, w.agent_h):
        for path in (
            "/api/v1/channel-accounts",
            "/api/v1/users",
            "/api/v1/conversations",
            f"/api/v1/conversations/{w.conv.id}",
            "/api/v1/views",
            "/api/v1/contacts",
        ):
            got = await client.get(path, headers=headers)
            assert got.status_code == 200, got.text
            responses.append(got.json())
    text = json.dumps(responses)
    assert secret not in text
    assert "credentials" not in text
    # At rest they are sealed, and open with the app's key.
    async with sessions() as s:
        sealed = await s.scalar(
            select(ChannelAccount.credentials_sealed).where(ChannelAccount.id == created["id"])
        )
    assert sealed
    assert secret not in sealed
    box: SecretBox = app.state.secret_box
    assert json.loads(box.open(sealed))["access_token"] == secret
    channels = (await client.get("/api/v1/channel-accounts", headers=w.agent_h)).json()
    assert {c["id"] for c in channels} == {w.channel.id, created["id"], telegram["id"]}


async def test_channel_account_members_must_be_members_of_the_workspace(db, factory, safe_client):
    w = await _workspace(db, factory)
    stranger_ws = await factory.workspace()
    stranger, _ = await factory.user(stranger_ws, Role.owner)
    await db.commit()
    for i, member_ids in enumerate(([stranger.id], [987_654])):
        r = await safe_client.post(
            "/api/v1/channel-accounts",
            headers=w.h,
            json={
                "platform": "telegram",
                "external_id": f"bot-{i}",
                "name": "Bot",
                "member_ids": member_ids,
            },
        )
        assert_error(r, 422, "invalid_input")


# --- fuzz ---------------------------------------------------------------------------------

HUGE = 10**30
# Wrong types, a huge string, integers beyond 64 bits, a NUL character (PostgreSQL text refuses it).
BAD_VALUES: list[Any] = [None, {"a": 1}, "x" * 100_000, HUGE, "nul\x00byte", [HUGE]]
NESTED_BAD_VALUES: list[Any] = [{"a": 1}, HUGE, "nul\x00byte"]
RAW_BODIES: list[bytes] = [
    b"{",
    b"null",
    b"[]",
    b"",
    b"\xff\xfe\x00",
    b'{"a": "\\ud800"}',
    b"[" * 5000,
]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(schema: dict[str, Any], components: dict[str, Any], name: str = "") -> Any:
    """A plausible valid value for a JSON schema (so that one bad field is the only problem)."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, components).get("type") != "null"]
            return example(options[0], components, name) if options else None
    if "default" in schema and schema["default"] not in (None, [], {}):
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(v, components, k) for k, v in props.items()}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "email" or name == "email":
            return "fuzz@example.com"
        if schema.get("format") == "date-time":
            return (datetime.now(UTC) + timedelta(days=1)).isoformat()
        if name == "color":
            return "#123456"
        pattern = schema.get("pattern", "")
        if pattern.startswith("^(") and pattern.endswith(")$"):
            return pattern[2:-2].split("|")[0]
        length = max(schema.get("minLength", 0), 8)
        return ("fuzz" * 50)[: min(length, schema.get("maxLength", length))]
    return "fuzz"


def _bodies(schema: dict[str, Any] | None, components: dict[str, Any]) -> list[tuple[str, Any]]:
    """(description, JSON value or raw bytes) to send."""
    out: list[tuple[str, Any]] = [(f"raw {raw[:20]!r}", raw) for raw in RAW_BODIES]
    if schema is None:
        return [*out, ("object", {"unexpected": 1})]
    base = example(schema, components)
    out.append(("valid", base))
    out.append(("empty object", {}))
    props = _resolve(schema, components).get("properties", {})
    for name, sub in props.items():
        for bad in BAD_VALUES:
            out.append((f"{name}={_short(bad)}", {**base, name: bad}))
        nested = _resolve(sub, components)
        for inner in nested.get("properties", {}):
            for bad in NESTED_BAD_VALUES:
                out.append(
                    (f"{name}.{inner}={_short(bad)}", {**base, name: {**base[name], inner: bad}})
                )
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 30 else text[:27] + "..."


async def _fuzz_world(db, factory, client) -> tuple[dict[str, str], dict[str, int]]:
    w = await _workspace(db, factory)
    tag = (await client.post("/api/v1/tags", headers=w.h, json={"name": "t"})).json()
    team = (await client.post("/api/v1/teams", headers=w.h, json={"name": "T"})).json()
    view = (await client.post("/api/v1/views", headers=w.h, json={"name": "v"})).json()
    ids = {
        "conversation_id": w.conv.id,
        "message_id": w.message.id,
        "tag_id": tag["id"],
        "team_id": team["id"],
        "view_id": view["id"],
        "user_id": w.agent.id,
        "contact_id": w.conv.contact_id,
    }
    return w.h, ids


async def test_fuzzed_bodies_on_every_write_route_never_produce_a_500(
    db, factory, safe_client, monkeypatch
):
    headers, ids = await _fuzz_world(db, factory, safe_client)
    spec = (await safe_client.get("/api/openapi.json")).json()
    components = spec.get("components", {}).get("schemas", {})
    failures: list[str] = []
    routes = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            routes += 1
            url = path
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", str(ids.get(param["name"], 1)))
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for label, body in _bodies(content.get("schema"), components):
                kwargs: dict[str, Any] = (
                    {"content": body, "headers": {**headers, "Content-Type": "application/json"}}
                    if isinstance(body, bytes)
                    else {"json": body, "headers": headers}
                )
                r = await safe_client.request(method.upper(), url, **kwargs)
                if r.status_code >= 500:
                    failures.append(f"{method.upper()} {path} [{label}] -> {r.status_code}")
    assert routes >= 15
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures)


async def test_out_of_range_ids_in_paths_and_queries_never_produce_a_500(db, factory, safe_client):
    headers, ids = await _fuzz_world(db, factory, safe_client)
    spec = (await safe_client.get("/api/openapi.json")).json()
    failures: list[str] = []
    for path, operations in spec["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            for value in (str(HUGE), str(-HUGE), "-1", "0", "1e3", "12abc"):
                url = path
                for name in ids:
                    url = url.replace("{" + name + "}", value)
                r = await safe_client.request(method.upper(), url, headers=headers, json={})
                if r.status_code >= 500:
                    failures.append(f"{method.upper()} {url[:60]} -> {r.status_code}")
    for name in ("team", "channel", "contact", "tag", "assignee", "view"):
        for value in (str(HUGE), str(2**63)):
            r = await safe_client.get(
                "/api/v1/conversations", headers=headers, params={name: value}
            )
            if r.status_code >= 500:
                failures.append(f"GET /api/v1/conversations?{name}={value[:8]}… -> {r.status_code}")
    for q in ("nul\x00byte", "\U0001f600 emoji", "a" * 200, "_", "'\"\\:*&|!()"):
        r = await safe_client.get("/api/v1/conversations", headers=headers, params={"q": q})
        if r.status_code >= 500:
            failures.append(f"GET /api/v1/conversations?q={q[:20]!r} -> {r.status_code}")
        r = await safe_client.get("/api/v1/contacts", headers=headers, params={"q": q})
        if r.status_code >= 500:
            failures.append(f"GET /api/v1/contacts?q={q[:20]!r} -> {r.status_code}")
    assert not failures, f"{len(failures)} requests answered 5xx:\n" + "\n".join(failures)


async def test_a_view_naming_an_out_of_range_id_is_refused_and_views_keep_loading(
    db, factory, safe_client
):
    """A shared view is loaded (and counted) by every member: one that cannot be queried must be
    refused when saved, not break ``GET /views`` for the whole workspace afterwards."""
    w = await _workspace(db, factory)
    r = await safe_client.post(
        "/api/v1/views",
        headers=w.agent_h,
        json={"name": "poison", "shared": True, "filters": {"tag_ids": [HUGE]}},
    )
    assert_error(r, 422, "invalid_input")
    for headers in (w.h, w.agent_h):
        r = await safe_client.get("/api/v1/views", headers=headers)
        assert r.status_code == 200, r.text
