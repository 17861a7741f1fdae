"""Calendar feeds as calendar clients read them, and the portal pages that manage them.

Every feed is parsed back with the ``icalendar`` package; the raw bytes are checked too, for
what a parser forgives (line ends, folding, escaping).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Booking,
    ExceptionKind,
    FeedBookings,
    FeedKind,
    FeedLink,
    OrganisationKind,
    Role,
    SeriesException,
    SeriesStatus,
)
from app.services import accounts, feeds, ical
from app.services import booking as booking_service
from app.services import series as series_service
from app.services.booking import ResidentDetails

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"
# The feeds are read on a fixed day, so that both DST changes of 2026 are in the window
# (30 days back, a year ahead): 29 March and 25 October.
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)

# A resident whose details must never reach a staff feed.
RESIDENT = ResidentDetails(
    name="Zoraya Quintero-Wójcik",
    phone="06 12398765",
    email="zoraya.quintero@example.org",
    question="Mijn huurtoeslag klopt niet sinds de verhuizing",
)
PERSONAL_DATA = [
    "Zoraya",
    "Quintero",
    "Wójcik",
    "12398765",
    "zoraya.quintero@example.org",
    "huurtoeslag",
    "verhuizing",
]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("app.clock.now", lambda: NOW)


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Vechtstreek")


@pytest.fixture
def partner(make_org):
    return make_org(name="Geldpunt Noord")


@pytest.fixture
def branch(make_location, library):
    return make_location(
        organisation=library,
        name="Vestiging Centrum",
        street="Kerkweg 1",
        postcode="3603 CL",
        city="Maarssen",
    )


@pytest.fixture
def series(make_series, partner, branch, make_topic):
    """The partner's appointment hours at the library's branch: every day 14:00-16:00."""
    return make_series(
        title="Hulp bij geldzaken",
        provider=partner,
        location=branch,
        weekdays=EVERY_DAY,
        start_date=date(2026, 1, 1),
        start_time=time(14, 0),
        end_time=time(16, 0),
        seats_per_slot=2,
        topics=[make_topic(slug="toeslagen", name_nl="Toeslagen", name_en="Benefits")],
    )


@pytest.fixture
def staff(make_user, partner):
    return make_user(Role.STAFF, partner, name="Pim Partner")


def link_for(user, kind=FeedKind.LOCATION, **options):
    """A feed link made through the service (in English); returns (link, token)."""
    options.setdefault("language", "en")
    return feeds.create_link(user, kind, **options)


def book(series, day: date, hour: int, minute: int = 0, details=RESIDENT, by=None) -> Booking:
    start = datetime.combine(day, time(hour, minute), AMS)
    booking, _token = booking_service.book(series, start, details, by=by)
    db.session.commit()
    return booking


def fetch(client, token: str, **headers):
    return client.get(f"/feeds/{token}.ics", headers=headers)


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def events(cal) -> dict[str, icalendar.Event]:
    return {str(e["uid"]): e for e in cal.events}


def occurrence_uid(series, day: date) -> str:
    return f"occurrence-{series.id}-{day.isoformat()}@spreekuur"


def unfolded(data: bytes) -> str:
    return data.replace(b"\r\n ", b"").decode()


# What every feed is -----------------------------------------------------------------------


def _check_calendar(response, name: str) -> icalendar.Calendar:
    """The properties every feed has, on the parsed calendar and on the raw bytes."""
    cal = parse(response)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == ical.PRODID
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["NAME"]) == name and str(cal["X-WR-CALNAME"]) == name
    assert cal.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert cal.events, "the feed has events"
    for event in cal.events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
            assert prop in event, prop
        assert event.decoded("LAST-MODIFIED").tzinfo is not None
        assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
        assert str(event["STATUS"]) in ("CONFIRMED", "CANCELLED")
    _check_bytes(response.data)
    return cal


def _check_bytes(data: bytes) -> None:
    """CRLF everywhere, no line over 75 octets, folds never inside a UTF-8 character."""
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises when a fold split a character


def test_location_feed_has_every_required_property(client, staff, series, branch):
    """A location feed: PUBLISH calendar with names, refresh interval, VTIMEZONE, and events
    with UID, DTSTAMP, SEQUENCE, LAST-MODIFIED and Amsterdam times."""
    _link, token = link_for(staff, location=branch)
    cal = _check_calendar(fetch(client, token), "Hours at Vestiging Centrum")
    event = events(cal)[occurrence_uid(series, date(2026, 3, 24))]
    assert str(event["SUMMARY"]) == "Hulp bij geldzaken – Geldpunt Noord"
    assert str(event["LOCATION"]) == "Vestiging Centrum, Kerkweg 1, 3603 CL Maarssen"
    assert "Geldpunt Noord · By appointment" in str(event["DESCRIPTION"])
    assert str(event["URL"]).endswith(f"/portal/series/{series.id}")


def test_window_is_thirty_days_back_and_a_year_ahead_and_configurable(
    app, client, staff, series, branch
):
    """By default the feed covers 30 days back and 365 ahead; both are settings."""
    _link, token = link_for(staff, location=branch)
    days = {e.decoded("DTSTART").date() for e in parse(fetch(client, token)).events}
    today = NOW.astimezone(AMS).date()
    assert min(days) == today - timedelta(days=30)
    assert max(days) == today + timedelta(days=365)

    app.config.update(FEED_DAYS_BACK=2, FEED_DAYS_AHEAD=7)
    days = {e.decoded("DTSTART").date() for e in parse(fetch(client, token)).events}
    assert min(days) == today - timedelta(days=2) and max(days) == today + timedelta(days=7)


def test_organisation_feed_covers_its_hours_wherever_held(
    client, staff, series, partner, make_series, make_location
):
    """An organisation's feed holds every series it provides, at any location, and no other."""
    elsewhere = make_series(
        title="Spreekuur Breukelen",
        provider=partner,
        location=make_location(city="Breukelen"),
        start_date=date(2026, 1, 1),
    )
    other = make_series(
        title="Iemand anders", location=series.location, start_date=date(2026, 1, 1)
    )
    _link, token = link_for(staff, FeedKind.ORGANISATION, organisation=partner)
    cal = _check_calendar(fetch(client, token), "Hours of Geldpunt Noord")
    titles = {str(e["SUMMARY"]).split(" – ")[0] for e in cal.events}
    assert titles == {"Hulp bij geldzaken", elsewhere.title}
    assert other.title not in titles


