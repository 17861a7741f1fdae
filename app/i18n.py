"""Language choice: a remembered choice first, then the browser's Accept-Language, then Dutch.

Residents choose from every language in ``LANGUAGES``; staff screens offer only
``STAFF_LANGUAGES`` (Dutch and English), whatever language a cookie remembers.

A catalogue is either complete (``COMPLETE_CATALOGUES``: every message translated, checked by
the test suite) or awaiting translation. Pages in a language awaiting translation show the
English source text of every message not yet translated, in that language's direction.
Texts that must be wholly in one language for a resident (messages, the consent script and
what staff print for them) use ``interface_language()``, which gives only complete ones.
"""

from functools import cache

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from markupsafe import Markup, escape

# Switch a language on here once its catalogue is translated: the test suite then checks that
# it is complete (every message for a staff language, every resident text of
# babel-residents.cfg for the others), and messages and printed texts use it. The six
# resident languages after Dutch and English are first drafts awaiting a native speaker's
# review (README, Translations).
COMPLETE_CATALOGUES = ("nl", "en", "ar", "fa", "tr", "pl", "uk", "ti")
# The source language of the texts in code and templates: complete without any msgstr.
SOURCE_LANGUAGE = "en"

# Where the staff screens are: the portal (desk, queue, referrals, courses, figures, feeds),
# management and the staff login. Every other page is for residents.
STAFF_PATHS = ("/portal", "/admin", "/auth")

# A resident's language as the booking form names it, where it differs from the catalogue's
# code: Dari has no CLDR data of its own and is written with the Persian catalogue.
RESIDENT_TO_INTERFACE = {"prs": "fa"}
INTERFACE_TO_RESIDENT = {value: key for key, value in RESIDENT_TO_INTERFACE.items()}


def is_staff_page() -> bool:
    """Whether the current request is for a staff screen (Dutch or English only)."""
    if not has_request_context():
        return False
    path = request.path
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATHS)


def page_languages() -> dict[str, str]:
    """The languages this page can be shown in, each named in itself."""
    languages = current_app.config["LANGUAGES"]
    if is_staff_page():
        staff = current_app.config["STAFF_LANGUAGES"]
        return {code: name for code, name in languages.items() if code in staff}
    return dict(languages)


def select_locale() -> str:
    """Pick the interface language for this request."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = page_languages()
    chosen = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(list(languages))
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def interface_language(language: str | None) -> str:
    """The complete interface language closest to a resident's wish: the language itself if
    its catalogue is complete, else Dutch (so a consent script or message is never half
    translated, and its record says the language it was really shown in)."""
    language = RESIDENT_TO_INTERFACE.get(language or "", language)
    if language in current_app.config["LANGUAGES"] and language in COMPLETE_CATALOGUES:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def resident_language(language: str) -> str:
    """The booking form's code for an interface language (e.g. Dari for the Persian pages)."""
    return INTERFACE_TO_RESIDENT.get(language, language)


def current_language() -> str:
    """Return the language code of the current request, e.g. ``nl``."""
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


@cache
def text_direction(language: str) -> str:
    """'rtl' for a language written right to left (Arabic, Persian), per CLDR; else 'ltr'."""
    try:
        order = Locale.parse(RESIDENT_TO_INTERFACE.get(language, language)).character_order
    except (ValueError, LookupError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def left_to_right(text) -> Markup:
    """Keep a time, code or phone number left to right inside right-to-left text (an
    isolated run, so '14:00–14:30' never reads '14:30–14:00')."""
    return Markup('<bdi dir="ltr">%s</bdi>') % escape(text)


def init_app(app: Flask) -> None:
    app.add_template_filter(left_to_right, "ltr")
    app.add_template_filter(text_direction, "direction")

    @app.context_processor
    def language_context() -> dict:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": text_direction(language),
            "languages": page_languages(),
        }
