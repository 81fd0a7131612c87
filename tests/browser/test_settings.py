"""Settings in a real browser: connect a channel account and see its webhook URL; create a tag
and a saved reply; an agent is refused."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import LUCIA, OWNER


def test_add_a_channel_account_and_see_its_webhook_url(page: Page, login, screenshot) -> None:
    login(page, *OWNER)
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    expect(page.get_by_role("heading", name="Channel accounts")).to_be_visible()
    suffix = str(int(time.time() * 1000))[-8:]
    form = page.locator("#channel-add")
    form.locator("select[name=platform]").select_option("telegram")
    form.get_by_label("Name", exact=True).fill(f"Aurora bot {suffix}")
    form.get_by_label("Account id on the platform").fill(f"bot-{suffix}")
    form.get_by_label("Webhook signing secret").fill("a-long-secret-token")
    form.get_by_label("Access token for sending").fill("123:abc")
    form.get_by_role("button", name="Connect").click()
    expect(page).to_have_url(re.compile(r"/settings/channels\?added=\d+$"))
    added = page.locator("tr.just-added")
    expect(added).to_contain_text(f"Aurora bot {suffix}")
    channel_id = added.get_attribute("data-channel")
    expect(added.locator("code.url")).to_have_text(
        re.compile(rf"^http://127\.0\.0\.1:\d+/webhooks/telegram/{channel_id}$")
    )
    expect(added).to_contain_text("Healthy")
    expect(added.get_by_role("button", name="Copy")).to_be_visible()
    screenshot(page, "settings-channels")
    # The same account twice: refused in words, on the same page.
    form = page.locator("#channel-add")
    form.locator("select[name=platform]").select_option("telegram")
    form.get_by_label("Name", exact=True).fill("Again")
    form.get_by_label("Account id on the platform").fill(f"bot-{suffix}")
    form.get_by_label("Webhook signing secret").fill("a-long-secret-token")
    form.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("alert")).to_contain_text("already connected")


def test_create_a_tag_and_a_saved_reply(page: Page, login, screenshot) -> None:
    login(page, *OWNER)
    suffix = str(int(time.time() * 1000))[-8:]
    page.goto("/settings/tags")
    form = page.locator("#tag-add")
    form.get_by_label("Name", exact=True).fill(f"allergens-{suffix}")
    form.locator("select[name=group]").select_option("topic")
    form.get_by_role("button", name="Create tag").click()
    expect(page.locator(".notice")).to_have_text("The tag was created.")
    expect(page.locator(f'input[name=name][value="allergens-{suffix}"]')).to_have_count(1)

    page.get_by_role("link", name="Saved replies").click()
    form = page.locator("#saved-reply-form")
    form.get_by_label("Name", exact=True).fill(f"Allergen info {suffix}")
    form.get_by_label(re.compile("^Shortcut")).fill(f"allergens-{suffix}")
    form.get_by_label("Text in English").fill(
        "Hi {{contact.first_name}}, our allergen list is on every menu."
    )
    form.get_by_label("Text in Español").fill(
        "Hola {{contact.first_name}}, la lista de alérgenos está en cada menú."
    )
    screenshot(page, "settings-saved-replies")
    form.get_by_role("button", name="Create saved reply").click()
    expect(page.locator(".notice")).to_have_text("The saved reply was created.")
    row = page.locator("tr[data-saved-reply]", has_text=f"Allergen info {suffix}")
    expect(row).to_contain_text("en, es")
    expect(row).to_contain_text("Workspace")
    # A mistyped variable is refused with the reason, the text kept.
    row.get_by_role("link", name=f"Allergen info {suffix}").click()
    form = page.locator("#saved-reply-form")
    form.get_by_label("Text in Italiano").fill("Ciao {{contact.nome}}")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown variable")
    expect(page.locator("#saved-reply-form").get_by_label("Text in Italiano")).to_have_value(
        "Ciao {{contact.nome}}"
    )


def test_agents_cannot_open_settings(page: Page, login) -> None:
    login(page, *LUCIA)
    expect(page.get_by_role("link", name=re.compile("Settings|Configuración"))).to_have_count(0)
    response = page.goto("/settings/channels")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="No permitido")).to_be_visible()