def test_personal_feed_shows_the_followed_hours_only(client, staff, series, partner, make_series):
    """A personal feed shows the series the staff member chose, and is marked busy."""
    not_followed = make_series(title="Niet gevolgd", provider=partner, start_date=date(2026, 1, 1))
    _link, token = link_for(staff, FeedKind.PERSONAL, series=[series], name="Mijn spreekuren")
    cal = _check_calendar(fetch(client, token), "Mijn spreekuren")
    assert {str(e["SUMMARY"]) for e in cal.events} == {"Hulp bij geldzaken – Geldpunt Noord"}
    assert not_followed.title not in fetch(client, token).get_data(as_text=True)
    assert {str(e["TRANSP"]) for e in cal.events} == {"OPAQUE"}


def test_feeds_show_published_hours_only(client, staff, series, branch, make_series, partner):
    """Drafts and paused hours are not held, so they are in no feed."""
    make_series(title="Concept", location=branch, status=SeriesStatus.DRAFT)
    make_series(title="Gepauzeerd", location=branch, status=SeriesStatus.PAUSED)
    _link, token = link_for(staff, location=branch)
    text = unfolded(fetch(client, token).data)
    assert "Hulp bij geldzaken" in text
    assert "Concept" not in text and "Gepauzeerd" not in text


# Text, escaping, times ----------------------------------------------------------------------


def test_text_is_escaped_and_utf8_survives(client, staff, make_series, partner, branch):
    """Commas, semicolons, backslashes and new lines are escaped; ë, é and Arabic survive,
    and long lines fold at 75 octets without splitting a character."""
    title = "مساعدة في الشؤون المالية; geldzaken, toeslagen \\ financiële hulp (café)"
    partner.name = "Geldpunt; Noord, Zuid"
    db.session.commit()
    make_series(
        title=title,
        provider=partner,
        location=branch,
        start_date=date(2026, 1, 1),
        weekdays=EVERY_DAY,
    )
    _link, token = link_for(staff, location=branch)
    response = fetch(client, token)
    _check_bytes(response.data)
    raw = unfolded(response.data)
    assert "SUMMARY:مساعدة في الشؤون المالية\\; geldzaken\\, toeslagen \\\\ financiële" in raw
    event = next(iter(parse(response).events))
    assert str(event["SUMMARY"]) == f"{title} – Geldpunt; Noord, Zuid"
    assert str(event["DESCRIPTION"]).startswith("Geldpunt; Noord, Zuid · By appointment")
    assert max(len(line) for line in response.data.split(b"\r\n")) == 75


def test_escaping_and_folding_of_the_writer():
    """New lines become \\n, control characters go, and a fold never separates a
    backslash from the character it escapes nor splits a multi-byte character."""
    assert ical.escape_text("a,b;c\\d\r\ne\rf\x07g") == "a\\,b\\;c\\\\d\\ne\\nfg"
    for prefix in range(60, 80):
        line = "DESCRIPTION:" + "x" * prefix + "\\,ëé" * 30
        folded = ical.fold(line)
        pieces = folded[:-2].split(b"\r\n ")
        assert all(len(p) + (1 if i else 0) <= 75 for i, p in enumerate(pieces))
        for piece in pieces:
            piece.decode("utf-8")
            trailing = len(piece) - len(piece.rstrip(b"\\"))
            assert trailing % 2 == 0, "an escape was split"
        assert b"".join(pieces).decode() == line


