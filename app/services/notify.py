"""Messages to residents about their appointment or course, in the language they chose.

Confirmations and changes go by e-mail to residents who gave an address; the others are on
the staff's list of residents to contact. Reminders go by e-mail, or by SMS to a mobile
number when an SMS provider is set (see ``app.services.reminders``). Every message goes
through the outbox (``app.services.outbox``), in the transaction of the change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import interface_language
from app.models import Booking, MessageChannel
from app.services import ical, mail, outbox


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


def _queue(
    booking: Booking, subject: str, template: str, *, with_ics: bool, kind: str, **context
) -> None:
    if not booking.email:
        return
    body = render_template(template, booking=booking, **context)
    ics = None
    if with_ics:
        ics = booking_ics(booking).decode("utf-8")
    mail.queue(booking.email, subject, body, ics=ics, booking=booking, kind=kind)


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
            kind="confirmed",
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
            kind="moved",
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
            kind="cancelled",
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
            kind="affected",
            with_ics=False,
            find_link=external_url("booking.find"),
        )


def booking_reminder(booking: Booking, key: str, channel: MessageChannel, recipient: str) -> bool:
    """The reminder before an appointment, once per key; return whether it was written.

    No secret link: only its hash is kept. The resident finds the appointment with the code.
    """
    with force_locale(interface_language(booking.language)):
        find_link = external_url("booking.find")
        if channel is MessageChannel.SMS:
            subject = ""
            body = render_template("sms/reminder.txt", booking=booking, find_link=find_link)
        else:
            subject = _("Reminder: your appointment %(title)s", title=booking.series.title)
            body = render_template("mail/reminder.txt", booking=booking, find_link=find_link)
        return outbox.queue_once(
            key, channel, recipient, subject, body.strip(), booking=booking, kind="reminder"
        )


def course_reminder(
    enrolment, contact, session_start, session_end, key: str, channel, recipient: str
) -> bool:
    """The reminder before a course session, once per key; return whether it was written."""
    course = enrolment.course
    context = {"contact": contact, "course": course, "start": session_start, "end": session_end}
    with force_locale(interface_language(contact.language)):
        if channel is MessageChannel.SMS:
            subject = ""
            body = render_template("sms/course_reminder.txt", **context)
        else:
            subject = _("Reminder: course %(title)s", title=course.title)
            body = render_template("mail/course_reminder.txt", **context)
        return outbox.queue_once(
            key, channel, recipient, subject, body.strip(), enrolment=enrolment, kind="reminder"
        )
