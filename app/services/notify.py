"""Messages to residents about their appointment, in the language they chose.

Only residents who gave an email address get mail; the others are on the staff's list of
residents to contact. Messages go through the outbox (see ``app.services.mail``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import interface_language
from app.models import Booking
from app.services import ical, mail


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a message, a calendar or a printout, on PUBLIC_URL.

    Never on the current request's host: whoever sends a request chooses its Host header.
    The same inside a request and outside one (cron, command line).
    """
    public = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def _queue(booking: Booking, subject: str, template: str, *, with_ics: bool, **context) -> None:
    if not booking.email:
        return
    body = render_template(template, booking=booking, **context)
    ics = None
    if with_ics:
        ics = booking_ics(booking).decode("utf-8")
    mail.queue(booking.email, subject, body, ics=ics, booking=booking)


def booking_ics(booking: Booking) -> bytes:
    """The appointment as a calendar file, in the current language."""
    series = booking.series
    return ical.booking_calendar(
        booking,
        name=_("My appointment"),
        summary=f"{series.title} ({series.provider.name})",
        description=_("Appointment code: %(code)s", code=booking.display_code)
        + (f"\n{_('What to bring')}: {series.what_to_bring}" if series.what_to_bring else ""),
    )


def booking_confirmed(booking: Booking, token: str) -> None:
    """Confirmation with the appointment in a calendar attachment and the secret link."""
    with force_locale(interface_language(booking.language)):
        link = external_url("booking.open_link", token=token)
        _queue(
            booking,
            _("Your appointment: %(title)s", title=booking.series.title),
            "mail/confirmed.txt",
            with_ics=True,
            link=link,
        )


def booking_moved(booking: Booking, token: str) -> None:
    """The appointment has a new time (and a new secret link)."""
    with force_locale(interface_language(booking.language)):
        link = external_url("booking.open_link", token=token)
        _queue(
            booking,
            _("New time for your appointment: %(title)s", title=booking.series.title),
            "mail/moved.txt",
            with_ics=True,
            link=link,
        )


def booking_cancelled(booking: Booking) -> None:
    """The appointment was cancelled (by staff, or by the resident as a receipt)."""
    with force_locale(interface_language(booking.language)):
        _queue(
            booking,
            _("Your appointment is cancelled: %(title)s", title=booking.series.title),
            "mail/cancelled.txt",
            with_ics=True,
            find_link=external_url("booking.find"),
        )


def booking_affected(booking: Booking) -> None:
    """The hours changed and the appointment's time no longer exists."""
    with force_locale(interface_language(booking.language)):
        _queue(
            booking,
            _("Your appointment cannot take place: %(title)s", title=booking.series.title),
            "mail/affected.txt",
            with_ics=False,
            find_link=external_url("booking.find"),
        )