def _instant_from_feed(cal, event) -> datetime:
    """The event's start resolved with the feed's own VTIMEZONE, not Python's zone data."""
    (vtimezone,) = cal.walk("VTIMEZONE")
    own = icalendar.Timezone.from_ical(
        vtimezone.to_ical().replace(b"Europe/Amsterdam", b"Feed-Own-Zone")
    ).to_tz(lookup_tzid=False)
    start = event.decoded("DTSTART")
    if "TZID" not in event["DTSTART"].params:
        return start.astimezone(UTC)
    return start.replace(tzinfo=own).astimezone(UTC)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (SPRING - timedelta(days=1), 13),  # Saturday before: winter time, UTC+1
        (SPRING, 12),  # the Sunday of the change: summer time, UTC+2
        (AUTUMN - timedelta(days=1), 12),
        (AUTUMN, 13),  # back to winter time
        (AUTUMN + timedelta(days=1), 13),
    ],
)
def test_events_land_on_the_right_instant_across_dst(client, staff, series, branch, day, utc_hour):
    """14:00 in Maarssen stays 14:00 on both DST weekends, read with the feed's VTIMEZONE."""
    _link, token = link_for(staff, location=branch)
    cal = parse(fetch(client, token))
    event = events(cal)[occurrence_uid(series, day)]
    assert _instant_from_feed(cal, event) == datetime.combine(day, time(utc_hour), UTC)
    assert event.decoded("DTSTART").astimezone(UTC) == datetime.combine(day, time(utc_hour), UTC)


def test_night_hours_across_the_dst_changes(client, staff, make_series, partner, branch):
    """Times in the spring gap and in the repeated autumn hour land where the schedule puts
    them; a booking in the second pass of 02:30 is written in UTC, the only way to name it."""
    night = make_series(
        title="Nachtspreekuur",
        provider=partner,
        location=branch,
        weekdays="6",  # Sundays
        start_date=date(2026, 3, 1),
        start_time=time(1, 0),
        end_time=time(4, 0),
        min_notice_hours=0,
        book_ahead_days=366,
    )
    second_pass = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time
    # Stored directly: booking_service.find_slot compares the slot in the location's zone
    # with a UTC instant, which Python answers "not equal" for an ambiguous time (PEP 495).
    booking = Booking(
        series=night,
        slot_start=second_pass,
        slot_end=second_pass + timedelta(minutes=30),
        seat=1,
        code="ACDEFHJK",
        token_hash=feeds.hash_token("night"),
        name=RESIDENT.name,
    )
    db.session.add(booking)
    db.session.commit()
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.CODES)
    cal = parse(fetch(client, token))
    found = events(cal)
    spring = found[occurrence_uid(night, SPRING)]
    assert _instant_from_feed(cal, spring) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert spring.decoded("DTEND").astimezone(UTC) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    autumn = found[occurrence_uid(night, AUTUMN)]
    assert _instant_from_feed(cal, autumn) == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert autumn.decoded("DTEND").astimezone(UTC) == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)
    appointment = found[f"booking-{booking.id}-feed@spreekuur"]
    assert "DTSTART:20261025T013000Z" in unfolded(fetch(client, token).data)
    assert _instant_from_feed(cal, appointment) == second_pass


# Identity and changes ---------------------------------------------------------------------


def test_uids_stay_and_sequence_rises_when_an_occurrence_changes(client, staff, series, branch):
    """Rebuilding gives the same UIDs; other times on a date keep its UID, raise SEQUENCE
    and LAST-MODIFIED, and show the new times."""
    day = date(2026, 4, 2)
    _link, token = link_for(staff, location=branch)
    before = events(parse(fetch(client, token)))
    assert set(events(parse(fetch(client, token)))) == set(before)

    series_service.add_exception(
        series,
        day=day,
        kind=ExceptionKind.CHANGED,
        start_time=time(10, 0),
        end_time=time(12, 0),
        reason="Andere zaal",
    )
    after = events(parse(fetch(client, token)))
    assert set(after) == set(before)
    uid = occurrence_uid(series, day)
    assert after[uid].decoded("SEQUENCE") > before[uid].decoded("SEQUENCE")
    assert after[uid].decoded("LAST-MODIFIED") >= before[uid].decoded("LAST-MODIFIED")
    assert after[uid].decoded("DTSTART") == datetime.combine(day, time(10, 0), AMS)
    assert "Andere zaal" in str(after[uid]["DESCRIPTION"])


