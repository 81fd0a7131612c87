"""The inbox in a real browser: log in, triage a conversation end to end by keyboard and mouse,
save a view, bulk-complete, a failed send and its retry, and the main screens in English,
Spanish and Italian at the two screen sizes agents use."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from bandeja.core.channels.models import Platform
from tests.browser.conftest import OWNER, WAIT_MS

TOM = ("tom@cafe-aurora.example", "demo-admin-pass")
SAM = ("sam@cafe-aurora.example", "demo-sam-pass")


def open_list(page: Page, query: str) -> None:
    page.goto(f"/inbox?{query}")
    expect(page.locator("#rows")).to_be_visible()


def wait_for_thread_text(page: Page, pattern: str, *, timeout_s: float = 20.0) -> None:
    """Sends finish in the background: reload the thread (as a new page view would) until it
    shows ``pattern``."""
    deadline = time.monotonic() + timeout_s
    while True:
        if re.search(pattern, page.locator("#thread").inner_text()):
            return
        if time.monotonic() > deadline:
            text = page.locator("#thread").inner_text()[-600:]
            raise AssertionError(f"{pattern!r} never showed in the thread: {text}")
        page.wait_for_timeout(500)
        page.evaluate("htmx.trigger(document.body, 'thread-changed')")
        page.wait_for_load_state("networkidle")


def test_login_shows_the_inbox_with_view_counts(page: Page, login, screenshot) -> None:
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next=/inbox"))
    screenshot(page, "login")
    page.locator("#email").fill(OWNER[0])
    page.locator("#password").fill("not the password")
    page.locator("form.login-card button[type=submit]").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    login(page, *OWNER)
    views = page.locator("#views")
    for name in ("Mine", "Unassigned", "All open", "Follow-up", "Complete", "Mentions"):
        link = views.locator(".view-link", has_text=name).first
        expect(link.locator("[data-count]")).to_have_text(re.compile(r"^\d+$"))
    all_open = views.locator(".view-link[data-view=open] [data-count]").inner_text()
    expect(page.locator("#list-total")).to_have_text(all_open)
    # Rows: avatar, name, platform, kind, time, snippet.
    first = page.locator("#rows li.row").first
    expect(first.locator(".avatar")).to_be_visible()
    expect(first.locator(".platform svg")).to_be_visible()
    expect(first.locator(".kind")).to_have_text(re.compile("DM|Comment|Mention"))
    expect(first.locator("time.when")).to_have_text(re.compile(r"just now|ago|\d"))
    screenshot(page, "inbox-1366x768")
    page.set_viewport_size({"width": 1920, "height": 1080})
    first.locator("a.row-link").click()
    expect(page.locator("#conversation")).to_be_visible()
    screenshot(page, "conversation-1920x1080")
    # The keyboard shortcuts, from "?".
    page.locator("body").press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    screenshot(page, "shortcuts")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    # "/" goes to the search box; the focus shows.
    page.locator("body").press("/")
    expect(page.locator("#q")).to_be_focused()
    outline = page.locator("#q").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    # Every visible form field has a label.
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []


def wait_for_row(page: Page, query: str, name: str, *, timeout_s: float = 20.0) -> None:
    """A webhook is processed in the background: reload the list until ``name`` shows."""
    deadline = time.monotonic() + timeout_s
    while True:
        open_list(page, query)
        if page.locator("#rows li.row .name", has_text=name).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} never showed in the list")
        page.wait_for_timeout(500)


def test_triage_a_conversation_end_to_end(page: Page, login, customer_writes, screenshot) -> None:
    name = customer_writes(Platform.telegram, "Hi! Are you open tomorrow morning?")
    customer_writes(Platform.telegram, "Do you deliver to Navigli?")
    login(page, *OWNER)
    query = "view=unassigned&f=1&status=open&assignee=unassigned&platform=telegram&kind=dm"
    wait_for_row(page, query, name)
    # j/k move, Enter opens: the newest two are the customers above, ours second from the top.
    page.locator("body").press("j")
    page.locator("body").press("j")
    page.locator("body").press("j")
    page.locator("body").press("k")
    current = page.locator("#rows li.row.current")
    expect(current).to_have_count(1)
    expect(current.locator(".name")).to_have_text(name)
    conversation_id = current.get_attribute("data-id")
    page.keyboard.press("Enter")
    expect(page.locator("#conversation-title")).to_have_text(name)
    expect(page).to_have_url(re.compile(rf"/inbox/c/{conversation_id}"))
    # Opening marks it read for me: the row loses its unread dot.
    expect(page.locator(f"#row-{conversation_id} .dot")).to_have_count(0)

    # r: reply through the composer; the thread shows it, then its delivery.
    expect(page.locator("#composer textarea").first).to_be_attached()
    page.locator("body").press("r")
    reply = page.locator("#composer-reply textarea")
    expect(reply).to_be_focused()
    reply.fill("Thanks for writing! We open at 8:00 tomorrow.")
    page.locator("#composer-reply button[type=submit]").click()
    expect(page.locator("#thread .msg-outbound").last).to_contain_text("We open at 8:00 tomorrow.")
    wait_for_thread_text(page, r"Sent|Delivered|Seen")

    # n: an internal note that mentions a teammate.
    page.locator("body").press("Escape")
    page.locator("body").press("n")
    note = page.locator("#composer-note textarea")
    expect(note).to_be_focused()
    note.fill("@tom can you check the opening hours on the website? ")
    page.locator("#composer-note button[type=submit]").click()
    expect(page.locator("#thread .note").last).to_contain_text("@tom can you check")

    # t: tag.
    page.locator("#conversation-title").click()
    page.locator("body").press("t")
    expect(page.locator("#add-tag")).to_be_focused()
    tag_name = page.locator("#add-tag option").nth(1).inner_text()
    page.locator("#add-tag").select_option(label=tag_name)
    expect(page.locator("#pane-head [data-tags]")).to_contain_text(tag_name)

    # a: assign to me.
    page.locator("body").press("a")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#pane-head [data-assignee]")).to_have_text("Olivia Grant")
    expect(page.locator(f"#row-{conversation_id} .assignee")).to_have_text("Olivia Grant")

    # f: follow up tomorrow at 9:00.
    page.locator("body").press("f")
    page.get_by_role("button", name="Tomorrow at 9:00").click()
    expect(page.locator("#pane-head [data-status]")).to_have_text("Follow-up")
    expect(page.locator("#thread .activity").last).to_contain_text("Olivia Grant set a follow-up")

    # e: complete.
    page.locator("body").press("e")
    expect(page.locator("#pane-head [data-status]")).to_have_text("Complete")
    activity = page.locator("#thread .activity")
    expect(activity.last).to_contain_text("Olivia Grant marked this complete")
    thread = page.locator("#thread").inner_text()
    assert "Olivia Grant assigned this to Olivia Grant" in thread
    assert "Olivia Grant changed the tags" in thread
    screenshot(page, "triage-done")
    # The Complete view now holds it.
    open_list(page, "view=complete")
    expect(page.locator(f"#row-{conversation_id}")).to_be_visible()


def test_save_a_view_and_see_its_count(page: Page, login, screenshot) -> None:
    login(page, *TOM)
    page.locator(".filter-more summary").click()
    page.locator("select[name=platform]").select_option("instagram")
    expect(page).to_have_url(re.compile("platform=instagram"))
    page.locator("select[name=kind]").select_option("comment")
    expect(page).to_have_url(re.compile("kind=comment"))
    total = page.locator("#list-total").inner_text()
    page.locator(".save-view summary").click()
    page.locator("#view-name").fill("IG comments")
    page.locator(".save-view-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inbox\?view=\d+"))
    saved = page.locator("#views .view-link[aria-current=page]")
    expect(saved.locator(".view-name")).to_have_text("IG comments")
    expect(saved.locator("[data-count]")).to_have_text(total)
    expect(page.locator("#list-total")).to_have_text(total)
    assert int(total.replace(",", "")) > 0
    expect(page.locator("#rows li.row .kind").first).to_have_text("Comment")
    screenshot(page, "saved-view")


def test_bulk_complete(page: Page, login) -> None:
    login(page, *SAM)
    open_list(page, "view=mentions")
    before = int(page.locator("#list-total").inner_text())
    assert before >= 2
    rows = page.locator("#rows li.row")
    ids = [rows.nth(i).get_attribute("data-id") for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input.pick").check()
    expect(page.locator("#bulk-form")).to_be_visible()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    page.locator("#bulk-form [data-bulk-action=complete]").click()
    expect(page.locator(".notice")).to_have_text("2 conversations updated.")
    expect(page.locator("#list-total")).to_have_text(str(before - 2))
    for conversation_id in ids:
        expect(page.locator(f"#row-{conversation_id}")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_be_hidden()


def test_a_failed_send_and_its_retry(
    page: Page, login, sandbox, customer_writes, screenshot
) -> None:
    name = customer_writes(Platform.whatsapp, "Where is my order?")
    login(page, *OWNER)
    query = "view=open&f=1&status=open&platform=whatsapp&kind=dm"
    wait_for_row(page, query, name)
    page.locator("#rows li.row", has_text=name).locator("a.row-link").click()
    expect(page.locator("#conversation")).to_be_visible()
    sandbox.inject_failure(
        Platform.whatsapp,
        400,
        {
            "error": {
                "message": "Recipient phone number not in allowed list",
                "type": "OAuthException",
                "code": 131030,
            }
        },
    )
    reply = page.locator("#composer-reply textarea")
    expect(reply).to_be_visible()
    reply.fill("Your order is on its way.")
    page.locator("#composer-reply button[type=submit]").click()
    wait_for_thread_text(page, "Not sent")
    failed = page.locator("#thread .msg-failed").last
    expect(failed.locator(".send-error")).to_contain_text("not in allowed list")
    screenshot(page, "send-failed")
    failed.get_by_role("button", name="Retry").click()
    wait_for_thread_text(page, r"(Sent|Delivered|Seen)\s*$")
    expect(page.locator("#thread .msg-failed")).to_have_count(0)


def test_spanish_and_italian(page: Page, login, screenshot) -> None:
    login(page, *TOM)
    try:
        for code, texts in (
            ("es", ("Bandeja de entrada", "Todas las abiertas", "Completar", "Asignar")),
            ("it", ("Posta in arrivo", "Tutte le aperte", "Completa", "Assegna")),
        ):
            page.locator("#locale-select").select_option(code)
            expect(page.locator("html")).to_have_attribute("lang", code)
            expect(page.locator(".topnav")).to_contain_text(texts[0])
            expect(page.locator("#views")).to_contain_text(texts[1])
            screenshot(page, f"inbox-{code}")
            page.locator("#rows li.row a.row-link").first.click()
            expect(page.locator("#pane-head .toolbar")).to_contain_text(texts[2])
            expect(page.locator("#pane-head .toolbar")).to_contain_text(texts[3])
            # Localised times: no English "ago" left in the list.
            assert "ago" not in page.locator("#rows").inner_text()
            screenshot(page, f"conversation-{code}")
            page.goto("/login")  # a logged-in browser still sees the login page in its language
            page.goto("/inbox")
    finally:
        page.locator("#locale-select").select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en")


def test_an_agent_sees_only_its_channels(page: Page, login) -> None:
    login(page, *SAM)  # Messenger, Instagram, X, LinkedIn only
    open_list(page, "view=open&f=1&status=open&platform=whatsapp")
    expect(page.locator("#rows li.row")).to_have_count(0)
    expect(page.locator("#rows")).to_contain_text("Nothing here.")
    assert WAIT_MS > 0


def test_live_updates_show_new_conversations(page: Page, login, customer_writes) -> None:
    login(page, *OWNER)
    open_list(page, "view=unassigned")
    before = page.locator("#views .view-link[data-view=unassigned] [data-count]").inner_text()
    page.wait_for_timeout(500)  # the event stream is open
    name = customer_writes(Platform.telegram, "Is the terrace open tonight?")
    # The list re-sorts in place (tests/browser/test_realtime.py: when it waits for a click on
    # "New activity" instead); the view counts follow, without a reload.
    expect(page.locator("#rows li.row").first.locator(".name")).to_have_text(name)
    expect(page.locator("#views .view-link[data-view=unassigned] [data-count]")).not_to_have_text(
        before
    )
