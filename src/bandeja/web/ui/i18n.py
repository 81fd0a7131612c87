"""Translations: every ``*.po`` under ``bandeja/locale/<lang>/LC_MESSAGES/``, merged into one
catalog per language, and which language a request gets.

The ``.po`` files are read at start-up (Babel's reader, compiled in memory): no compiled ``.mo``
is kept in the repository, so a catalog can never be out of date with its source.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
DEFAULT_LANGUAGE = "en"
# English is the source language: its strings are the msgids themselves.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "it": "Italiano"}


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(language: str) -> NullTranslations:
    """The merged catalog of ``language`` (fuzzy entries left out, as gettext does)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    merged: Translations | None = None
    for path in catalog_files(language):
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        loaded = Translations(fp=buffer, domain=path.stem)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    return merged or NullTranslations()


def supported(language: str | None) -> str | None:
    """``language`` if it is one we serve ("es-AR" counts as "es"), else None."""
    if not language:
        return None
    base = language.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best language of an ``Accept-Language`` header that we serve."""
    if not header:
        return None
    preferred: list[tuple[float, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            # Stable for equal weights: earlier tags first.
            preferred.append((-quality + position * 1e-6, tag.strip()))
    tags = [tag for _, tag in sorted(preferred)]
    found = negotiate_locale(tags, list(LANGUAGES), sep="-")
    return found or next((s for s in map(supported, tags) if s), None)


def choose(user_choice: str | None, accept_language: str | None, default: str | None = None) -> str:
    """The user's saved choice, else the browser's, else the server's default, else English."""
    return (
        supported(user_choice)
        or from_accept_language(accept_language)
        or supported(default)
        or DEFAULT_LANGUAGE
    )


@functools.cache
def babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LANGUAGE)
