"""The thread opens at its newest entry (the one the agent answers) and keeps the agent's place
when it reloads: at the bottom if they were there, where they were if they had scrolled up."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import OWNER

# How far the thread is from its bottom (0: the newest entry is in sight), and its scrollTop.
_THREAD = "document.getElementById('thread')"
_OVERFLOW = f"{_THREAD}.scrollHeight - {_THREAD}.clientHeight"
_BELOW = f"{_OVERFLOW} - {_THREAD}.scrollTop"
_TOP = f"{_THREAD}.scrollTop"


def _open_a_long_thread(page: Page) -> None:
    """A demo conversation whose thread is taller than the pane at 1366x768."""
    page.goto("/inbox?view=complete")
    rows = page.locator("#rows li.row a.row-link")
    for index in range(min(rows.count(), 20)):
        row = rows.nth(index)
        conversation = row.get_attribute("href").split("?")[0]  # type: ignore[union-attr]
        row.click()
        expect(page.locator(f"#thread[hx-get='{conversation}/thread']")).to_be_attached()
        expect(page.locator("#composer textarea").first).to_be_visible()
        if page.evaluate(_OVERFLOW) > 80:
            return
    raise AssertionError("no demo thread taller than the pane")


def _add_note(page: Page, text: str) -> None:
    page.locator("#composer-tab-note").click()
    page.locator("#composer-note-text").fill(text)
    page.locator("#composer-note-text").press("Control+Enter")
    expect(page.locator("#thread .note", has_text=text)).to_be_visible()


def test_the_thread_shows_its_newest_entry_and_keeps_the_agents_place(page: Page, login) -> None:
    login(page, *OWNER)
    _open_a_long_thread(page)
    page.wait_for_function(f"{_BELOW} < 2")

    # Reading older entries: a reload (here, the agent's own note) keeps the place.
    page.evaluate(f"{_THREAD}.scrollTop = 0")
    _add_note(page, "checked the invoice")
    page.wait_for_timeout(300)
    assert page.evaluate(_TOP) < 2

    # At the bottom: the new entry comes into sight.
    page.evaluate(f"{_THREAD}.scrollTop = {_THREAD}.scrollHeight")
    _add_note(page, "all good now")
    page.wait_for_function(f"{_BELOW} < 2")
