"""Saved replies through the API: personal and shared, variables checked when saved, the
contact's language chosen and variables filled when rendered for a conversation."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from bandeja.core.activity.models import Activity
from bandeja.core.contacts.models import ContactIdentity
from bandeja.core.users.models import Role

URL = "/api/v1/saved-replies"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reply(name: str = "Thanks", *, shared: bool = False, shortcut: str | None = None) -> dict:
    return {
        "name": name,
        "shortcut": shortcut,
        "shared": shared,
        "variants": [
            {"language": "en", "body": "Hi {{contact.first_name}}, thanks! {{agent.first_name}}"},
            {"language": "es", "body": "¡Hola {{contact.first_name}}! Gracias, {{agent.name}}"},
            {"language": "it", "body": "Ciao {{contact.first_name}}, grazie da {{workspace.name}}"},
        ],
    }


async def _setup(db, factory) -> SimpleNamespace:
    ws = await factory.workspace()
    owner, _ = await factory.user(ws, Role.owner, name="Olga Owner")
    ana, _ = await factory.user(ws, Role.agent, name="Ana Lima")
    bruno, _ = await factory.user(ws, Role.agent, name="Bruno Díaz")
    channel = await factory.channel(ws, members=[ana, bruno])
    hidden = await factory.channel(ws, members=[])
    conv, _ = await factory.message(channel, person="c1", name="Lucía Fernández")
    other_conv, _ = await factory.message(hidden, person="c2", name="Giulia")
    ws2 = await factory.workspace()
    stranger, _ = await factory.user(ws2, Role.owner)
    w = SimpleNamespace(
        ws=ws,
        owner=owner,
        ana=ana,
        conv=conv,
        other_conv=other_conv,
        owner_h=bearer(await factory.token(ws, owner)),
        ana_h=bearer(await factory.token(ws, ana)),
        bruno_h=bearer(await factory.token(ws, bruno)),
        stranger_h=bearer(await factory.token(ws2, stranger)),
    )
    await db.commit()
    return w


async def test_shared_reply_crud_and_visibility(db, factory, client):
    w = await _setup(db, factory)
    # Agents may not write shared replies.
    r = await client.post(URL, headers=w.ana_h, json=reply(shared=True))
    assert r.status_code == 403, r.text
    r = await client.post(URL, headers=w.owner_h, json=reply(shared=True, shortcut="thanks"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["shared"] is True
    assert created["owner_id"] is None
    assert [v["language"] for v in created["variants"]] == ["en", "es", "it"]
    rid = created["id"]
    # Everyone in the workspace sees it; another workspace does not.
    assert [x["id"] for x in (await client.get(URL, headers=w.ana_h)).json()] == [rid]
    assert (await client.get(URL, headers=w.stranger_h)).json() == []
    assert (await client.get(f"{URL}/{rid}", headers=w.stranger_h)).status_code == 404
    # Search by name or shortcut.
    assert len((await client.get(URL, headers=w.ana_h, params={"q": "/THA"})).json()) == 1
    assert (await client.get(URL, headers=w.ana_h, params={"q": "zzz"})).json() == []
    # Agents cannot change or delete it.
    body = reply("Thanks a lot", shared=True, shortcut="thanks")
    assert (await client.put(f"{URL}/{rid}", headers=w.ana_h, json=body)).status_code == 403
    assert (await client.delete(f"{URL}/{rid}", headers=w.ana_h)).status_code == 403
    body["variants"] = [{"language": "it", "body": "Grazie {{contact.name}}"}]
    r = await client.put(f"{URL}/{rid}", headers=w.owner_h, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Thanks a lot"
    assert r.json()["variants"] == [{"language": "it", "body": "Grazie {{contact.name}}"}]
    assert (await client.delete(f"{URL}/{rid}", headers=w.owner_h)).status_code == 204
    assert (await client.get(f"{URL}/{rid}", headers=w.owner_h)).status_code == 404
    verbs = (
        await db.execute(
            select(Activity.verb).where(Activity.workspace_id == w.ws.id).order_by(Activity.id)
        )
    ).scalars()
    assert [v for v in verbs if v.startswith("saved_reply")] == [
        "saved_reply.created",
        "saved_reply.updated",
        "saved_reply.deleted",
    ]


async def test_personal_replies_belong_to_their_author(db, factory, client):
    w = await _setup(db, factory)
    r = await client.post(URL, headers=w.ana_h, json=reply("Mine"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["owner_id"] == w.ana.id
    # Neither a teammate nor an admin sees (or can touch) someone's personal reply.
    for headers in (w.bruno_h, w.owner_h):
        assert (await client.get(URL, headers=headers)).json() == []
        assert (await client.get(f"{URL}/{rid}", headers=headers)).status_code == 404
        assert (await client.delete(f"{URL}/{rid}", headers=headers)).status_code == 404
    r = await client.put(f"{URL}/{rid}", headers=w.ana_h, json=reply("Mine, renamed"))
    assert r.status_code == 200
    assert r.json()["name"] == "Mine, renamed"
    assert (await client.delete(f"{URL}/{rid}", headers=w.ana_h)).status_code == 204


async def test_bad_input_is_refused_clearly(db, factory, client):
    w = await _setup(db, factory)
    typo = reply()
    typo["variants"][1]["body"] = "Hola {{contact.firstname}}"
    r = await client.post(URL, headers=w.ana_h, json=typo)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unknown_variable"
    assert "{{contact.firstname}}" in r.json()["error"]["message"]
    unbalanced = reply()
    unbalanced["variants"][0]["body"] = "Hi {{contact.first_name"
    r = await client.post(URL, headers=w.ana_h, json=unbalanced)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unbalanced_braces"
    for bad in (
        {**reply(), "variants": []},
        {**reply(), "name": "  "},
        {**reply(), "shortcut": "Has Space"},
        {**reply(), "variants": [{"language": "en", "body": "a"}, {"language": "en", "body": "b"}]},
        {**reply(), "variants": [{"language": "english", "body": "a"}]},
        {**reply(), "variants": [{"language": "en", "body": "a\x00"}]},
    ):
        r = await client.post(URL, headers=w.ana_h, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    assert (await client.get(URL, headers=w.ana_h)).json() == []
    # A shortcut means one reply.
    r = await client.post(URL, headers=w.ana_h, json=reply(shortcut="hi"))
    assert r.status_code == 201
    r = await client.post(URL, headers=w.bruno_h, json=reply("Other", shortcut="hi"))
    assert r.status_code == 409, r.text
    assert (await client.get(f"{URL}/{2**63}", headers=w.ana_h)).status_code == 422


async def test_render_picks_the_language_and_fills_variables(db, factory, client):
    w = await _setup(db, factory)
    r = await client.post(URL, headers=w.owner_h, json=reply(shared=True))
    rid = r.json()["id"]
    render = f"{URL}/{rid}/render"
    # No language known: the workspace default (en).
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": w.conv.id})
    assert r.status_code == 200, r.text
    assert r.json() == {"saved_reply_id": rid, "language": "en", "text": "Hi Lucía, thanks! Ana"}
    identity = (
        await db.execute(
            select(ContactIdentity).where(ContactIdentity.contact_id == w.conv.contact_id)
        )
    ).scalar_one()
    identity.language = "es"
    await db.commit()
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": w.conv.id})
    assert r.json()["language"] == "es"
    assert r.json()["text"] == "¡Hola Lucía! Gracias, Ana Lima"
    # A language the reply lacks: the workspace default.
    identity.language = "de"
    await db.commit()
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": w.conv.id})
    assert r.json()["language"] == "en"
    # A conversation the agent cannot see, or from another workspace: 404.
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": w.other_conv.id})
    assert r.status_code == 404, r.text
    r = await client.post(render, headers=w.stranger_h, json={"conversation_id": w.conv.id})
    assert r.status_code == 404, r.text
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": "x"})
    assert r.status_code == 422


async def test_render_falls_back_to_the_first_variant(db, factory, client):
    w = await _setup(db, factory)
    body = {
        "name": "Solo italiano",
        "variants": [{"language": "it", "body": "Ciao {{contact.first_name}}!"}],
    }
    rid = (await client.post(URL, headers=w.ana_h, json=body)).json()["id"]
    r = await client.post(
        f"{URL}/{rid}/render", headers=w.ana_h, json={"conversation_id": w.conv.id}
    )
    assert r.json() == {"saved_reply_id": rid, "language": "it", "text": "Ciao Lucía!"}


async def test_render_follows_the_language_the_customer_writes_in(db, factory, client):
    """Most platforms do not say what language a person speaks: their messages do."""
    w = await _setup(db, factory)
    channel = await factory.channel(w.ws, members=[w.ana])
    conv, _ = await factory.message(
        channel, person="it1", name="Marco Rossi", text="Ciao, il pacco non è arrivato"
    )
    await factory.message(channel, person="it1", name="Marco Rossi", text="Grazie mille!")
    await db.commit()
    rid = (await client.post(URL, headers=w.owner_h, json=reply(shared=True))).json()["id"]
    render = f"{URL}/{rid}/render"
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": conv.id})
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "it"
    assert r.json()["text"].startswith("Ciao Marco, grazie da")
    # What the platform or the team says of the person comes first.
    identity = (
        await db.execute(
            select(ContactIdentity).where(ContactIdentity.contact_id == conv.contact_id)
        )
    ).scalar_one()
    identity.language = "es"
    await db.commit()
    r = await client.post(render, headers=w.ana_h, json={"conversation_id": conv.id})
    assert r.json()["language"] == "es"
