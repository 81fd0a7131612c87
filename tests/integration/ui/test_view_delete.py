"""Deleting a saved view from the inbox: the agent's own views, shared ones for admins only."""

from __future__ import annotations

import httpx

from tests.integration.ui.test_inbox_pages import _world, hx, log_in

QUERY = "view=open&f=1&platform=instagram"


async def _save(client: httpx.AsyncClient, csrf: str, name: str, shared: bool) -> int:
    data = {"name": name, "query": QUERY, **({"shared": "true"} if shared else {})}
    r = await client.post("/inbox/views", data=data, headers=hx(csrf))
    assert r.status_code == 204, r.text
    return int(r.headers["HX-Redirect"].rsplit("=", 1)[1])


async def test_agents_delete_their_views_and_admins_the_shared_ones(db, factory, client):
    w = await _world(db, factory)
    csrf = await log_in(client, w.owner.email)
    shared = await _save(client, csrf, "Team <IG>", shared=True)
    page = await client.get(f"/inbox?view={shared}")
    assert "Delete view" in page.text
    assert "Delete the view “Team &lt;IG&gt;”?" in page.text

    csrf = await log_in(client, w.ana.email)
    mine = await _save(client, csrf, "My IG", shared=False)
    page = await client.get(f"/inbox?view={mine}")
    assert f'hx-post="/inbox/views/{mine}/delete"' in page.text
    # A shared view of someone else: used, not deleted, by an agent.
    page = await client.get(f"/inbox?view={shared}")
    assert page.status_code == 200
    assert "/delete" not in page.text
    r = await client.post(f"/inbox/views/{shared}/delete", headers=hx(csrf))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "permission_denied"

    # Without the CSRF token: refused, the view stays.
    r = await client.post(f"/inbox/views/{mine}/delete")
    assert r.status_code == 403
    assert (await client.get(f"/inbox?view={mine}")).status_code == 200

    r = await client.post(f"/inbox/views/{mine}/delete", headers=hx(csrf))
    assert r.status_code == 204, r.text
    assert r.headers["HX-Redirect"] == "/inbox"
    assert "My IG" not in (await client.get("/inbox")).text
    assert (await client.get(f"/inbox?view={mine}")).status_code == 404
    # Gone, or never there: 404, not a 500.
    r = await client.post(f"/inbox/views/{mine}/delete", headers=hx(csrf))
    assert r.status_code == 404
    r = await client.post("/inbox/views/0/delete", headers=hx(csrf))
    assert r.status_code == 422

    # The owner (an admin) deletes the shared view; a plain form goes back to the inbox.
    csrf = await log_in(client, w.owner.email)
    r = await client.post(f"/inbox/views/{shared}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert r.headers["location"] == "/inbox"
    assert "Team &lt;IG&gt;" not in (await client.get("/inbox")).text
