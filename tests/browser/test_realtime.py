"""Realtime collaboration in real browsers: two agents, each in a browser context of their own.

Olivia (A) and Tom (B) open the same conversation: each sees the other, and who is typing.
A replies while B is drafting: B's reply is refused with A's words shown, until B sends anyway.
A customer's message reaches B's list and counts without a reload; an assignment raises B's
notification badge; a browser that goes away disappears from presence when its entry expires.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bandeja.core.channels.models import Platform
from tests.browser.conftest import OWNER, Server, new_context

TOM = ("tom@cafe-aurora.example", "demo-admin-pass")
# How long a webhook may take to become a conversation the API lists (processed in background).
INGEST_TIMEOUT_S = 20.0

Login = Callable[[Page, str, str], None]


@pytest.fixture
def second(browser: Browser, base_url: str) -> Iterator[Callable[[], tuple[BrowserContext, Page]]]:
    """More browsers (contexts: their own cookies, so their own agent), closed at the end."""
    made: list[BrowserContext] = []

    def make() -> tuple[BrowserContext, Page]:
        context = new_context(browser, base_url)
        made.append(context)
        return context, context.new_page()

    yield make
    for context in made:
        with contextlib.suppress(Exception):  # closed by the test already
            context.close()


def csrf(page: Page) -> str:
    token: str = page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
    )
    return token


def user_id(page: Page) -> str:
    found = page.locator("body").get_attribute("data-user")
    assert found
    return found


def conversation_of(page: Page, name: str) -> int:
    """The id of the conversation of the customer ``name``, once the webhook is processed."""
    deadline = time.monotonic() + INGEST_TIMEOUT_S
    while True:
        listed = page.request.get("/api/v1/conversations?limit=20&counts=false")
        assert listed.ok, listed.text()
        for item in listed.json()["items"]:
            if item["contact"]["name"] == name:
                return int(item["id"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no conversation for {name}")
        page.wait_for_timeout(300)


def outbound_texts(page: Page, conversation_id: int) -> list[str]:
    r = page.request.get(f"/api/v1/conversations/{conversation_id}/messages?limit=50")
    assert r.ok, r.text()
    items: list[dict[str, Any]] = r.json()["items"]
    return [m["text"] for m in sorted(items, key=lambda m: m["id"]) if m["direction"] == "outbound"]


def open_conversation(page: Page, conversation_id: int) -> None:
    page.goto(f"/inbox/c/{conversation_id}")
    expect(page.locator("#composer [data-composer]")).to_be_visible()


def count_of(page: Page, view: str) -> int:
    text = page.locator(f"#views .view-link[data-view={view}] [data-count]").inner_text()
    return int(re.sub(r"\D", "", text))


def test_presence_typing_and_the_send_guard(
    page: Page, second, login: Login, customer_writes, screenshot
) -> None:
    name = customer_writes(Platform.messenger, "Is the terrace open tonight?")
    login(page, *OWNER)  # A
    conversation_id = conversation_of(page, name)
    _, tom = second()
    login(tom, *TOM)  # B
    open_conversation(tom, conversation_id)
    open_conversation(page, conversation_id)
    olivia = user_id(page)

    # B sees A viewing, in the pane and on the list's row; then typing a reply.
    bar = tom.locator("#presence-bar")
    expect(bar.locator(f".presence-avatar[data-user='{olivia}']")).to_have_attribute(
        "data-state", "viewing"
    )
    expect(bar.locator(f".presence-avatar[data-user='{olivia}']")).to_have_text("OG")
    expect(
        tom.locator(f"#row-{conversation_id} .row-presence [data-user='{olivia}']")
    ).to_be_visible()
    a_text = "Yes! The terrace is open until 23:00."
    page.locator("#composer-reply-text").press_sequentially(a_text[:10])
    expect(bar.locator("[data-presence-typing]")).to_have_text("Olivia Grant is typing a reply…")
    screenshot(tom, "presence")

    # B drafts an answer before A's goes out.
    b_text = "Hello! Yes, we are open tonight."
    tom.locator("#composer-reply-text").fill(b_text)
    page.locator("#composer-reply-text").fill(a_text)
    # A double-clicks Send: one message (the draft's idempotency key).
    page.locator("#composer-reply button[type=submit]").dblclick()
    expect(page.locator("#composer-reply-text")).to_have_value("")
    # B's thread shows A's reply live; the typing mark is gone when A stops.
    expect(tom.locator("#thread")).to_contain_text(a_text)
    expect(bar.locator("[data-presence-typing]")).to_have_text("", timeout=10_000)

    # B's send is refused: the warning shows what A sent.
    tom.locator("#composer-reply button[type=submit]").click()
    warning = tom.locator("#composer .composer-error[data-error-code=reply_collision]")
    expect(warning).to_be_visible()
    expect(warning.locator(".composer-sent-author")).to_have_text("Olivia Grant")
    expect(warning.locator(".composer-sent-text")).to_have_text(a_text)
    expect(tom.locator("#composer-reply-text")).to_have_value(b_text)  # the draft is kept
    screenshot(tom, "collision")
    assert outbound_texts(page, conversation_id) == [a_text]

    # B discards: still A's reply alone. A draft begun now (after A's reply) goes through.
    tom.get_by_role("button", name="Discard my draft").click()
    expect(tom.locator("#composer-reply-text")).to_have_value("")
    expect(tom.locator("#composer .composer-error")).to_have_count(0)
    assert outbound_texts(page, conversation_id) == [a_text]

    # Another collision, and this time B sends anyway.
    b_text = "We also have a table inside if it rains."
    tom.locator("#composer-reply-text").fill(b_text)
    a_second = "Shall I book you a table?"
    page.locator("#composer-reply-text").fill(a_second)
    page.locator("#composer-reply button[type=submit]").click()
    expect(tom.locator("#thread")).to_contain_text(a_second)
    tom.locator("#composer-reply button[type=submit]").click()
    expect(warning.locator(".composer-sent-text")).to_have_text(a_second)
    tom.get_by_role("button", name="Send anyway").click()
    expect(tom.locator("#composer-reply-text")).to_have_value("")
    expect(tom.locator("#thread")).to_contain_text(b_text)
    assert outbound_texts(page, conversation_id) == [a_text, a_second, b_text]

    # A takes the conversation: B's pane head and list row follow without a reload.
    page.locator("#conversation details[data-menu=assign] summary").click()
    page.get_by_role("button", name="Assign to me").click()
    expect(tom.locator("#pane-head [data-assignee]")).to_have_text("Olivia Grant")
    expect(tom.locator(f"#row-{conversation_id} .assignee")).to_have_text("Olivia Grant")


def test_a_new_message_reaches_an_open_list_live(page: Page, login: Login, customer_writes) -> None:
    login(page, *TOM)
    page.goto("/inbox?view=open")
    expect(page.locator("#rows li.row").first).to_be_visible()
    before = count_of(page, "open")
    page.wait_for_timeout(300)  # the event stream is open
    name = customer_writes(Platform.telegram, "Do you have gluten-free cakes?")
    # The list re-sorts in place: the new conversation on top, the counts one more.
    expect(page.locator("#rows li.row").first.locator(".name")).to_have_text(name)
    expect(page.locator("#views .view-link[data-view=open] [data-count]")).not_to_have_text(
        str(before)
    )
    assert count_of(page, "open") == before + 1
    expect(page.locator("#list-fresh")).to_be_hidden()

    # In the middle of a bulk selection rows stay where they are: the button offers the news.
    page.locator("#rows li.row").nth(1).locator("input.pick").check()
    picked = page.locator("#rows li.row").nth(1).get_attribute("data-id")
    other = customer_writes(Platform.telegram, "And vegan ones?")
    expect(page.locator("#list-fresh")).to_be_visible()
    expect(page.locator("#rows li.row .name", has_text=other)).to_have_count(0)
    expect(page.locator(f"#row-{picked} input.pick")).to_be_checked()
    assert page.locator("#rows li.row").nth(1).get_attribute("data-id") == picked
    page.locator("#list-fresh").click()
    expect(page.locator("#rows li.row").first.locator(".name")).to_have_text(other)


def test_an_assignment_raises_the_notification_badge(
    page: Page, second, login: Login, customer_writes, screenshot
) -> None:
    name = customer_writes(Platform.whatsapp, "Can I change my order?")
    _, tom = second()
    login(tom, *TOM)
    read_all = tom.request.post(
        "/api/v1/notifications/read", headers={"X-CSRF-Token": csrf(tom)}, data={"all": True}
    )
    assert read_all.ok, read_all.text()
    badge = tom.locator("#notif-badge")
    expect(badge).to_be_hidden()
    login(page, *OWNER)
    conversation_id = conversation_of(page, name)
    assigned = page.request.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers={"X-CSRF-Token": csrf(page)},
        data={"assignee_id": int(user_id(tom))},
    )
    assert assigned.ok, assigned.text()
    # Live, without a reload: the badge, and a toast.
    expect(badge).to_have_text("1")
    expect(tom.locator("#toasts")).to_contain_text("A conversation was assigned to you.")
    tom.locator("#notifications summary").click()
    item = tom.locator("#notif-panel .notif").first
    expect(item).to_contain_text("Olivia Grant assigned you a conversation")
    expect(item).to_contain_text(name)
    expect(item).to_have_class(re.compile(r"\bunread\b"))
    screenshot(tom, "notifications")
    # A click opens the conversation and marks the notification read (for Tom only).
    item.locator("a").click()
    expect(tom.locator("#conversation")).to_have_attribute("data-id", str(conversation_id))
    expect(badge).to_be_hidden()
    unread = tom.request.get("/api/v1/notifications/unread").json()["unread"]
    assert unread == 0
    # "Mark all read" with another one waiting.
    page.request.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers={"X-CSRF-Token": csrf(page)},
        data={"assignee_id": None},
    )
    page.request.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers={"X-CSRF-Token": csrf(page)},
        data={"assignee_id": int(user_id(tom))},
    )
    expect(badge).to_have_text("1")
    tom.locator("#notifications summary").click()
    tom.get_by_role("button", name="Mark all read").click()
    expect(badge).to_be_hidden()
    expect(tom.locator("#notif-panel .notif.unread")).to_have_count(0)


def test_presence_leaves_with_the_browser(
    page: Page, second, login: Login, customer_writes, server: Server
) -> None:
    first = customer_writes(Platform.instagram, "Do you sell gift cards?")
    login(page, *TOM)  # the one who watches
    conversation_id = conversation_of(page, first)
    open_conversation(page, conversation_id)
    context, olivia_page = second()
    login(olivia_page, *OWNER)
    olivia = user_id(olivia_page)
    open_conversation(olivia_page, conversation_id)
    avatar = page.locator(f"#presence-bar .presence-avatar[data-user='{olivia}']")
    expect(avatar).to_be_visible()
    ttl = server.settings.presence_ttl_s

    # Switching to another conversation says so at once (well before the entry would expire).
    olivia_page.locator(f"#rows li.row:not(#row-{conversation_id}) a.row-link").first.click()
    expect(olivia_page.locator("#conversation")).not_to_have_attribute(
        "data-id", str(conversation_id)
    )
    expect(avatar).to_have_count(0, timeout=int(ttl * 1000 / 2))
    olivia_page.locator(f"#row-{conversation_id} a.row-link").click()
    expect(avatar).to_be_visible()

    # Olivia's browser vanishes (no chance to say goodbye): her entry expires after the TTL.
    context.set_offline(True)
    gone_at = time.monotonic()
    context.close()
    expect(avatar).to_have_count(0, timeout=int((ttl + 6) * 1000))
    assert time.monotonic() - gone_at <= ttl + 6
    entries = page.request.get(f"/api/v1/presence?conversation={conversation_id}").json()
    assert [e for e in entries["items"] if str(e["user_id"]) == olivia] == []
