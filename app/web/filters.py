"""Template filters for dates, times and labels."""

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date

from app import labels
from app.i18n import current_language
from app.web.icons import icon
from app.web.qr import card_qr


def format_day(value: date | datetime) -> str:
    """'maandag 3 maart 2025': weekday and date written out, easy to read."""
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, "EEEE d MMMM y")


def format_short_date(value: date) -> str:
    return format_date(value, "EEE d MMM y")


def format_month(value: date) -> str:
    """'maart 2025'."""
    return format_date(value, "LLLL y")


def format_time(value: datetime) -> str:
    """The wall-clock time in the value's own zone (the location's), e.g. 14:30."""
    return value.strftime("%H:%M")


def local_moment(value: datetime) -> str:
    """An instant as the network's wall clock reads it: 'wo 3 dec 2026, 14:30'."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    local = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return f"{format_date(local.date(), 'EEE d MMM y')}, {local:%H:%M}"


def topic_name(topic) -> str:
    """The topic's name in the page's language: its English name where it has none in that
    language, its Dutch one where it has no English name either."""
    return topic.name(current_language())


def weekdays_label(series) -> str:
    return ", ".join(str(labels.WEEKDAYS[d]) for d in series.weekday_list)


def language_name(code: str) -> str:
    """A resident's language, named in itself (e.g. 'Türkçe')."""
    from app.booking.forms import LANGUAGE_NAMES

    return LANGUAGE_NAMES.get(code, code)


def public_address(endpoint: str, **values) -> str:
    """A page's address on PUBLIC_URL as a resident types it, e.g.
    'spreekuur.example.org/afspraak'."""
    from app.services.notify import external_url

    return external_url(endpoint, **values).split("://", 1)[1]


def register(app: Flask) -> None:
    app.add_template_global(public_address)
    app.add_template_filter(language_name)
    app.add_template_filter(format_day)
    app.add_template_filter(format_short_date)
    app.add_template_filter(format_month)
    app.add_template_filter(format_time)
    app.add_template_filter(local_moment)
    from app.services.deliveries import CHANNEL_LABEL

    app.add_template_filter(lambda value: CHANNEL_LABEL[value], "message_channel_label")
    app.add_template_filter(topic_name)
    app.add_template_filter(weekdays_label)
    for name, mapping in {
        "mode_label": labels.MODE,
        "status_label": labels.STATUS,
        "role_label": labels.ROLE,
        "org_kind_label": labels.ORGANISATION_KIND,
        "recurrence_label": labels.RECURRENCE,
        "exception_kind_label": labels.EXCEPTION_KIND,
        "booking_status_label": labels.BOOKING_STATUS,
        "visit_status_label": labels.VISIT_STATUS,
        "channel_label": labels.CHANNEL,
        "duration_label": labels.DURATION,
        "how_helped_label": labels.HOW_HELPED,
    }.items():
        app.add_template_filter(lambda value, m=mapping: m[value], name)
    app.add_template_global(labels.MONTH_WEEKS, "month_week_labels")
    app.add_template_global(icon, "icon")
    app.add_template_global(card_qr, "card_qr")
