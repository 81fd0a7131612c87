"""Saved-reply variables: checked when saved, replaced without a template engine."""

from __future__ import annotations

import pytest

from bandeja.core.errors import InvalidInput
from bandeja.core.saved_replies.variables import check_body, first_name, render

VALUES = {
    "contact.first_name": "Lucía",
    "contact.name": "Lucía Fernández",
    "agent.first_name": "Marco",
    "agent.name": "Marco Bianchi",
    "workspace.name": "Café Aurora",
}


def test_every_variable_is_replaced() -> None:
    body = (
        "Hi {{contact.first_name}} ({{ contact.name }}), {{agent.first_name}} "
        "{{agent.name}} from {{workspace.name}}"
    )
    check_body(body)
    assert render(body, VALUES) == (
        "Hi Lucía (Lucía Fernández), Marco Marco Bianchi from Café Aurora"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi {{contact.first_name}}, thanks!", "Hi, thanks!"),
        ("Hola {{contact.first_name}} ¿qué tal?", "Hola ¿qué tal?"),
        ("Ciao {{contact.first_name}}!", "Ciao!"),
        ("{{contact.first_name}} thanks", "thanks"),
        ("Line one\n{{contact.first_name}} line two", "Line one\nline two"),
        ("Dear {{contact.first_name}}", "Dear"),
    ],
)
def test_a_missing_value_leaves_no_stray_space(body: str, expected: str) -> None:
    assert render(body, {**VALUES, "contact.first_name": ""}) == expected


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Hi {{contact.firstname}}", "unknown_variable"),
        ("Hi {{ user.password_hash }}", "unknown_variable"),
        ("Hi {{contact.first_name}", "unbalanced_braces"),
        ("Hi contact.first_name}}", "unbalanced_braces"),
        ("{% for x in y %}{{}}", "unknown_variable"),
    ],
)
def test_typos_and_unknown_names_are_refused(body: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_body(body)
    assert caught.value.code == code
    assert "{{contact.first_name}}" in caught.value.message


def test_jinja_syntax_is_plain_text() -> None:
    # Not a template engine: nothing but the five names is interpreted.
    body = "{% if 1 %}yes{% endif %} {{contact.name}}"
    check_body(body)
    assert render(body, VALUES) == "{% if 1 %}yes{% endif %} Lucía Fernández"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Lucía Fernández", "Lucía"), ("  Ana ", "Ana"), ("", ""), (None, ""), ("@maria_r", "")],
)
def test_first_name(name: str | None, expected: str) -> None:
    assert first_name(name) == expected
