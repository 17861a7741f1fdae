"""Topic icons as inline SVG: always shown next to their text, never alone (aria-hidden)."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

_PATHS = {
    # A card with a photo and lines: identity (DigiD).
    "id-card": '<rect x="2" y="5" width="20" height="14" rx="2"/><circle cx="8" cy="12" r="2.5"/>'
    '<path d="M13 10h6M13 14h4"/>',
    # A letter with a percent sign: taxes.
    "tax": '<path d="M6 2h9l5 5v15H6z"/><path d="M15 2v5h5"/><path d="M9.5 17.5l6-6"/>'
    '<circle cx="10" cy="12" r="1"/><circle cx="15" cy="17" r="1"/>',
    # A hand holding a coin: benefits.
    "benefits": '<circle cx="15" cy="7" r="4"/><path d="M2 15h4l5 2h5a2 2 0 0 0 0-4h-4"/>'
    '<path d="M6 21l-4-0.01V13"/><path d="M16 17l5-2.5"/>',
    # A briefcase: work.
    "work": '<rect x="2" y="7" width="20" height="13" rx="2"/><path d="M8 7V4h8v3M2 13h20"/>',
    # An hourglass: pension and later life.
    "pension": '<path d="M6 2h12M6 22h12M7 2c0 6 10 6 10 10S7 16 7 22M17 2c0 6-10 6-10 10s10 4 10 10"/>',
    # A graduation cap: study.
    "study": '<path d="M2 9l10-5 10 5-10 5z"/><path d="M6 11v5c3 2 9 2 12 0v-5"/><path d="M22 9v6"/>',
    # A heart: care and health costs.
    "health": '<path d="M12 20s-8-5-8-11a4.5 4.5 0 0 1 8-2.8A4.5 4.5 0 0 1 20 9c0 6-8 11-8 11z"/>',
    # A building with columns: the municipality.
    "town-hall": '<path d="M3 10l9-6 9 6"/><path d="M5 10v8M9.5 10v8M14.5 10v8M19 10v8"/>'
    '<path d="M3 21h18"/>',
    # A euro sign in a circle: money matters.
    "money": '<circle cx="12" cy="12" r="10"/><path d="M15.5 8.5a4 4 0 1 0 0 7"/><path d="M7 11h6M7 13h6"/>',
    # A laptop: computer and phone.
    "computer": '<rect x="4" y="4" width="16" height="11" rx="1"/><path d="M2 19h20"/>',
    # A speech bubble: language.
    "language": '<path d="M4 4h16v11H9l-5 4z"/><path d="M8 9h8M8 12h5"/>',
    # A question mark in a circle: any other question.
    "help": '<circle cx="12" cy="12" r="10"/><path d="M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.7v.5"/>'
    '<circle cx="12" cy="17" r="0.5"/>',
}

# What each topic icon shows, in words (the coordinator chooses a topic's icon by these).
ICON_LABELS = {
    "id-card": _l("Identity card"),
    "tax": _l("Tax letter"),
    "benefits": _l("Hand with a coin"),
    "work": _l("Briefcase"),
    "pension": _l("Hourglass"),
    "study": _l("Graduation cap"),
    "health": _l("Heart"),
    "town-hall": _l("Town hall"),
    "money": _l("Euro coin"),
    "computer": _l("Laptop"),
    "language": _l("Speech bubble"),
    "help": _l("Question mark"),
}

# Icons of the interface itself, not offered for topics.
_INTERFACE_PATHS = {
    # A globe: the language switch (never a flag).
    "globe": '<circle cx="12" cy="12" r="10"/><path d="M2 12h20"/>'
    '<path d="M12 2a15 15 0 0 1 0 20a15 15 0 0 1 0-20z"/>',
    # Three lines: the folded menu.
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    # An arrow pointing forward (mirrored in right-to-left pages).
    "arrow": '<path d="M4 12h15M13 6l6 6-6 6"/>',
    # A tick: done, made.
    "check": '<path d="M4 12.5l5 5L20 6.5"/>',
}
# Icons that point: mirrored in right-to-left pages (app.css, .icon-pointing).
_POINTING = {"arrow"}


def icon(name: str, size: int = 32) -> Markup:
    """The SVG of an icon (the question mark for an unknown name), hidden from screen readers."""
    paths = _PATHS.get(name) or _INTERFACE_PATHS.get(name) or _PATHS["help"]
    css = "icon icon-pointing" if name in _POINTING else "icon"
    return Markup(
        f'<svg class="{css}" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
        f'aria-hidden="true" focusable="false">{paths}</svg>'
    )


ICON_NAMES = list(_PATHS)