def test_cancelled_date_is_published_as_cancelled_with_higher_sequence(
    client, staff, series, branch
):
    """A cancelled date stays in the feed as STATUS:CANCELLED with a higher SEQUENCE, so
    subscribed calendars remove it."""
    day = date(2026, 4, 7)
    _link, token = link_for(staff, location=branch)
    before = events(parse(fetch(client, token)))[occurrence_uid(series, day)]
    assert str(before["STATUS"]) == "CONFIRMED"

    series_service.add_exception(
        series, day=day, kind=ExceptionKind.CANCELLED, reason="Adviseur ziek"
    )
    after = events(parse(fetch(client, token)))[occurrence_uid(series, day)]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert "Adviseur ziek" in str(after["DESCRIPTION"])
    assert str(after["TRANSP"]) == "TRANSPARENT"


def test_closure_cancels_every_series_at_the_location(client, staff, make_user, series, branch):
    """A branch closure shows as a cancellation of every series held there."""
    _link, token = link_for(staff, location=branch)
    day = date(2026, 4, 27)
    before = events(parse(fetch(client, token)))[occurrence_uid(series, day)]
    admin = make_user(Role.ORG_ADMIN, branch.organisation)
    series_service.close_location(branch, start=day, end=day, reason="Koningsdag", user=admin)
    after = events(parse(fetch(client, token)))[occurrence_uid(series, day)]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert "Koningsdag" in str(after["DESCRIPTION"])


def test_cancelled_dates_leave_the_feed_after_thirty_days(client, staff, series, branch):
    """Thirty days after the cancellation the date is no longer in the feed."""
    day = date(2026, 9, 1)
    series_service.add_exception(series, day=day, kind=ExceptionKind.CANCELLED)
    _link, token = link_for(staff, location=branch)
    assert occurrence_uid(series, day) in events(parse(fetch(client, token)))

    db.session.execute(sa.update(SeriesException).values(created_at=NOW - timedelta(days=31)))
    db.session.commit()
    assert occurrence_uid(series, day) not in events(parse(fetch(client, token)))


# Bookings in staff feeds --------------------------------------------------------------------


def test_counts_show_number_booked_of_seats(client, staff, series, branch):
    """With counts, each session says how many of its seats are booked, and nothing else."""
    book(series, SPRING, 14, by=staff)
    book(series, SPRING, 15, 30, by=staff)
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.COUNTS)
    found = events(parse(fetch(client, token)))
    assert "Booked: 2 of 8" in str(found[occurrence_uid(series, SPRING)]["DESCRIPTION"])
    assert "Booked: 0 of 8" in str(
        found[occurrence_uid(series, SPRING + timedelta(1))]["DESCRIPTION"]
    )
    assert not any(uid.startswith("booking-") for uid in found)


def test_codes_show_each_appointment_with_code_and_initials(client, staff, series, branch):
    """With codes, each appointment is an event: its code and the resident's initials."""
    booking = book(series, SPRING, 14, 30, by=staff)
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.CODES)
    cal = _check_calendar(fetch(client, token), "Hours at Vestiging Centrum")
    event = events(cal)[f"booking-{booking.id}-feed@spreekuur"]
    assert str(event["SUMMARY"]) == f"{booking.display_code} Z.Q.W. – Hulp bij geldzaken"
    assert event.decoded("DTSTART") == datetime.combine(SPRING, time(14, 30), AMS)
    assert event.decoded("SEQUENCE") == booking.version


def test_cancelled_booking_is_cancelled_with_higher_sequence_then_leaves(
    client, staff, series, branch, monkeypatch
):
    """A cancelled appointment stays 30 days as STATUS:CANCELLED with a higher SEQUENCE."""
    booking = book(series, SPRING, 14, by=staff)
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.CODES)
    uid = f"booking-{booking.id}-feed@spreekuur"
    before = events(parse(fetch(client, token)))[uid]
    assert str(before["STATUS"]) == "CONFIRMED"

    booking_service.cancel(booking, version=booking.version, by=staff)
    db.session.commit()
    after = events(parse(fetch(client, token)))[uid]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    found = events(parse(fetch(client, token)))
    assert "Booked: 0 of 8" in str(found[occurrence_uid(series, SPRING)]["DESCRIPTION"])

    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(days=31))
    assert uid not in events(parse(fetch(client, token)))


@pytest.mark.parametrize("detail", [FeedBookings.COUNTS, FeedBookings.CODES])
@pytest.mark.parametrize("kind", list(FeedKind))
def test_staff_feed_never_contains_a_residents_personal_data(
    client, staff, series, branch, partner, kind, detail
):
    """Whatever the feed and however much of the bookings it shows: no name, phone number,
    email address or question of a resident, folded or not."""
    book(series, SPRING, 14, by=staff)
    target = {
        FeedKind.LOCATION: {"location": branch},
        FeedKind.ORGANISATION: {"organisation": partner},
        FeedKind.PERSONAL: {"series": [series]},
    }[kind]
    _link, token = link_for(staff, kind, include_bookings=detail, **target)
    data = fetch(client, token).data
    text = unfolded(data)
    for secret in PERSONAL_DATA:
        assert secret.encode() not in data and secret not in text, secret
        assert ical.escape_text(secret) not in text
    assert ("Z.Q.W." in text) is (detail is FeedBookings.CODES)


