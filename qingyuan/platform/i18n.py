"""Translations: English message ids, a zh-CN catalog, the locale chosen per request.

The catalog is compiled from its `.po` file in memory at first use, so there is no binary
`.mo` to keep in step with the source. The current locale lives in a context variable that
the web layer sets per request; services and templates call the same `gettext`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOG_DIR = Path(__file__).parent / "translations"

_current_locale: ContextVar[str] = ContextVar("qingyuan_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale`; English is the source language and needs none."""
    po_path = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def get_locale() -> str:
    return _current_locale.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Translate everything inside the block into `locale`."""
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str, **variables: object) -> str:
    text = translations(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(get_locale()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def gettext_lazy(message: str, **variables: object) -> LazyProxy:
    """For messages defined at import time and shown later, in the reader's locale."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def negotiate(accept_language: str) -> str:
    """Pick our locale from an Accept-Language header; Chinese unless English is preferred."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE
