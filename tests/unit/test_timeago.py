"""Relative times in the list and the thread, in each language of the UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bandeja.web.ui.render import environment


def _timeago(language: str, at: datetime) -> str:
    template = environment(language).from_string("{{ at|timeago }}")
    return template.render(at=at, locale=language, timezone="UTC")


@pytest.mark.parametrize(
    ("language", "now", "minutes"),
    [
        ("en", "just now", "5 min. ago"),
        ("es", "ahora mismo", "hace 5 min"),
        ("it", "proprio ora", "5 min fa"),
    ],
)
def test_just_now_then_minutes(language: str, now: str, minutes: str) -> None:
    at = datetime.now(UTC)
    assert _timeago(language, at - timedelta(seconds=3)) == now
    assert _timeago(language, at - timedelta(minutes=5, seconds=2)) == minutes