def test_other_organisations_bookings_never_appear(
    client, staff, series, branch, library, make_user, make_series
):
    """The host's location feed shows no booking, not even a count, of a guest's hours; its
    own hours there do get their counts."""
    book(series, SPRING, 14, by=staff)
    own = make_series(
        title="Digicafé", provider=library, location=branch, start_date=date(2026, 1, 1)
    )
    host_staff = make_user(Role.STAFF, library)
    _link, token = link_for(host_staff, location=branch, include_bookings=FeedBookings.CODES)
    found = events(parse(fetch(client, token)))
    assert "Booked" not in str(found[occurrence_uid(series, SPRING)]["DESCRIPTION"])
    assert not any(uid.startswith("booking-") for uid in found)
    own_day = next(d for d in (SPRING + timedelta(n) for n in range(7)) if d.weekday() == 1)
    assert "Booked: 0 of" in str(found[occurrence_uid(own, own_day)]["DESCRIPTION"])


def test_bookings_leave_the_feed_when_its_owner_becomes_a_volunteer(client, staff, series, branch):
    """What a feed shows is decided when it is read: a volunteer's feeds show no bookings."""
    book(series, SPRING, 14, by=staff)
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.CODES)
    assert "Z.Q.W." in unfolded(fetch(client, token).data)
    staff.role = Role.VOLUNTEER
    db.session.commit()
    text = unfolded(fetch(client, token).data)
    assert "Z.Q.W." not in text and "Booked" not in text


# Secret links --------------------------------------------------------------------------------


def test_tokens_are_random_long_and_stored_only_as_a_hash(staff, branch):
    """256-bit random tokens; the database holds only their SHA-256."""
    link, token = link_for(staff, location=branch)
    _other, second = link_for(staff, location=branch)
    assert len(token) >= 43 and token != second  # 32 bytes in URL-safe base64
    stored = db.session.scalars(sa.select(FeedLink.token_hash)).all()
    assert token not in str(stored) and link.token_hash == feeds.hash_token(token)


def test_revoked_and_unknown_tokens_get_the_same_404(client, staff, branch):
    """A revoked token, an unknown one, a malformed one and a missing public feed all get
    the same 404: nothing tells which tokens exist."""
    link, token = link_for(staff, location=branch)
    assert fetch(client, token).status_code == 200
    feeds.revoke(link)
    answers = [
        fetch(client, token),
        fetch(client, "x" * 43),
        fetch(client, "x" * 500),
        client.get("/agenda/plaats/Nergenshuizen.ics"),
        client.get("/agenda/onderwerp/bestaat-niet.ics"),
    ]
    first = answers[0]
    assert first.status_code == 404
    for answer in answers:
        assert (answer.status_code, answer.data, answer.headers["Content-Type"]) == (
            first.status_code,
            first.data,
            first.headers["Content-Type"],
        )
    assert client.head(f"/feeds/{token}.ics").status_code == 404


def test_deactivating_a_user_revokes_their_links(client, staff, branch):
    """A deactivated account's feeds stop at once, and stay revoked when it returns."""
    link, token = link_for(staff, location=branch)
    accounts.set_active(staff, False)
    assert fetch(client, token).status_code == 404
    assert db.session.get(FeedLink, link.id).revoked_at is not None
    accounts.set_active(staff, True)
    assert fetch(client, token).status_code == 404


def test_use_is_recorded_but_not_on_every_poll(client, staff, branch, monkeypatch):
    """The last use is written at most every 15 minutes: polling stays a read."""
    link, token = link_for(staff, location=branch)
    assert link.last_used_at is None
    fetch(client, token)
    assert db.session.get(FeedLink, link.id).last_used_at == NOW
    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(minutes=5))
    fetch(client, token)
    assert db.session.get(FeedLink, link.id).last_used_at == NOW
    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(minutes=20))
    fetch(client, token)
    assert db.session.get(FeedLink, link.id).last_used_at == NOW + timedelta(minutes=20)


# Cheap to poll -------------------------------------------------------------------------------


