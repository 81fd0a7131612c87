"""HTML rendering: one Jinja2 environment per language (autoescape on, Babel's gettext
installed), and localised filters for dates, times and numbers.

Templates see ``actor``, ``locale``, ``csrf_token``, ``request`` and ``tz`` (the agent's time
zone) in every render, plus what the route passes.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from bandeja.web.ui import i18n, labels
from bandeja.web.ui.mentions import mentions_filter

UI_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"
_UTC = ZoneInfo("UTC")


def _tz(context: Context) -> ZoneInfo:
    tz = context.get("tz")
    return tz if isinstance(tz, ZoneInfo) else _UTC


def _locale(context: Context) -> Locale:
    # A parsed Locale, not the language code: given a code, Babel parses it again on every call,
    # which was most of the cost of a date (a list page formats one per row).
    return i18n.babel_locale(str(context.get("locale") or i18n.DEFAULT_LANGUAGE))


# A list shows many rows of the same few days; a day's text never changes.
_format_date = functools.lru_cache(maxsize=4096)(format_date)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pass_context
def datetime_filter(context: Context, value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(_aware(value), fmt, tzinfo=_tz(context), locale=_locale(context))


@pass_context
def date_filter(context: Context, value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_tz(context)).date()
    return _format_date(value, fmt, locale=_locale(context))


@pass_context
def time_filter(context: Context, value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return format_time(_aware(value), fmt, tzinfo=_tz(context), locale=_locale(context))


JUST_NOW = labels.N_("just now")


@pass_context
def timeago_filter(context: Context, value: datetime | None, now: datetime | None = None) -> str:
    """ "5 minutes ago" / "in 2 hours" within a week; the date beyond, where a relative time
    would be vaguer than the date itself."""
    if value is None:
        return ""
    value = _aware(value)
    delta = value - (now or datetime.now(UTC))
    if abs(delta) < timedelta(seconds=45):
        # Babel would say "0 sec. ago" or "30 sec. ago": a live inbox reads better with this.
        language = str(context.get("locale") or i18n.DEFAULT_LANGUAGE)
        return i18n.translations(language).gettext(JUST_NOW)
    if abs(delta) >= timedelta(days=7):
        return date_filter(context, value)
    return format_timedelta(
        delta, add_direction=True, format="short", threshold=1.0, locale=_locale(context)
    )


@pass_context
def number_filter(context: Context, value: float | None) -> str:
    return "" if value is None else format_decimal(value, locale=_locale(context))


def fromiso_filter(value: str | None) -> datetime | None:
    """An ISO time stored in JSON (activity data) back to a datetime; None if it is not one."""
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@pass_context
def clock_filter(context: Context, value: datetime | None) -> str:
    """A precise, language-neutral time for tooltips (cheap: no locale data involved)."""
    if value is None:
        return ""
    return _aware(value).astimezone(_tz(context)).strftime("%Y-%m-%d %H:%M")


def label_translations(language: str) -> dict[str, dict[str, str]]:
    """The labels of ``labels.py`` in ``language``, looked up once per language rather than
    once per row (a list page shows hundreds of them)."""
    t = i18n.translations(language)
    return {
        "kind": {k: t.gettext(v) for k, v in labels.KIND.items()},
        "status": {k: str(t.pgettext("status", v)) for k, v in labels.STATUS.items()},
        "view": {k: str(t.pgettext("view", v)) for k, v in labels.BUILTIN_VIEWS.items()},
        "priority": {k: t.gettext(v) for k, v in labels.PRIORITY.items()},
        "delivery": {k: t.gettext(v) for k, v in labels.DELIVERY.items()},
        "activity": {k: t.gettext(v) for k, v in labels.ACTIVITY.items()},
    }


@functools.cache
def _asset_version(name: str) -> str:
    """A short hash of a static file: its URL changes when it does (safe to cache forever)."""
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def static_url(name: str) -> str:
    return f"/static/{name}?v={_asset_version(name)}"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=datetime_filter,
        date=date_filter,
        time=time_filter,
        timeago=timeago_filter,
        number=number_filter,
        fromiso=fromiso_filter,
        clock=clock_filter,
        mentions=mentions_filter,
    )
    env.globals.update(
        static_url=static_url,
        labels=labels,
        languages=i18n.LANGUAGES,
        tr=label_translations(language),
    )
    return env


def request_locale(request: Request) -> str:
    """The language of this request: set by the UI's actor dependency, or (before login) taken
    from the browser's Accept-Language."""
    locale = getattr(request.state, "locale", None)
    if locale:
        return str(locale)
    default = request.app.state.settings.default_locale
    return i18n.choose(None, request.headers.get("accept-language"), default)


def render_string(request: Request, template: str, **context: Any) -> str:
    locale = request_locale(request)
    state = request.state
    base = {
        "request": request,
        "actor": getattr(state, "actor", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "locale": locale,
        "tz": getattr(state, "tz", _UTC),
    }
    base.update(context)
    return environment(locale).get_template(template).render(base)


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    return HTMLResponse(
        render_string(request, template, **context), status_code=status_code, headers=headers
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
