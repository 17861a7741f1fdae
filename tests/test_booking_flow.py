"""Residents find help, book, and manage their appointment, as they do in the browser."""

import contextlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    Mode,
    OrganisationKind,
    OutboxMessage,
    SeriesStatus,
)
from app.services import booking as booking_service
from app.services import directory
from app.services.booking import ResidentDetails

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Maarssen")


@pytest.fixture
def branch(make_location, library):
    return make_location(organisation=library, name="Bibliotheek Maarssen centrum", city="Maarssen")


@pytest.fixture
def series(make_series, make_org, branch, make_topic):
    return make_series(
        title="Hulp bij geldzaken",
        provider=make_org(name="Geldpunt"),
        location=branch,
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(14, 0),
        end_time=time(15, 0),
        seats_per_slot=1,
        topics=[make_topic(slug="geldzaken", name_en="Money matters")],
        what_to_bring="Uw bankafschriften",
    )


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = clock.today() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def slot_param(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def book_url(series, moment: datetime) -> str:
    return f"/spreekuren/{series.id}/afspraak?tijd={slot_param(moment)}"


def resident_form(**overrides) -> dict:
    data = {"name": "Fatima", "phone": "06 12345678", "email": "", "language": "nl"}
    data.update(overrides)
    return data


def book_via_form(client, series, moment, **overrides):
    return client.post(book_url(series, moment), data=resident_form(**overrides))


# Finding help -----------------------------------------------------------------------------


def test_hours_list_groups_by_day_and_marks_walk_in(en, series, make_series, branch):
    """The list shows the coming days' sessions; walk-in hours say no appointment is needed."""
    make_series(
        title="Inloop VluchtelingenWerk",
        location=branch,
        mode=Mode.WALK_IN,
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=1),
    )
    page = en.get("/spreekuren").get_data(as_text=True)
    assert "Hulp bij geldzaken" in page and "Inloop VluchtelingenWerk" in page
    assert "No appointment needed. Just come by." in page
    tomorrow = clock.today() + timedelta(days=1)
    assert f'id="day-{tomorrow.isoformat()}"' in page
    assert "14:00–15:00" in page


def test_hours_list_filters_by_topic_place_and_organisation(en, series, make_series, make_location):
    """Filters are a normal GET form: topic, place and organisation narrow the list."""
    elsewhere = make_location(city="Breukelen")
    make_series(
        title="Spreekuur Breukelen",
        location=elsewhere,
        weekdays=EVERY_DAY,
        start_date=clock.today(),
    )
    by_topic = en.get("/spreekuren?onderwerp=geldzaken").get_data(as_text=True)
    assert "Hulp bij geldzaken" in by_topic and "Spreekuur Breukelen" not in by_topic
    by_place = en.get("/spreekuren?plaats=Breukelen").get_data(as_text=True)
    assert "Spreekuur Breukelen" in by_place and "Hulp bij geldzaken" not in by_place
    by_org = en.get(f"/spreekuren?organisatie={series.provider_id}").get_data(as_text=True)
    assert "Hulp bij geldzaken" in by_org and "Spreekuur Breukelen" not in by_org


