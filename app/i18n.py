"""Language choice: a remembered choice first, then the browser's Accept-Language, then Dutch."""

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale

RTL_LANGUAGES = {"ar", "fa", "prs", "he", "ur"}


def select_locale() -> str:
    """Pick the interface language for this request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(list(languages))
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def interface_language(language: str | None) -> str:
    """The interface language closest to a wish: the language itself if we have it, else Dutch."""
    return (
        language
        if language in current_app.config["LANGUAGES"]
        else current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """Return the language code of the current request, e.g. ``nl``."""
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def text_direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context() -> dict:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": text_direction(language),
            "languages": app.config["LANGUAGES"],
        }
