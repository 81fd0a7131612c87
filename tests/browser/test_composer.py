"""The composer in a real browser: a reply with the live length counter and a saved reply that
greets the contact by first name; a note with @mention suggestions; a reply refused outside the
messaging window, saying why."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import OWNER

# At most this many conversations are examined to find one in the wanted state (bounded).
MAX_CANDIDATES = 100


def csrf(page: Page) -> str:
    token: str = page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
    )
    return token


def find_conversation(page: Page, query: str, wanted: Any) -> tuple[dict, dict]:
    """The first conversation of the JSON API's list whose compose context ``wanted`` accepts."""
    listed = page.request.get(f"/api/v1/conversations?{query}&limit={MAX_CANDIDATES}&counts=false")
    assert listed.ok, listed.text()
    for item in listed.json()["items"]:
        compose = page.request.get(f"/api/v1/conversations/{item['id']}/compose").json()
        if wanted(item, compose):
            return item, compose
    raise AssertionError(f"no conversation for {query!r} in the demo data")


def first_name(name: str) -> str:
    words = name.split()
    return "" if not words or words[0].startswith("@") else words[0]


def open_conversation(page: Page, conversation_id: int) -> None:
    page.goto(f"/inbox/c/{conversation_id}")
    # The composer and the contact panel load in their own requests after the page: wait for
    # both, so that a shortcut pressed next does not race a late swap.
    expect(page.locator("#composer [data-composer]")).to_be_visible()
    expect(page.locator("#contact-panel .contact-card")).to_be_visible()


def test_reply_with_live_counter_and_saved_reply(page: Page, login, screenshot) -> None:
    login(page, *OWNER)
    suffix = str(int(time.time() * 1000))[-8:]
    created = page.request.post(
        "/api/v1/saved-replies",
        headers={"X-CSRF-Token": csrf(page)},
        data={
            "name": f"Thanks {suffix}",
            "shortcut": f"thanks-{suffix}",
            "shared": True,
            "variants": [
                {"language": "en", "body": "Hi {{contact.first_name}}, thanks for writing!"},
                {"language": "es", "body": "¡Hola {{contact.first_name}}! Gracias por escribir."},
                {"language": "it", "body": "Ciao {{contact.first_name}}, grazie del messaggio!"},
            ],
        },
    )
    assert created.status == 201, created.text()
    item, _compose = find_conversation(
        page,
        "platform=messenger&kind=dm&status=open",
        lambda item, c: c["can_reply"] and first_name(item["contact"]["name"]),
    )
    open_conversation(page, item["id"])
    composer = page.locator("#composer")
    textarea = composer.locator("#composer-reply-text")
    counter = composer.locator("#composer-reply-counter")
    expect(counter).to_have_text("2,000 characters left")
    textarea.fill("Hello")
    expect(counter).to_have_text("1,995 characters left")
    # Over the limit: the counter says by how much and Send is disabled.
    textarea.fill("x" * 2003)
    expect(counter).to_have_text("3 characters too many")
    expect(composer.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    textarea.fill("")
    # The saved reply, in the contact's language, greets them by first name.
    composer.locator("#composer-reply details.saved-picker summary").click()
    search = composer.locator("#composer-reply-saved-search")
    search.fill(suffix)
    option = composer.locator("#composer-reply-saved-list .saved-picker-item").filter(
        has_text=f"Thanks {suffix}"
    )
    expect(option).to_have_count(1)
    option.click()
    name = first_name(item["contact"]["name"])
    expect(textarea).to_have_value(re.compile(rf"^(Hi|¡Hola|Ciao) {re.escape(name)}[,!]"))
    text = textarea.input_value()
    expect(counter).to_have_text(f"{2000 - len(text):,} characters left")
    screenshot(page, "composer-reply")
    composer.get_by_role("button", name="Send", exact=True).click()
    # A fresh composer comes back (empty draft) and the thread reloads with the reply.
    expect(composer.locator("#composer-reply-text")).to_have_value("")
    expect(page.locator("#thread")).to_contain_text(text[:30])


def test_note_with_mention_autocomplete(page: Page, login, screenshot) -> None:
    login(page, *OWNER)
    item, _ = find_conversation(page, "platform=instagram&status=open", lambda i, c: True)
    open_conversation(page, item["id"])
    composer = page.locator("#composer")
    page.locator("body").press("n")  # the keyboard shortcut opens the note tab
    expect(composer.get_by_role("tab", name="Note")).to_have_attribute("aria-selected", "true")
    note = composer.locator("#composer-note-text")
    expect(note).to_be_focused()
    note.press_sequentially("Can you check this one, @to")
    suggestions = composer.locator("#composer-mention-list [role=option]")
    expect(suggestions.first).to_contain_text("Tom Hughes")
    screenshot(page, "composer-mention")
    note.press("Enter")
    expect(note).to_have_value("Can you check this one, @[Tom Hughes] ")
    expect(composer.locator("#composer-mention-list")).to_be_hidden()
    note.press_sequentially("thanks")
    composer.get_by_role("button", name="Add note").click()
    # The thread shows the mention as the teammate's name, marked.
    expect(page.locator("#thread .note .mention", has_text="@Tom Hughes")).to_be_visible()
    expect(page.locator("#thread")).to_contain_text("Can you check this one, @Tom Hughes thanks")
    # Back to an empty note, still on the Note tab.
    expect(composer.locator("#composer-note-text")).to_have_value("")


def test_reply_refused_outside_the_window_shows_why(page: Page, login, screenshot) -> None:
    login(page, *OWNER)
    item, _compose = find_conversation(
        page,
        "platform=messenger&platform=instagram&platform=whatsapp&kind=dm",
        lambda i, c: (
            not c["can_reply"]
            and c["reason"]["code"] in ("rule:window_closed", "rule:template_required")
        ),
    )
    open_conversation(page, item["id"])
    composer = page.locator("#composer")
    expect(composer.locator(".composer-reason")).to_contain_text(
        re.compile("The messaging window is closed.|Only an approved template can be sent now.")
    )
    expect(composer.locator(".composer-window")).to_have_text("Messaging window closed")
    expect(composer.locator("#composer-reply-text")).to_be_disabled()
    expect(composer.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    screenshot(page, "composer-window-closed")
