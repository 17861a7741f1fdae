"""The waiting list as residents and staff see it: joining from a full series' page,
one's place and leaving, taking an offered time from its link, and the staff's page (for
the organisation that holds the hours only). And the not-attended rate in the figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app import clock
from app.extensions import db
from app.models import BookingStatus, Role, SeatOffer, WaitingEntry, WaitingStatus
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from tests.waiting_helpers import full_series, join_many, later_bookings, offer_token


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_full_series_invites_to_the_waiting_list_and_a_free_one_does_not(en, make_series):
    series = full_series(make_series)
    page = en.get(f"/spreekuren/{series.id}").get_data(as_text=True)
    assert "All times are taken at the moment." in page
    assert f'href="/spreekuren/{series.id}/wachtlijst"' in page

    free = make_series(weekdays="0,1,2,3,4,5,6", start_date=clock.today())
    page = en.get(f"/spreekuren/{free.id}").get_data(as_text=True)
    assert "wachtlijst" not in page
    assert en.get(f"/spreekuren/{free.id}/wachtlijst").status_code == 303


def test_joining_shows_the_place_and_a_link_to_keep_and_leaving_erases(en, make_series):
    series = full_series(make_series)
    join_many(series, 1)

    response = en.post(
        f"/spreekuren/{series.id}/wachtlijst", data={"name": "Sara", "language": "en"}
    )
    assert response.status_code == 422
    assert "Please fill in a phone number or an e-mail address" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WaitingEntry)) == 1

    response = en.post(
        f"/spreekuren/{series.id}/wachtlijst",
        data={"name": "Sara", "phone": "06 1234 5678", "language": "en"},
    )
    assert response.status_code == 303
    page = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are on the waiting list" in page
    assert "Your place: 2" in page
    assert "We call you at 06 1234 5678." in page
    assert "http://localhost/wachtlijst/link/" in page
    link = page.split("http://localhost")[1].split("<")[0].strip()

    again = en.get("/wachtlijst/mijn").get_data(as_text=True)
    assert "/wachtlijst/link/" not in again  # the link is shown once

    response = en.post("/wachtlijst/mijn/verlaten")
    assert response.status_code == 303
    page = en.get("/wachtlijst/mijn").get_data(as_text=True)
    assert "You are no longer on the waiting list." in page
    entry = db.session.scalar(
        sa.select(WaitingEntry).where(WaitingEntry.status == WaitingStatus.LEFT)
    )
    assert (entry.name, entry.phone) == ("", "")

    other = en.application.test_client()
    response = other.get(link)
    assert response.status_code == 303
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_taking_an_offered_time_from_its_link(en, make_series):
    series = full_series(make_series)
    join_many(series, 1)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    token = offer_token("wachter1@example.org")

    response = en.get(f"/wachtlijst/aanbod/{token}")
    assert response.status_code == 303
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = en.get("/wachtlijst/aanbod").get_data(as_text=True)
    assert "A time is free for you" in page and "We hold this time for you until" in page

    response = en.post("/wachtlijst/aanbod")
    assert response.status_code == 303
    page = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your appointment is made" in page
    offer = db.session.scalar(sa.select(SeatOffer))
    assert offer.booking.status is BookingStatus.BOOKED

    response = en.post("/wachtlijst/aanbod")
    assert response.status_code in (404, 410)


def test_an_offer_taken_after_its_time_is_refused_kindly(en, make_series):
    series = full_series(make_series)
    join_many(series, 2)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    token = offer_token("wachter1@example.org")
    en.get(f"/wachtlijst/aanbod/{token}")
    db.session.execute(sa.update(SeatOffer).values(expires_at=clock.now() - timedelta(minutes=5)))
    db.session.commit()

    response = en.post("/wachtlijst/aanbod")

    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "Sorry, this offer has passed" in page
    assert "offered to the next person on the waiting list" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(SeatOffer)).booking.status is BookingStatus.OFFERED


def test_an_unknown_offer_link_says_so(en):
    response = en.get("/wachtlijst/aanbod/not-a-real-token")
    assert response.status_code == 404
    assert "This link does not work any more" in response.get_data(as_text=True)


def test_staff_of_the_holding_organisation_see_and_manage_the_list(
    en, login, make_series, make_user
):
    series = full_series(make_series)
    entries = join_many(series, 3)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    staff = make_user(organisation=series.provider)
    login(staff, test_client=en)

    detail = en.get(f"/portal/series/{series.id}").get_data(as_text=True)
    assert f'href="/portal/series/{series.id}/waiting-list"' in detail
    page = en.get(f"/portal/series/{series.id}/waiting-list").get_data(as_text=True)
    assert "Wachter 1" in page and "wachter1@example.org" in page  # offered
    assert "Wachter 2" in page and "Wachter 3" in page  # waiting
    assert "Held until" in page

    response = en.post(f"/portal/series/{series.id}/waiting-list/{entries[0]}/remove")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(WaitingEntry, entries[0]).status is WaitingStatus.REMOVED
    assert db.session.get(WaitingEntry, entries[1]).status is WaitingStatus.OFFERED

    response = en.post(f"/portal/series/{series.id}/waiting-list/{entries[2]}/offer")
    assert response.status_code == 303
    page = en.get(f"/portal/series/{series.id}/waiting-list").get_data(as_text=True)
    assert "There is no free time to offer now." in page


@pytest.mark.parametrize(
    ("whose", "role", "status"),
    [
        ("host", Role.STAFF, 403),
        ("other", Role.STAFF, 404),
        ("provider", Role.VOLUNTEER, 403),
    ],
)
def test_nobody_else_sees_the_waiting_list(
    client, login, make_series, make_user, make_org, whose, role, status
):
    series = full_series(make_series)
    join_many(series, 1)
    organisation = {
        "host": series.location.organisation,
        "other": make_org(),
        "provider": series.provider,
    }[whose]
    user = make_user(role=role, organisation=organisation)
    login(user)

    response = client.get(f"/portal/series/{series.id}/waiting-list")
    assert response.status_code == status
    assert "Wachter 1" not in response.get_data(as_text=True)
    assert client.post(f"/portal/series/{series.id}/waiting-list/1/remove").status_code == status
    if whose != "other":
        detail = client.get(f"/portal/series/{series.id}").get_data(as_text=True)
        assert "/waiting-list" not in detail


def test_the_figures_show_the_not_attended_rate(en, login, make_series, make_user):
    series = make_series(
        weekdays="0,1,2,3,4,5,6", start_date=clock.today(), seats_per_slot=3, min_notice_hours=0
    )
    today = clock.today()
    free = booking_service.available_slots([series], today, today + timedelta(days=3))
    bookings = []
    for n in range(4):
        booking, _token = booking_service.book(
            series,
            free[-1].slot.start_utc if n < 3 else free[-2].slot.start_utc,
            ResidentDetails(name=f"B{n}"),
        )
        bookings.append(booking)
    db.session.commit()
    for booking, status in zip(
        bookings,
        [
            BookingStatus.ATTENDED,
            BookingStatus.NO_SHOW,
            BookingStatus.ATTENDED,
            BookingStatus.ATTENDED,
        ],
        strict=True,
    ):
        booking_service.mark(booking, status)
    db.session.commit()
    staff = make_user(role=Role.ORG_ADMIN, organisation=series.provider)
    login(staff, test_client=en)
    day = bookings[0].local_start.date()
    query = {
        "period": "range",
        "first": day.isoformat(),
        "last": (day + timedelta(days=1)).isoformat(),
    }

    page = en.get(
        f"/portal/figures/organisation/{series.provider.id}", query_string=query
    ).get_data(as_text=True)
    assert "Not attended, percent of marked" in page
    assert "25.0%" in page

    response = en.get(
        f"/portal/figures/organisation/{series.provider.id}/export.csv", query_string=query
    )
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Help session")
    assert rows[start][1:] == ["Booked", "Came", "Did not come", "Not attended, percent of marked"]
    assert rows[start + 1][1:] == ["4", "3", "1", "25.0"]

    response = en.get(
        f"/portal/figures/organisation/{series.provider.id}/export.xlsx", query_string=query
    )
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "Help session")
    assert rows[start + 1][1:5] == [4, 3, 1, 25.0]
