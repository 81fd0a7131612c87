"""The sandbox's simulated Messenger traffic, delivered through the webhook route, lands in the
inbox without a failure or a surprise."""

from __future__ import annotations

import random

from bandeja.channels.sandbox.contract import SimOptOut, SimReaction
from bandeja.channels.sandbox.traffic import Traffic
from bandeja.core.conversations.models import Kind

from .conftest import LUCIA, Page, now


async def test_simulated_customers_land_in_the_inbox(page: Page) -> None:
    traffic = Traffic(page.sandbox, random.Random(20260310), people_per_channel=5)
    events = [traffic.next_event(page.sandbox_channel()) for _ in range(40)]
    assert await page.emit(*events) >= 40
    await page.assert_all_processed()
    kinds = {c.kind for c in await page.conversations()}
    assert kinds == {Kind.dm, Kind.comment}
    messages = await page.messages()
    assert len(messages) == sum(1 for e in events if type(e).__name__ == "SimMessage")
    assert any(m.edited_at for m in messages)
    assert any(m.reactions for m in messages)
    # Reactions and edits to messages the inbox has are applied, never counted as unknown.
    assert await page.ignored() == {}


async def test_a_marketing_opt_out_and_a_reaction_to_our_reply(page: Page) -> None:
    await page.emit(SimOptOut(person=LUCIA, opted_in=True, at=now()))
    assert (await page.identity(LUCIA.id)).marketing_opt_in is True
    await page.emit(SimOptOut(person=LUCIA, opted_in=False, at=now()))
    assert (await page.identity(LUCIA.id)).marketing_opt_in is False
    await page.deliver_fixtures("message_echo__page_inbox")
    [ours] = await page.messages()
    assert ours.external_id is not None
    await page.emit(SimReaction(person=LUCIA, message_id=ours.external_id, reaction="👍", at=now()))
    assert (await page.message(ours.external_id)).reactions == {LUCIA.id: "👍"}
