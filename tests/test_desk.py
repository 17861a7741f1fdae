"""Staff at the desk book for residents, print the card, and handle their day lists."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import BookedVia, Booking, BookingStatus, OrganisationKind, OutboxMessage, Role
from app.services import booking as booking_service
from app.services import series as series_service
from app.services.booking import ResidentDetails

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Maarssen")


@pytest.fixture
def partner(make_org):
    return make_org(name="Geldpunt")


@pytest.fixture
def series(make_series, make_location, library, partner):
    return make_series(
        title="Hulp bij geldzaken",
        provider=partner,
        location=make_location(organisation=library),
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        min_notice_hours=48,
        seats_per_slot=1,
    )


def today_at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def param(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


@pytest.fixture
def desk_staff(en, make_user, library, login):
    user = make_user(Role.VOLUNTEER, library)
    login(user)
    return user


def test_desk_books_for_a_resident_without_phone_or_email(en, desk_staff, series):
    """A volunteer books tomorrow's time for a resident who has no phone or email."""
    moment = today_at(10, days=1)  # within the 48 h notice: staff may still book
    page = en.get(f"/portal/desk?series={series.id}").get_data(as_text=True)
    assert f"/portal/desk/book?series={series.id}&amp;tijd={param(moment)}" in page
    response = en.post(
        f"/portal/desk/book?series={series.id}&tijd={param(moment)}",
        data={"name": "Jan", "language": "nl"},
    )
    assert response.status_code == 303
    booking = db.session.scalar(sa.select(Booking))
    assert booking.booked_via is BookedVia.DESK and booking.created_by_id == desk_staff.id
    detail = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "The appointment is made. Print the card for the resident." in detail
    card = en.get(f"/portal/bookings/{booking.id}/card").get_data(as_text=True)
    assert booking.display_code in card and "10:00–10:30" in card


def test_desk_htmx_series_choice_returns_the_free_times_only(en, desk_staff, series):
    """Choosing the hours with htmx swaps in the free times, not the whole page."""
    response = en.get(f"/portal/desk?series={series.id}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="desk-slots"')


def test_card_is_in_the_residents_language(en, desk_staff, series):
    """The printed card speaks the language the resident chose."""
    moment = today_at(10, days=2)
    en.post(
        f"/portal/desk/book?series={series.id}&tijd={param(moment)}",
        data={"name": "Jan", "language": "nl"},
    )
    booking = db.session.scalar(sa.select(Booking))
    card = en.get(f"/portal/bookings/{booking.id}/card").get_data(as_text=True)
    assert '<html lang="nl"' in card


def _book(series, moment, **details):
    values = {"name": "Fatima", "phone": "0612345678"}
    values.update(details)
    booking, _token = booking_service.book(
        series, moment, ResidentDetails(**values), now=clock.now() - timedelta(days=3)
    )
    db.session.commit()
    return booking


def test_partner_staff_see_the_day_list_and_mark_attendance(en, make_user, partner, series, login):
    """The provider's staff see today's list with names and mark who came."""
    booking = _book(series, today_at(16, days=3))
    login(make_user(Role.STAFF, partner))
    day = (clock.today() + timedelta(days=3)).isoformat()
    page = en.get(f"/portal/bookings?day={day}").get_data(as_text=True)
    assert "Fatima" in page and booking.display_code in page
    en.post(f"/portal/bookings/{booking.id}/attendance", data={"status": "attended"})
    db.session.refresh(booking)
    assert booking.status is BookingStatus.ATTENDED


def test_host_staff_do_not_see_guest_residents(en, make_user, library, series, login):
    """The library hosts the hours but does not see the partner's residents."""
    booking = _book(series, today_at(16, days=3))
    login(make_user(Role.STAFF, library))
    day = (clock.today() + timedelta(days=3)).isoformat()
    assert "Fatima" not in en.get(f"/portal/bookings?day={day}").get_data(as_text=True)
    response = en.get(f"/portal/bookings/{booking.id}")
    assert response.status_code == 404
    assert "Fatima" not in response.get_data(as_text=True)


def test_staff_cancel_with_reason_and_the_resident_is_told(en, make_user, partner, series, login):
    """Cancelling needs a reason; a resident with email gets a message."""
    booking = _book(series, today_at(16, days=3), email="fatima@example.org")
    login(make_user(Role.STAFF, partner))
    en.post(
        f"/portal/bookings/{booking.id}/cancel", data={"version": booking.version, "reason": ""}
    )
    db.session.refresh(booking)
    assert booking.status is BookingStatus.BOOKED
    en.post(
        f"/portal/bookings/{booking.id}/cancel",
        data={"version": booking.version, "reason": "Medewerker ziek"},
    )
    db.session.refresh(booking)
    assert booking.status is BookingStatus.CANCELLED and booking.cancel_reason == "Medewerker ziek"
    message = db.session.scalar(sa.select(OutboxMessage))
    assert "Medewerker ziek" in message.body


def test_staff_move_an_appointment(en, make_user, partner, series, login):
    """Staff move the appointment to another free time."""
    booking = _book(series, today_at(16, days=3))
    login(make_user(Role.STAFF, partner))
    new = today_at(16, 30, days=3)
    en.post(
        f"/portal/bookings/{booking.id}/move",
        data={"version": booking.version, "slot": param(new)},
    )
    db.session.refresh(booking)
    assert booking.slot_start == new


def test_residents_to_contact_after_a_closure(en, make_user, partner, library, series, login):
    """A closure on a booked day puts the resident on the list until staff mark them told."""
    booking = _book(series, today_at(16, days=3))
    admin = make_user(Role.ORG_ADMIN, library)
    day = clock.today() + timedelta(days=3)
    series_service.close_location(series.location, start=day, end=day, reason="Lekkage", user=admin)
    login(make_user(Role.STAFF, partner))
    page = en.get("/portal/bookings/to-contact").get_data(as_text=True)
    assert "Fatima" in page and "Lekkage" in page
    en.post(f"/portal/bookings/{booking.id}/contacted")
    assert "Fatima" not in en.get("/portal/bookings/to-contact").get_data(as_text=True)


def test_pausing_hours_flags_their_bookings(make_user, partner, series):
    """Pausing published hours leaves no booking pointing at a time that is not held."""
    booking = _book(series, today_at(16, days=3))
    series_service.set_status(series, series.status.__class__("paused"))
    db.session.refresh(booking)
    assert booking.affected_at is not None


def test_standard_reasons_are_stored_in_each_residents_language(app, partner, series):
    """A cancelled date without a typed reason tells each resident why in their own language."""
    from app.models import ExceptionKind

    dutch = _book(series, today_at(16, days=3), language="nl")
    english = _book(series, today_at(16, 30, days=3), name="John", language="en")
    day = clock.today() + timedelta(days=3)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        series_service.add_exception(series, day=day, kind=ExceptionKind.CANCELLED)
    db.session.refresh(dutch)
    db.session.refresh(english)
    assert english.affected_reason == "These hours are cancelled on this day."
    assert dutch.affected_reason not in ("", english.affected_reason)