def test_conditional_get_answers_304_until_something_changes(client, staff, series, branch):
    """ETag and Last-Modified on every answer; If-None-Match and If-Modified-Since get 304
    with no body; a change makes the feed new again."""
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.COUNTS)
    first = fetch(client, token)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"') and modified.endswith("GMT")
    assert first.headers["Cache-Control"] == "private, no-cache"

    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'W/"another", {etag}'},  # a client that kept several
        {"If-None-Match": etag.removeprefix("W/")},  # compared weakly, as RFC 9110 says
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        again = fetch(client, token, **headers)
        assert again.status_code == 304 and again.data == b"", headers
        assert again.headers["ETag"] == etag
    assert fetch(client, token, **{"If-None-Match": 'W/"another"'}).status_code == 200

    book(series, SPRING, 14, by=staff)  # a booking changes a feed that shows bookings
    changed = fetch(client, token, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    new_etag = changed.headers["ETag"]

    series_service.add_exception(series, day=date(2026, 5, 5), kind=ExceptionKind.CANCELLED)
    assert fetch(client, token, **{"If-None-Match": new_etag}).status_code == 200


def test_equal_freshness_gives_identical_bytes(client, staff, series, branch, monkeypatch):
    """Two polls seconds apart with nothing changed in between give the same bytes: every
    DTSTAMP is the feed's last change, not the moment of serving."""
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.COUNTS)
    book(series, SPRING, 14, by=staff)
    public = "/agenda/plaats/Maarssen.ics"
    first, first_public = fetch(client, token), client.get(public)
    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(seconds=61))
    second, second_public = fetch(client, token), client.get(public)
    assert first.status_code == second.status_code == 200
    assert first_public.status_code == second_public.status_code == 200
    assert b"DTSTAMP:" in first.data and b"DTSTAMP:" in first_public.data
    assert first.data == second.data
    assert first_public.data == second_public.data
    stamps = set(re.findall(rb"DTSTAMP:(\S+)", first.data))
    modified = datetime.strptime(first.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert stamps == {modified.strftime("%Y%m%dT%H%M%SZ").encode()}


def test_a_new_day_moves_the_window_and_the_etag(client, staff, series, branch, monkeypatch):
    """The window moves at midnight: yesterday's copy is stale, however unchanged the data."""
    _link, token = link_for(staff, location=branch)
    etag = fetch(client, token).headers["ETag"]
    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(hours=1))
    assert fetch(client, token, **{"If-None-Match": etag}).status_code == 304
    monkeypatch.setattr("app.clock.now", lambda: NOW + timedelta(days=1))
    assert fetch(client, token, **{"If-None-Match": etag}).status_code == 200


def test_bookings_of_hours_not_shown_do_not_change_the_etag(
    client, staff, series, branch, library, make_user
):
    """A feed without bookings stays fresh when residents book."""
    _link, token = link_for(staff, location=branch)
    etag = fetch(client, token).headers["ETag"]
    book(series, SPRING, 14, by=staff)
    assert fetch(client, token, **{"If-None-Match": etag}).status_code == 304


def test_the_304_and_head_paths_build_no_calendar(client, staff, series, branch, monkeypatch):
    """A conditional GET and a HEAD are answered from the freshness query alone."""
    _link, token = link_for(staff, location=branch, include_bookings=FeedBookings.CODES)
    full = fetch(client, token)

    def refuse(*args, **kwargs):
        raise AssertionError("the calendar was built")

    monkeypatch.setattr(feeds, "build", refuse)
    monkeypatch.setattr(feeds, "_load", refuse)
    assert fetch(client, token, **{"If-None-Match": full.headers["ETag"]}).status_code == 304
    head = client.head(f"/feeds/{token}.ics")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Last-Modified"] == full.headers["Last-Modified"]
    assert head.headers["Content-Type"] == "text/calendar; charset=utf-8"
    conditional = client.head(
        f"/feeds/{token}.ics", headers={"If-None-Match": full.headers["ETag"]}
    )
    assert conditional.status_code == 304 and conditional.data == b""
    with pytest.raises(AssertionError):
        fetch(client, token)


def test_editing_a_place_or_an_organisation_makes_feeds_new(client, staff, series, branch, partner):
    """Addresses and names are written into the events: a change reaches every feed."""
    _link, token = link_for(staff, location=branch)
    etag = fetch(client, token).headers["ETag"]
    place_etag = client.get("/agenda/plaats/Maarssen.ics").headers["ETag"]

    branch.street = "Kerkweg 3"
    db.session.commit()
    changed = fetch(client, token, **{"If-None-Match": etag})
    assert changed.status_code == 200 and "Kerkweg 3" in unfolded(changed.data)
    etag = changed.headers["ETag"]

    partner.name = "Geldpunt Vechtstreek"
    db.session.commit()
    changed = fetch(client, token, **{"If-None-Match": etag})
    assert changed.status_code == 200 and "Geldpunt Vechtstreek" in unfolded(changed.data)
    place = client.get("/agenda/plaats/Maarssen.ics", headers={"If-None-Match": place_etag})
    assert place.status_code == 200 and "Geldpunt Vechtstreek" in unfolded(place.data)


