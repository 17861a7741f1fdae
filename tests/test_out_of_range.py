"""Ids, numbers and dates out of range, in an address, a query string or a form, are a 404 or
a message in the user's language: never a server error, never a half-made change."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    ConsentScope,
    ConsultationHours,
    Course,
    FeedLink,
    Location,
    LocationClosure,
    OrganisationKind,
    Referral,
    Role,
    SeriesException,
    User,
)
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from tests.referral_helpers import write_warm

AMS = ZoneInfo("Europe/Amsterdam")
HUGE = [2**63, 2**31, 99999999999999999999]
LARGEST_ID = 2**31 - 1
BAD_DATES = ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"]
BAD_TIMES = ["9999-12-31T23:30Z", "9999-12-31T23:30-14:00", "0001-01-01T00:00+01:00"]
INT_ARGUMENT = re.compile(r"<int:(\w+)>")
DATE_MESSAGE = "Choose a date from 1 January 2000 to 31 December 2099."


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
def branch(make_location, library):
    return make_location(organisation=library, name="Bibliotheek Maarssen")


@pytest.fixture
def coordinator(make_user, library):
    return make_user(Role.COORDINATOR, library)


@pytest.fixture
def library_admin(make_user, library):
    return make_user(Role.ORG_ADMIN, library)


@pytest.fixture
def topic(make_topic):
    return make_topic(slug="geld", name_en="Money")


@pytest.fixture
def series(make_series, library, branch):
    """The library's appointment hours in its branch, every day 9:00-17:00."""
    return make_series(
        provider=library,
        location=branch,
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        min_notice_hours=0,
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def slot(days: int, hour: int) -> str:
    moment = datetime.combine(clock.today() + timedelta(days=days), time(hour), AMS)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def english_day(day: date) -> str:
    """A day as the pages write it in English ('Monday 3 March 2025')."""
    return format_date(day, "EEEE d MMMM y", locale="en")


# Ids in the address --------------------------------------------------------------------------


def int_routes(app) -> list[tuple[str, str]]:
    """Every (method, rule) of a rule with an int argument, for GET and POST as it allows."""
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if INT_ARGUMENT.search(rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"})
    ]


def answers(client, routes, value) -> dict[tuple[str, str], int | str]:
    """The status of each route with ``value`` for every int argument, or the exception."""
    found = {}
    for method, rule in routes:
        try:
            found[(method, rule)] = client.open(
                INT_ARGUMENT.sub(str(value), rule), method=method
            ).status_code
        except Exception as error:  # noqa: BLE001 - the test reports every route at once
            db.session.rollback()
            found[(method, rule)] = type(error).__name__
    return found


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_every_int_route_answers_an_id_out_of_range_with_not_found(
    app, en, login, coordinator, series, who, value
):
    """Every <int:…> address of the site, the public pages, the portal and management, with
    an id too large for the database: 404, for a visitor and for the coordinator alike."""
    if who == "coordinator":
        login(coordinator)
    routes = int_routes(app)
    assert len(routes) > 40  # the portal's, the desk's, management's and the public ones
    found = answers(en, routes, value)
    assert {route: status for route, status in found.items() if status != 404} == {}


@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_the_largest_id_still_reaches_the_page_and_is_not_found(
    app, en, login, coordinator, series, who
):
    """The largest id a database column holds (2^31 - 1) is looked up as usual: not found,
    no access or a login, never a server error."""
    if who == "coordinator":
        login(coordinator)
    found = answers(en, int_routes(app), LARGEST_ID)
    assert {route: status for route, status in found.items() if status not in (302, 403, 404)} == {}


# Numbers in the query string ----------------------------------------------------------------


@pytest.mark.parametrize("value", [*HUGE, -1, "abc"])
def test_public_hours_with_an_organisation_number_out_of_range_is_not_found(en, series, value):
    """The hours list filtered by an organisation number that cannot exist: page not found."""
    response = en.get(f"/spreekuren?organisatie={value}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_public_hours_without_an_organisation_show_every_organisation(en, series):
    """The 'all organisations' choice sends an empty number: the whole list."""
    response = en.get("/spreekuren?organisatie=&onderwerp=&plaats=")
    assert response.status_code == 200
    assert series.title in response.get_data(as_text=True)


@pytest.mark.parametrize("value", HUGE)
def test_desk_with_an_hours_number_out_of_range_is_not_found(
    en, login, library_admin, series, value
):
    """Choosing hours or booking at the desk with a number that cannot exist: 404."""
    login(library_admin)
    assert en.get(f"/portal/desk?series={value}").status_code == 404
    book = f"/portal/desk/book?series={value}&tijd={slot(1, 10)}"
    assert en.get(book).status_code == 404
    assert en.post(book, data={"name": "Jan", "language": "nl"}).status_code == 404
    assert count(Booking) == 0


@pytest.mark.parametrize("value", HUGE)
def test_referral_to_a_course_number_out_of_range_is_not_found(
    en, login, library_admin, partner, value
):
    """Writing a referral to a course whose number cannot exist: 404 at every step."""
    login(library_admin)
    for step in ("", "/consent", "/details"):
        response = en.get(f"/portal/referrals/new/{partner.id}{step}?course={value}")
        assert response.status_code == 404, step


@pytest.mark.parametrize("value", [*HUGE, 0, -1])
def test_audit_log_page_out_of_range_is_not_found(en, login, library_admin, value):
    """A page number of the audit log that cannot exist: 404."""
    login(library_admin)
    response = en.get(f"/portal/referrals/audit?page={value}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_audit_log_page_after_the_last_is_not_found(en, login, library_admin):
    """The first page is there even when empty; a page after the last is not found."""
    login(library_admin)
    assert en.get("/portal/referrals/audit").status_code == 200
    assert en.get("/portal/referrals/audit?page=1").status_code == 200
    assert en.get("/portal/referrals/audit?page=2").status_code == 404


# Times and dates in the query string --------------------------------------------------------


@pytest.mark.parametrize("tijd", BAD_TIMES)
def test_booking_a_time_out_of_range_is_not_found(en, login, library_admin, series, tijd):
    """A resident's or the desk's booking page for a time no calendar holds: 404, and no
    booking is made."""
    data = {"name": "Jan", "language": "nl"}
    assert en.get(f"/spreekuren/{series.id}/afspraak?tijd={tijd}").status_code == 404
    assert en.post(f"/spreekuren/{series.id}/afspraak?tijd={tijd}", data=data).status_code == 404
    login(library_admin)
    assert en.get(f"/portal/desk/book?series={series.id}&tijd={tijd}").status_code == 404
    assert count(Booking) == 0


@pytest.mark.parametrize("tijd", BAD_TIMES)
def test_moving_an_appointment_to_a_time_out_of_range_is_refused(
    en, login, library_admin, series, tijd
):
    """Staff moving an appointment to a time no calendar holds are asked to choose a time;
    the appointment keeps its time."""
    start = datetime.fromisoformat(slot(2, 10).replace("Z", "+00:00"))
    booking, _token = booking_service.book(series, start, ResidentDetails(name="Fatima"))
    db.session.commit()
    login(library_admin)
    response = en.post(
        f"/portal/bookings/{booking.id}/move",
        data={"version": str(booking.version), "slot": tijd},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Please choose a time." in response.get_data(as_text=True)
    assert db.session.get(Booking, booking.id).slot_start == start


def test_booking_from_a_referral_with_an_hours_number_out_of_range_asks_for_a_time(
    en, login, library_admin, make_user, partner, topic, series
):
    """Booking from a referral with hours that cannot exist: 'choose a time', nothing made."""
    referral = write_warm(
        make_user(Role.STAFF, partner), series.provider, topic, scope=ConsentScope.APPOINTMENT
    )
    login(library_admin)
    for value in HUGE:
        response = en.post(
            f"/portal/referrals/{referral.id}/book",
            data={"series": str(value), "tijd": slot(2, 10)},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert "Please choose a time." in response.get_data(as_text=True)
    assert count(Booking) == 0


@pytest.mark.parametrize("day", [*BAD_DATES, "garbage", "2025-02-30"])
def test_day_list_for_a_date_out_of_range_shows_today_and_says_why(en, login, library_admin, day):
    """The day list for a date that is not a real day of the network shows today, with a
    message that says which dates can be shown."""
    login(library_admin)
    response = en.get(f"/portal/bookings?day={day}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Appointments on {english_day(clock.today())}" in html
    assert "We cannot show this date. " + DATE_MESSAGE in html


def test_day_list_message_is_in_the_users_language(client, login, library_admin):
    """Without another language chosen, the message is Dutch."""
    login(library_admin)
    html = client.get("/portal/bookings?day=9999-12-31").get_data(as_text=True)
    assert (
        "We kunnen deze datum niet laten zien. "
        "Kies een datum van 1 januari 2000 tot en met 31 december 2099."
    ) in html


def test_day_list_at_the_edges_of_the_range(en, login, library_admin):
    """The first and last day that can be shown are shown, without a way past them."""
    login(library_admin)
    first = en.get("/portal/bookings?day=2000-01-01").get_data(as_text=True)
    assert "Appointments on Saturday 1 January 2000" in first
    assert "Previous day" not in first and "We cannot show" not in first
    last = en.get("/portal/bookings?day=2099-12-31").get_data(as_text=True)
    assert "Appointments on Thursday 31 December 2099" in last
    assert "Next day" not in last and "We cannot show" not in last
    today = en.get("/portal/bookings").get_data(as_text=True)
    assert "Previous day" in today and "Next day" in today and "We cannot show" not in today


# Forms ---------------------------------------------------------------------------------------


def series_form(branch, holder, **overrides) -> dict:
    first = clock.today() + timedelta(days=7)
    data = {
        "title": "Hulp bij geldzaken",
        "provider": str(holder.id),
        "location": str(branch.id),
        "mode": "appointment",
        "recurrence": "weekly",
        "weekdays": [str(first.weekday())],
        "interval_weeks": "1",
        "start_date": first.isoformat(),
        "end_date": "",
        "start_time": "14:00",
        "end_time": "16:00",
        "slot_minutes": "30",
        "seats_per_slot": "2",
        "min_notice_hours": "2",
        "book_ahead_days": "42",
    }
    data.update(overrides)
    return data


HUGE_NUMBER = str(10**20)
SERIES_REFUSALS = [
    *({"start_date": day} for day in BAD_DATES),
    *({"end_date": day} for day in BAD_DATES),
    {"slot_minutes": HUGE_NUMBER},
    {"seats_per_slot": "-1"},
    {"min_notice_hours": HUGE_NUMBER},
    {"book_ahead_days": str(2**63)},
    {"provider": HUGE_NUMBER},
    {"location": HUGE_NUMBER},
    {"topics": [HUGE_NUMBER]},
    {"weekdays": [HUGE_NUMBER]},
    {"interval_weeks": HUGE_NUMBER},
    {"month_weeks": [HUGE_NUMBER]},
]


@pytest.mark.parametrize("preview", ["", "1"])
@pytest.mark.parametrize("overrides", SERIES_REFUSALS, ids=lambda o: "-".join(map(str, o.items())))
def test_series_form_refuses_numbers_and_dates_out_of_range(
    en, login, library_admin, library, branch, overrides, preview
):
    """A new series with a date before 2000 or after 2099, a huge or negative number or a
    choice that cannot exist comes back with a message (422); nothing is saved."""
    login(library_admin)
    data = series_form(branch, library, preview=preview, **overrides)
    response = en.post("/portal/series/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-errors"' in html
    if "start_date" in overrides or "end_date" in overrides:
        assert DATE_MESSAGE in html
    assert count(ConsultationHours) == 0


@pytest.mark.parametrize("day", BAD_DATES)
def test_editing_a_series_to_a_date_out_of_range_changes_nothing(
    en, login, library_admin, library, branch, series, day
):
    """The edit form with a first date out of range: the message, and the series as it was."""
    login(library_admin)
    before = (series.start_date, series.revision)
    data = series_form(branch, library, start_date=day)
    response = en.post(f"/portal/series/{series.id}/edit", data=data)
    assert response.status_code == 422
    assert DATE_MESSAGE in response.get_data(as_text=True)
    db.session.refresh(series)
    assert (series.start_date, series.revision) == before


def test_series_form_messages_are_in_the_users_language(
    client, login, library_admin, library, branch
):
    """Without another language chosen, the date and the number are refused in Dutch."""
    login(library_admin)
    data = series_form(branch, library, start_date="9999-12-31", slot_minutes=HUGE_NUMBER)
    response = client.post("/portal/series/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Kies een datum van 1 januari 2000 tot en met 31 december 2099." in html
    assert "Nummer moet tussen 5 en 480 liggen." in html
    assert count(ConsultationHours) == 0


@pytest.mark.parametrize("day", BAD_DATES)
def test_date_exception_out_of_range_is_refused(en, login, library_admin, series, day):
    """Cancelling or adding a date out of range: the message at the date, nothing saved."""
    login(library_admin)
    for kind in ("cancelled", "extra"):
        response = en.post(
            f"/portal/series/{series.id}/exceptions",
            data={"kind": kind, "date": day, "start_time": "10:00", "end_time": "11:00"},
        )
        assert response.status_code == 422
        assert DATE_MESSAGE in response.get_data(as_text=True)
    assert count(SeriesException) == 0


@pytest.mark.parametrize("day", BAD_DATES)
def test_closure_out_of_range_is_refused(en, login, library_admin, branch, series, day):
    """Closing a location on dates out of range: the message, no closure, no appointment
    marked as affected."""
    start = datetime.fromisoformat(slot(2, 10).replace("Z", "+00:00"))
    booking_service.book(series, start, ResidentDetails(name="Fatima"))
    db.session.commit()
    login(library_admin)
    today = clock.today().isoformat()
    for start_date, end_date in ((day, day), (today, day), (day, today)):
        response = en.post(
            f"/portal/locations/{branch.id}",
            data={"start_date": start_date, "end_date": end_date, "reason": "Verbouwing"},
        )
        assert response.status_code == 422
        assert DATE_MESSAGE in response.get_data(as_text=True)
    assert count(LocationClosure) == 0
    assert db.session.scalar(sa.select(Booking)).affected_at is None


COURSE_REFUSALS = [
    *({"first_date": day} for day in BAD_DATES),
    {"capacity": HUGE_NUMBER},
    {"sessions": "-1"},
    {"sessions": str(2**63)},
    {"location": HUGE_NUMBER},
    {"interval_weeks": HUGE_NUMBER},
]


@pytest.mark.parametrize("overrides", COURSE_REFUSALS, ids=lambda o: "-".join(map(str, o.items())))
def test_course_form_refuses_numbers_and_dates_out_of_range(
    en, login, library_admin, branch, overrides
):
    """Offering a course with a date out of range or a huge number: 422, no course."""
    login(library_admin)
    data = {
        "title": "Digisterker",
        "location": str(branch.id),
        "capacity": "8",
        "first_date": (clock.today() + timedelta(days=7)).isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "sessions": "4",
        "interval_weeks": "1",
        **overrides,
    }
    response = en.post("/portal/courses/new", data=data)
    assert response.status_code == 422
    if "first_date" in overrides:
        assert DATE_MESSAGE in response.get_data(as_text=True)
    assert count(Course) == 0


@pytest.mark.parametrize("value", [HUGE_NUMBER, str(2**31), "-1"])
def test_referral_with_a_topic_number_out_of_range_asks_for_a_topic(
    en, login, library_admin, partner, value
):
    """Signposting with a topic that cannot exist: 'choose a topic' (422), nothing saved."""
    login(library_admin)
    response = en.post(
        f"/portal/referrals/new/{partner.id}/details?kind=signpost&language=nl",
        data={"topic": value, "language": "nl"},
    )
    assert response.status_code == 422
    assert "Please choose a topic." in response.get_data(as_text=True)
    assert count(Referral) == 0


def test_management_forms_refuse_numbers_out_of_range(
    en, login, coordinator, library, branch, topic
):
    """Topic order, a location's host and an account's organisation with a huge number: 422,
    and nothing changes."""
    login(coordinator)
    topic_form = {"name_nl": "Geld", "name_en": "Money", "slug": "geld", "icon": "tax"}
    for order in (HUGE_NUMBER, str(2**31), "-1"):
        response = en.post(
            f"/admin/topics/{topic.id}/edit", data={**topic_form, "sort_order": order}
        )
        assert response.status_code == 422
    location_form = {
        "name": "Filiaal",
        "street": "Plein 1",
        "postcode": "3600 AA",
        "city": "Maarssen",
    }
    response = en.post("/admin/locations/new", data={**location_form, "organisation": HUGE_NUMBER})
    assert response.status_code == 422
    user_form = {"name": "Ans", "email": "ans@example.org", "role": "staff"}
    response = en.post("/admin/users/new", data={**user_form, "organisation": HUGE_NUMBER})
    assert response.status_code == 422
    db.session.refresh(topic)
    assert topic.sort_order == 100
    assert count(Location) == 1
    assert db.session.scalar(sa.select(User).where(User.email == "ans@example.org")) is None


@pytest.mark.parametrize(
    "kind, data",
    [
        ("location", {"location": HUGE_NUMBER}),
        ("organisation", {"organisation": HUGE_NUMBER}),
        ("personal", {"series": [HUGE_NUMBER]}),
    ],
)
def test_feed_forms_refuse_numbers_out_of_range(en, login, library_admin, series, kind, data):
    """A calendar feed for a location, organisation or hours that cannot exist: 422."""
    login(library_admin)
    response = en.post(f"/portal/feeds/new/{kind}", data={"include_bookings": "none", **data})
    assert response.status_code == 422
    assert 'class="field-errors"' in response.get_data(as_text=True)
    assert count(FeedLink) == 0
