"""iCalendar (RFC 5545 with RFC 7986 names) output: calendars and events."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from app import clock
from app.models import Booking, BookingStatus

PRODID = "-//Spreekuur//Spreekuur 1.0//NL"
UID_DOMAIN = "spreekuur"


def new_calendar(name: str) -> Calendar:
    """An empty published calendar with its name in both the RFC 7986 and the X-WR form."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    return cal


# The EU rule (since 1996): summer time from the last Sunday of March 02:00 to the last
# Sunday of October 03:00. Written as RRULEs, as Outlook and Google do, it stays valid for
# every future year and is a few lines instead of a list of dates.
_EU_VTIMEZONE = """BEGIN:VTIMEZONE\r
TZID:{tzid}\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""
_EU_CENTRAL_ZONES = {"Europe/Amsterdam", "Europe/Brussels", "Europe/Berlin", "Europe/Paris"}


def vtimezone(tzid: str) -> Timezone:
    """A VTIMEZONE for a zone: the compact EU rule for Central European zones."""
    if tzid in _EU_CENTRAL_ZONES:
        return Timezone.from_ical(_EU_VTIMEZONE.format(tzid=tzid))
    return Timezone.from_tzid(tzid)


def finish(cal: Calendar) -> bytes:
    """Add a VTIMEZONE for every TZID used and serialise (CRLF, folded at 75 octets)."""
    # Timezones first: some clients read them only before the events that use them.
    for tzid in sorted(cal.get_missing_tzids(), reverse=True):
        cal.subcomponents.insert(0, vtimezone(tzid))
    return cal.to_ical()


def _local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def booking_event(booking: Booking, *, summary: str, description: str) -> Event:
    """The resident's own appointment as an event (for 'add to my calendar' and mail)."""
    series = booking.series
    location = series.location
    event = Event()
    event.add("uid", f"booking-{booking.id}@{UID_DOMAIN}")
    event.add("dtstamp", clock.now())
    event.add("dtstart", _local(booking.slot_start, location.timezone))
    event.add("dtend", _local(booking.slot_end, location.timezone))
    event.add("summary", summary)
    event.add("location", f"{location.name}, {location.address}")
    event.add("description", description)
    event.add("sequence", booking.version)
    event.add("last-modified", booking.updated_at or clock.now())
    event.add("status", "CANCELLED" if booking.status is BookingStatus.CANCELLED else "CONFIRMED")
    return event


def booking_calendar(booking: Booking, *, name: str, summary: str, description: str) -> bytes:
    """A one-event calendar file for a booking."""
    cal = new_calendar(name)
    cal.add_component(booking_event(booking, summary=summary, description=description))
    return finish(cal)