def test_a_poll_survives_a_connection_the_database_dropped(app, client, staff, branch):
    """After a database restart or fail-over, the next poll gets its answer all the same:
    a dead poll connection is thrown away and the poll runs again on a fresh one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite database file has no connection to lose")
    _link, token = link_for(staff, location=branch)
    etag = fetch(client, token).headers["ETag"]
    with feeds.cursor() as poll:
        poll.cursor.execute("SELECT pg_backend_pid()")
        (pid,) = poll.cursor.fetchone()
    with db.engine.connect() as admin:
        assert admin.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    assert fetch(client, token, **{"If-None-Match": etag}).status_code == 304
    with feeds.cursor() as poll:
        poll.cursor.execute("SELECT pg_backend_pid()")
        assert poll.cursor.fetchone()[0] != pid


# Public feeds ----------------------------------------------------------------------------------


def test_public_place_and_topic_feeds_hold_published_hours_and_no_personal_data(
    client, staff, series, make_series
):
    """Residents subscribe per place and per topic: published hours only, nothing personal."""
    book(series, SPRING, 14, by=staff)
    make_series(title="Concept", location=series.location, status=SeriesStatus.DRAFT)
    place = client.get("/agenda/plaats/Maarssen.ics?taal=en")
    cal = _check_calendar(place, "Help sessions in Maarssen")
    assert place.headers["Cache-Control"] == "public, max-age=300"
    event = events(cal)[occurrence_uid(series, SPRING)]
    assert str(event["URL"]).endswith(f"/spreekuren/{series.id}")
    topic = client.get("/agenda/onderwerp/toeslagen.ics")  # Dutch unless asked otherwise
    assert "Toeslagen" in str(parse(topic)["NAME"])
    english = client.get("/agenda/onderwerp/toeslagen.ics?taal=en")
    _check_calendar(english, "Help sessions: Benefits")
    for response in (place, topic, english):
        text = unfolded(response.data)
        assert "Concept" not in text and "Booked" not in text and "Booked" not in text
        assert not any(secret in text for secret in PERSONAL_DATA)
        assert "booking-" not in text
    etag = place.headers["ETag"]
    again = client.get("/agenda/plaats/Maarssen.ics?taal=en", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_public_feed_index_lists_places_and_topics(client, series):
    """/agenda offers each place and topic as a webcal and an https address."""
    page = client.get("/agenda").get_data(as_text=True)
    assert "webcal://localhost/agenda/plaats/Maarssen.ics" in page
    assert "http://localhost/agenda/onderwerp/toeslagen.ics" in page


def test_residents_own_calendar_file_uses_the_same_writer(client, series):
    """The 'add to my calendar' download is a valid calendar from the same writer."""
    response = client.post(
        f"/spreekuren/{series.id}/afspraak?tijd=2026-03-29T12:00Z",
        data={"name": "Fatima", "phone": "06 12345678", "language": "nl"},
    )
    assert response.status_code == 303
    ics = client.get("/afspraak/mijn/agenda.ics")
    _check_bytes(ics.data)
    cal = icalendar.Calendar.from_ical(ics.data)
    assert str(cal["PRODID"]) == ical.PRODID and str(cal["METHOD"]) == "PUBLISH"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    (event,) = cal.events
    booking = db.session.scalar(sa.select(Booking))
    assert str(event["UID"]) == f"booking-{booking.id}@spreekuur"
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert _instant_from_feed(cal, event) == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


# The portal pages, as staff see them -----------------------------------------------------------


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_make_a_feed_and_see_its_https_and_webcal_address_once(
    app, en, login, staff, branch, series
):
    """After making a feed the page shows its https and webcal address, with a copy button
    and instructions; the address works, and is not shown again."""
    app.config["PUBLIC_URL"] = "https://spreekuur.example.org"
    login(staff)
    assert "All hours at a location" in en.get("/portal/feeds/new").get_data(as_text=True)
    response = en.post(
        "/portal/feeds/new/location",
        data={"location": branch.id, "include_bookings": "counts", "name": "Centrum"},
    )
    assert response.status_code == 303
    page = en.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'value="https://spreekuur\.example\.org/feeds/([\w-]+)\.ics"', page)
    assert match, page
    token = match.group(1)
    assert f'value="webcal://spreekuur.example.org/feeds/{token}.ics"' in page
    assert "data-copy=" in page and "readonly" in page
    for app_name in ("Outlook", "Google Calendar", "Apple Calendar"):
        assert app_name in page
    link = db.session.scalar(sa.select(FeedLink))
    assert (link.kind, link.location_id, link.include_bookings) == (
        FeedKind.LOCATION,
        branch.id,
        FeedBookings.COUNTS,
    )
    assert link.name == "Centrum" and link.language == "en"
    cal = parse(en.get(f"/feeds/{token}.ics"))
    assert str(cal["NAME"]) == "Centrum"
    assert "Booked: 0 of 8" in unfolded(en.get(f"/feeds/{token}.ics").data)

    again = en.get(f"/portal/feeds/{link.id}").get_data(as_text=True)
    assert token not in again and "shown only once" in again


def test_list_shows_last_use_and_revoke_stops_the_feed(en, login, staff, branch):
    """The list shows when each feed was last used; revoking removes it and its access."""
    link, token = link_for(staff, location=branch)
    login(staff)
    assert "Not used yet" in en.get("/portal/feeds").get_data(as_text=True)
    fetch(en, token)
    listing = en.get("/portal/feeds").get_data(as_text=True)
    assert "Not used yet" not in listing and "10:00" in listing  # 09:00 UTC, winter time
    response = en.post(f"/portal/feeds/{link.id}/revoke")
    assert response.status_code == 303
    assert fetch(en, token).status_code == 404
    assert "Hours at Vestiging Centrum" not in en.get("/portal/feeds").get_data(as_text=True)
    assert en.get(f"/portal/feeds/{link.id}").status_code == 404


def test_personal_feed_form_lists_own_hours_and_htmx_errors_are_fragments(
    en, login, staff, series, make_series
):
    """The personal form offers the organisation's hours; an empty choice is a 422 fragment."""
    other = make_series(title="Van een ander", start_date=date(2026, 1, 1))
    login(staff)
    form = en.get("/portal/feeds/new/personal").get_data(as_text=True)
    assert "Hulp bij geldzaken" in form and "Van een ander" not in form
    response = en.post(
        "/portal/feeds/new/personal",
        data={"include_bookings": "none"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="feed-form"') and "<html" not in html
    assert "Choose at least one of your hours to follow." in html
    forged = en.post("/portal/feeds/new/personal", data={"series": [other.id]})
    assert forged.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(FeedLink.id))) == 0


