"""The texts residents read in the public calendars (per town and per topic), in the
calendar's language: kept apart from the staff texts of ``app.services.feeds`` so that the
residents' catalogues hold them (``babel-residents.cfg``, checked by ``tests/test_i18n.py``)."""

from flask_babel import gettext as _


def event_texts() -> dict[str, str]:
    """What an event of a public calendar may say, translated once per calendar."""
    return {
        "cancelled": _("Cancelled"),
        "closed": _("Cancelled: the location is closed"),
        "cancelled_title": _("Cancelled: %(title)s"),
        "walk_in": _("walk in %(start)s–%(end)s"),
        "bring": _("What to bring"),
    }


def description() -> str:
    return _("Help with government websites: published consultation hours.")


def place_calendar_name(place: str) -> str:
    return _("Help sessions in %(place)s", place=place)


def topic_calendar_name(topic: str) -> str:
    return _("Help sessions: %(topic)s", topic=topic)
