"""Every string the UI shows is translated: the msgids extracted from the templates and from
``web/ui/*.py`` (Babel's extractors, as ``pybabel extract`` runs them) must all have a Spanish and
an Italian translation in the catalogs ``web/ui/i18n.py`` loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from bandeja.web.ui import i18n
from bandeja.web.ui.render import TEMPLATES_DIR, UI_DIR

TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT_LANGUAGE]
# labels.py marks context-dependent labels with C_(context, message), read like pgettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "C_": ((1, "c"), 2)}
Key = tuple[str | None, str]  # (context, msgid); plurals by their singular


def _sources() -> list[tuple[str, Path]]:
    templates = [("jinja2", p) for p in sorted(TEMPLATES_DIR.rglob("*.html"))]
    code = [("python", p) for p in sorted(UI_DIR.glob("*.py"))]
    return templates + code


def extracted() -> dict[Key, list[str]]:
    """(context, msgid) -> where it is used."""
    found: dict[Key, list[str]] = {}
    for method, path in _sources():
        for lineno, message, _comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            found.setdefault((context, msgid), []).append(f"{path.relative_to(UI_DIR)}:{lineno}")
    return found


def catalog(language: str) -> dict[Key, object]:
    merged: dict[Key, object] = {}
    for path in i18n.catalog_files(language):
        with path.open("rb") as po:
            for message in read_po(po, locale=language):
                if message.id and not message.fuzzy:
                    msgid = message.id if isinstance(message.id, str) else message.id[0]
                    merged[(message.context, msgid)] = message.string
    return merged


def test_the_extraction_finds_the_ui_strings():
    found = extracted()
    # A few strings known to be there: if extraction silently broke, every catalog would "pass".
    assert (None, "Log in") in found
    assert (None, "DM") in found  # marked with N_ in labels.py
    assert ("view", "Mine") in found  # marked with C_
    assert (None, "%(num)s conversation updated.") in found  # ngettext
    assert len(found) > 100


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language):
    translations = catalog(language)
    missing = []
    for key, where in sorted(extracted().items(), key=lambda item: str(item[0])):
        value = translations.get(key)
        forms = value if isinstance(value, tuple | list) else [value]
        if not forms or not all(isinstance(f, str) and f.strip() for f in forms):
            context = f"[{key[0]}] " if key[0] else ""
            missing.append(f"{context}{key[1]!r} ({where[0]})")
    assert not missing, f"{len(missing)} strings lack a {language} translation:\n" + "\n".join(
        missing[:60]
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language):
    """A translation that drops or renames a placeholder would break the page (or lose data)."""
    import re

    placeholder = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")
    translations = catalog(language)
    wrong = []
    for key in extracted():
        msgid = key[1]
        value = translations.get(key)
        for form in value if isinstance(value, tuple | list) else [value]:
            if (
                isinstance(form, str)
                and form
                and (
                    sorted(placeholder.findall(form)) != sorted(set(placeholder.findall(msgid)))
                    and sorted(set(placeholder.findall(form)))
                    != sorted(set(placeholder.findall(msgid)))
                )
            ):
                wrong.append(f"{msgid!r} -> {form!r}")
    assert not wrong, "\n".join(wrong)


def test_a_request_gets_the_users_language_then_the_browsers():
    assert i18n.choose("it", "es-ES,es;q=0.9") == "it"
    assert i18n.choose(None, "es-AR,es;q=0.9,en;q=0.5") == "es"
    assert i18n.choose(None, "fr-FR,it;q=0.8,en;q=0.5") == "it"
    assert i18n.choose(None, "fr-FR", "es") == "es"
    assert i18n.choose(None, None) == "en"
    assert i18n.translations("es").gettext("Log in") == "Iniciar sesión"
    assert i18n.translations("it").gettext("Log in") == "Accedi"
    # One English word, three Spanish ones: the view, the status, the button.
    es = i18n.translations("es")
    assert es.pgettext("view", "Complete") == "Completadas"
    assert es.pgettext("status", "Complete") == "Completada"
    assert es.gettext("Complete") == "Completar"