def test_a_switched_off_organisation_leaves_feeds_and_its_staff_links_stop(
    client, staff, series, branch, partner, make_user, library
):
    """As on the public pages: an organisation switched off has no hours in any feed, and
    its staff, who can no longer log in, read no feed either."""
    host_staff = make_user(Role.STAFF, library)
    _link, host_token = link_for(host_staff, location=branch)
    _link, own_token = link_for(staff, location=branch)
    etag = fetch(client, host_token).headers["ETag"]
    assert "Hulp bij geldzaken" in unfolded(fetch(client, host_token).data)
    partner.active = False
    db.session.commit()
    changed = fetch(client, host_token, **{"If-None-Match": etag})
    assert changed.status_code == 200 and "Hulp bij geldzaken" not in unfolded(changed.data)
    assert "Hulp bij geldzaken" not in unfolded(client.get("/agenda/plaats/Maarssen.ics").data)
    assert fetch(client, own_token).status_code == 404


def test_closures_and_removed_exceptions_make_the_feed_new(
    client, staff, series, branch, make_user
):
    """Closures and exceptions have no timestamp of their own in the freshness query: adding
    or removing one raises the series' revision, which is what changes the ETag."""
    _link, token = link_for(staff, location=branch)

    def etag():
        return fetch(client, token).headers["ETag"]

    first = etag()
    admin = make_user(Role.ORG_ADMIN, branch.organisation)
    closure = series_service.close_location(
        branch, start=date(2026, 5, 1), end=date(2026, 5, 2), reason="Verbouwing", user=admin
    )
    second = etag()
    series_service.remove_closure(closure)
    third = etag()
    exception = series_service.add_exception(
        series, day=date(2026, 5, 6), kind=ExceptionKind.CANCELLED
    )
    fourth = etag()
    series_service.remove_exception(exception)
    fifth = etag()
    assert len({first, second, third, fourth, fifth}) == 5


def test_public_feeds_speak_the_residents_language(client, series):
    """A topic's and a town's calendar in Arabic: its name, description and a cancelled
    date in Arabic, the field's words as they are."""
    series_service.add_exception(series, day=SPRING, kind=ExceptionKind.CANCELLED)
    topic = client.get("/agenda/onderwerp/toeslagen.ics?taal=ar")
    assert str(parse(topic)["NAME"]).startswith("جلسات مساعدة: ")
    town = parse(client.get("/agenda/plaats/Maarssen.ics?taal=ar"))
    assert str(town["NAME"]) == "جلسات مساعدة في Maarssen"
    assert str(town["X-WR-CALDESC"]) == "مساعدة في المواقع الحكومية: جلسات المساعدة المنشورة."
    cancelled = events(town)[occurrence_uid(series, SPRING)]
    assert str(cancelled["SUMMARY"]).startswith("ملغى: ")
