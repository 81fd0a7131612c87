"""Telling English, Spanish and Italian apart in short social messages."""

from __future__ import annotations

import pytest

from bandeja.core.language import guess_language


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Hi, my order hasn't arrived yet, can you check?"], "en"),
        (["Hola, ¿cuándo abrís mañana?"], "es"),
        (["El pedido llegó tarde y frío"], "es"),
        (["Ciao, a che ora aprite domani?"], "it"),
        (["Il caffè era buonissimo, grazie!"], "it"),
        (["Grazie", "Il pacco non è arrivato"], "it"),
        (["gracias", "El envío no llegó"], "es"),
    ],
)
def test_each_language(texts: list[str], expected: str) -> None:
    assert guess_language(texts) == expected


@pytest.mark.parametrize(
    "texts",
    [[], [""], ["👍"], ["12345"], ["Guten Tag, wo ist mein Paket?"], ["ok"]],
)
def test_no_clear_signal_is_no_guess(texts: list[str]) -> None:
    assert guess_language(texts) is None
