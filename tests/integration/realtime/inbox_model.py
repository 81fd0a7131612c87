"""A browser's model of the inbox, loaded from the API and kept current by events only.

It holds every conversation the user may see (all statuses: a status change needs the old row
to move the counts) and the counts of the "open" view. An event that carries the change is
applied as is; one that only names a conversation (a new message) makes it fetch that row, as
the browser does. ``assert_matches`` compares it with a fresh load.
"""

from __future__ import annotations

from typing import Any

import httpx

ROW_FIELDS = ("status", "assignee_id", "priority", "tag_ids", "team_id", "unread")


def project(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": summary["status"],
        "assignee_id": summary["assignee"]["id"] if summary["assignee"] else None,
        "priority": summary["priority"],
        "tag_ids": sorted(t["id"] for t in summary["tags"]),
        "team_id": summary["team_id"],
        "unread": summary["unread"],
        "message_count": summary["message_count"],
        "last_activity_at": summary["last_activity_at"],
        "snippet": summary["snippet"],
    }


def _nonzero(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": {k: v for k, v in counts["status"].items() if v},
        "assignee": {k: v for k, v in counts["assignee"].items() if v},
        "total": counts["total"],
    }


class InboxModel:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], me: int) -> None:
        self.client = client
        self.headers = headers
        self.me = me
        self.rows: dict[int, dict[str, Any]] = {}
        self.counts: dict[str, Any] = {}
        self.fetched: list[int] = []

    async def _get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def snapshot(self) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        page = await self._get("/api/v1/conversations", limit=200, counts="false")
        rows = {item["id"]: project(item) for item in page["items"]}
        counts = (await self._get("/api/v1/conversations", status="open", limit=1))["counts"]
        return rows, _nonzero(counts)

    async def load(self) -> None:
        self.rows, self.counts = await self.snapshot()

    async def _fetch(self, conversation_id: int) -> dict[str, Any] | None:
        self.fetched.append(conversation_id)
        response = await self.client.get(
            f"/api/v1/conversations/{conversation_id}", headers=self.headers
        )
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return project(response.json()["conversation"])

    def _count(self, row: dict[str, Any] | None, sign: int) -> None:
        if row is None:
            return
        status = self.counts["status"]
        status[row["status"]] = status.get(row["status"], 0) + sign
        if row["status"] != "open":
            return
        assignee = self.counts["assignee"]
        key = "unassigned" if row["assignee_id"] is None else str(row["assignee_id"])
        assignee[key] = assignee.get(key, 0) + sign
        if row["assignee_id"] == self.me:
            assignee["me"] = assignee.get("me", 0) + sign
        self.counts["total"] += sign

    def _replace(self, conversation_id: int, new: dict[str, Any] | None) -> None:
        self._count(self.rows.get(conversation_id), -1)
        self._count(new, +1)
        if new is None:
            self.rows.pop(conversation_id, None)
        else:
            self.rows[conversation_id] = new
        self.counts = _nonzero(self.counts)

    async def apply(self, payload: dict[str, Any]) -> None:
        kind = payload["type"]
        if kind == "conversation.changed":
            conversation_id = payload["conversation_id"]
            row = self.rows.get(conversation_id)
            if row is None:
                self._replace(conversation_id, await self._fetch(conversation_id))
                return
            new = dict(row)
            for field, value in payload["changes"].items():
                if field in ROW_FIELDS:
                    new[field] = sorted(value) if field == "tag_ids" else value
            self._replace(conversation_id, new)
        elif kind in ("conversation.created", "message.created", "message.changed"):
            conversation_id = payload["conversation_id"]
            self._replace(conversation_id, await self._fetch(conversation_id))
        elif kind == "conversation.read":
            row = self.rows.get(payload["conversation_id"])
            if row is not None:
                self.rows[payload["conversation_id"]] = {**row, "unread": not payload["read"]}
        elif kind == "reset":
            await self.load()

    async def assert_matches(self) -> None:
        rows, counts = await self.snapshot()
        assert self.rows == rows
        assert self.counts == counts