def test_htmx_filter_returns_only_the_results(en, series):
    """Active search swaps just the results section (the heading that names the topic, the
    line that sums up the choice and the count out of band), and the page URL is a real page."""
    response = en.get("/spreekuren?onderwerp=geldzaken", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<h1 id="hours-title" hx-swap-oob="true">Help with Money')
    assert '<span id="filter-summary" class="filter-summary" hx-swap-oob="true">' in html
    assert '<p id="result-count" class="result-count" role="status" hx-swap-oob="true">' in html
    # Every day for four weeks: the first 25, then a link to the later ones.
    assert "25 help sessions shown. Later sessions are on the next page." in html
    assert '<section id="results"' in html
    assert "<html" not in html and "Hulp bij geldzaken" in html


def test_draft_and_paused_hours_are_not_public(en, make_series):
    """Unpublished hours neither appear in the list nor have a public page."""
    draft = make_series(
        title="Concept", status=SeriesStatus.DRAFT, weekdays=EVERY_DAY, start_date=clock.today()
    )
    assert "Concept" not in en.get("/spreekuren").get_data(as_text=True)
    assert en.get(f"/spreekuren/{draft.id}").status_code == 404


def test_series_page_offers_free_times_as_full_sentences(en, series):
    """Each free time is a link saying the day, the date and the time."""
    page = en.get(f"/spreekuren/{series.id}").get_data(as_text=True)
    moment = tomorrow_at(14).astimezone(AMS)
    day_text = f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B')} {moment.year}"
    assert day_text in page
    assert book_url(series, tomorrow_at(14)) in page
    assert "Uw bankafschriften" in page


def test_full_slots_are_not_offered_and_full_hours_show_alternatives(
    en, series, make_series, branch
):
    """When every time is taken, the page says so and shows hours on the same topic elsewhere."""
    other = make_series(
        title="Geldzaken elders",
        location=branch,
        weekdays=EVERY_DAY,
        start_date=clock.today(),
        topics=list(series.topics),
    )
    for day in range(0, 60):
        for minute in (0, 30):
            moment = datetime.combine(clock.today() + timedelta(days=day), time(14, minute), AMS)
            with contextlib.suppress(booking_service.DomainError):
                booking_service.book(
                    series, moment.astimezone(UTC), ResidentDetails(name="X"), by=None
                )
    db.session.commit()
    page = en.get(f"/spreekuren/{series.id}").get_data(as_text=True)
    assert "All times are taken at the moment." in page
    assert "Geldzaken elders" in page
    assert f"/spreekuren/{other.id}/afspraak" in page


# Booking -----------------------------------------------------------------------------------


def test_resident_books_and_sees_code_link_card_and_calendar(en, series):
    """Booking leads to a success page with the code boxed; the card carries the code."""
    response = book_via_form(en, series, tomorrow_at(14))
    assert response.status_code == 303
    assert response.headers["Location"] == "/afspraak/mijn"
    page = en.get("/afspraak/mijn").get_data(as_text=True)
    booking = db.session.scalar(sa.select(Booking))
    assert "Your appointment is made" in page
    assert booking.display_code in page
    assert '<p class="code code-box"><bdi dir="ltr">' + booking.display_code in page
    assert "Print appointment card" in page

    card = en.get("/afspraak/mijn/kaart").get_data(as_text=True)
    assert booking.display_code in card and "14:00–14:30" in card
    assert "Uw bankafschriften" in card

    ics = en.get("/afspraak/mijn/agenda.ics")
    assert ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    event = icalendar.Calendar.from_ical(ics.data).events[0]
    assert event.decoded("dtstart").astimezone(UTC) == tomorrow_at(14)


def _qr_path(svg: str) -> str:
    return svg.split(' d="', 1)[1].split('"', 1)[0]


def test_the_card_carries_a_qr_code_to_the_appointment_instead_of_a_long_link(en, series, app):
    """No long link to copy by hand: the card's QR code opens the appointment's own page
    (its secret link); after finding it by code, the QR code leads to the page to find it."""
    from app.services.notify import external_url
    from app.web.qr import qr_svg

    book_via_form(en, series, tomorrow_at(14))
    assert "/afspraak/link/" not in en.get("/afspraak/mijn").get_data(as_text=True)
    with en.session_transaction() as session:
        token = session["appointment_link"]
    card = en.get("/afspraak/mijn/kaart").get_data(as_text=True)
    with app.test_request_context():
        to_appointment = _qr_path(qr_svg(external_url("booking.open_link", token=token), "x"))
        to_find = _qr_path(qr_svg(external_url("booking.find"), "x"))
    assert 'role="img" aria-label="QR code: scan it to open your appointment' in card
    assert to_appointment in card and " style=" not in card
    assert en.get(f"/afspraak/link/{token}").status_code == 303

    booking = db.session.scalar(sa.select(Booking))
    other = app.test_client()
    other.post("/taal", data={"language": "en", "next": "/"})
    other.post("/afspraak", data={"code": booking.display_code, "phone_or_name": "Fatima"})
    card = other.get("/afspraak/mijn/kaart").get_data(as_text=True)
    assert to_find in card and to_appointment not in card


def test_booking_with_email_queues_a_confirmation_with_calendar(en, series):
    """With an email address, a confirmation with the .ics waits in the outbox."""
    book_via_form(en, series, tomorrow_at(14), email="fatima@example.org", language="en")
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.recipient == "fatima@example.org"
    assert message.subject == "Your appointment: Hulp bij geldzaken"
    assert "BEGIN:VCALENDAR" in message.ics
    booking = db.session.scalar(sa.select(Booking))
    assert booking.display_code in message.body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"question": "Mijn BSN is 123456782"}, "Please do not write your BSN"),
        ({"phone": "bel mij"}, "This phone number is not correct."),
        ({"email": "geen-adres"}, "Invalid email address."),
    ],
)
def test_bad_input_is_explained_and_nothing_is_booked(en, series, overrides, message):
    """Bad input re-renders the form (422) with a clear message; no booking is made."""
    response = book_via_form(en, series, tomorrow_at(14), **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_taken_slot_gets_a_clear_page_with_alternatives(en, app, series):
    """Someone else took the last seat: a 409 page says so and offers the nearest times."""
    other = app.test_client()
    book_via_form(other, series, tomorrow_at(14), name="Eerste")
    response = book_via_form(en, series, tomorrow_at(14))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This time was just taken by someone else." in page
    assert book_url(series, tomorrow_at(14, 30)) in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_minimum_notice_is_enforced_for_residents(en, series):
    """A time sooner than the minimum notice cannot be booked by a resident."""
    series.min_notice_hours = 48
    db.session.commit()
    response = book_via_form(en, series, tomorrow_at(14))
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_booking_horizon_is_enforced(en, series):
    """A time beyond the booking horizon cannot be booked."""
    series.book_ahead_days = 1
    db.session.commit()
    far = tomorrow_at(14) + timedelta(days=3)
    assert book_via_form(en, series, far).status_code == 409


# Managing ----------------------------------------------------------------------------------


def _book(series, moment=None, **details):
    values = {"name": "Fatima", "phone": "06 12345678"}
    values.update(details)
    booking, token = booking_service.book(
        series, moment or tomorrow_at(14), ResidentDetails(**values)
    )
    db.session.commit()
    return booking, token


def test_find_with_code_and_phone_or_name(en, series):
    """The code plus the phone number (or the name) opens the appointment; a wrong pair does not."""
    booking, _ = _book(series)
    wrong = en.post("/afspraak", data={"code": booking.code, "phone_or_name": "0600000000"})
    assert wrong.status_code == 422
    assert "We cannot find an appointment" in wrong.get_data(as_text=True)
    assert en.get("/afspraak/mijn").status_code == 404
    found = en.post(
        "/afspraak", data={"code": booking.display_code.lower(), "phone_or_name": "06-12345678"}
    )
    assert found.status_code == 303
    assert booking.display_code in en.get("/afspraak/mijn").get_data(as_text=True)


def test_secret_link_opens_the_appointment_and_leaves_the_address_bar(en, series):
    """The link grants access and redirects, so the token does not stay in the URL."""
    booking, token = _book(series)
    response = en.get(f"/afspraak/link/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/afspraak/mijn"
    assert booking.display_code in en.get("/afspraak/mijn").get_data(as_text=True)
    assert en.get("/afspraak/link/not-a-token").status_code == 404


def test_cancel_asks_first_then_frees_the_time(en, series):
    """Cancelling is a confirmed POST; afterwards the time is free for someone else."""
    booking, token = _book(series, email="fatima@example.org")
    en.get(f"/afspraak/link/{token}")
    confirm = en.get("/afspraak/mijn/afzeggen").get_data(as_text=True)
    assert "Do you want to cancel this appointment?" in confirm
    response = en.post("/afspraak/mijn/afzeggen", data={"version": booking.version})
    assert response.status_code == 303
    db.session.refresh(booking)
    assert booking.status is BookingStatus.CANCELLED and booking.seat is None
    assert "This appointment is cancelled" in en.get("/afspraak/mijn").get_data(as_text=True)
    subjects = db.session.scalars(sa.select(OutboxMessage.subject)).all()
    assert any("cancelled" in s or "afgezegd" in s for s in subjects)
    _book(series, name="Volgende")  # the time is free again


def test_move_frees_the_old_time_and_voids_everything_from_before(en, app, series):
    """After a move: the old time is free, the old link is dead, an old form cannot act."""
    booking, old_token = _book(series)
    en.get(f"/afspraak/link/{old_token}")
    old_version = booking.version
    page = en.get("/afspraak/mijn/verzetten").get_data(as_text=True)
    assert slot_param(tomorrow_at(14, 30)) in page

    response = en.post(
        "/afspraak/mijn/verzetten",
        data={"version": old_version, "slot": slot_param(tomorrow_at(14, 30))},
    )
    assert response.status_code == 303
    db.session.refresh(booking)
    assert booking.slot_start == tomorrow_at(14, 30)
    assert "Your appointment has a new time." in en.get("/afspraak/mijn").get_data(as_text=True)

    # The old link no longer works.
    stranger = app.test_client()
    assert stranger.get(f"/afspraak/link/{old_token}").status_code == 404
    # A cancel form from before the move is refused.
    en.post("/afspraak/mijn/afzeggen", data={"version": old_version})
    db.session.refresh(booking)
    assert booking.status is BookingStatus.BOOKED
    # The old time is free again.
    _book(series, name="Volgende")


def test_a_session_from_before_a_staff_change_loses_access(en, series):
    """When staff move the appointment, a browser that opened it before must look it up again."""
    booking, token = _book(series)
    en.get(f"/afspraak/link/{token}")
    booking_service.move(booking, tomorrow_at(14, 30), version=booking.version, by=None)
    db.session.commit()
    assert en.get("/afspraak/mijn").status_code == 404


def test_affected_appointment_shows_a_notice_and_mail_is_queued(
    en, app, series, library, make_user, login
):
    """A closure on the booked day marks the booking affected; the resident is told."""
    from app.services import series as series_service

    booking, token = _book(series, email="fatima@example.org")
    day = clock.today() + timedelta(days=1)
    admin = make_user(organisation=library)
    series_service.close_location(
        series.location, start=day, end=day, reason="Stroomstoring", user=admin
    )
    db.session.refresh(booking)
    assert booking.affected_at is not None and booking.affected_reason == "Stroomstoring"
    en.get(f"/afspraak/link/{token}")
    page = en.get("/afspraak/mijn").get_data(as_text=True)
    assert "This appointment cannot take place at this time." in page
    assert "Stroomstoring" in page
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.booking_id == booking.id)
        )
        == 1
    )


def test_hours_of_an_inactive_organisation_are_not_public(en, series):
    """Hours of an organisation that left the network disappear from the public pages."""
    directory.save(series.provider, {"active": False})
    assert "Hulp bij geldzaken" not in en.get("/spreekuren").get_data(as_text=True)
    assert en.get(f"/spreekuren/{series.id}").status_code == 404
    assert book_via_form(en, series, tomorrow_at(14)).status_code == 404
