"""The staff portal as staff use it: series, exceptions, closures, htmx and no-JS renderings."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ConsultationHours,
    ExceptionKind,
    LocationClosure,
    OrganisationKind,
    Role,
    SeriesException,
    SeriesStatus,
)

HX = {"HX-Request": "true"}


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Maarssen")


@pytest.fixture
def branch(make_location, library):
    return make_location(organisation=library, name="Bibliotheek Maarssen centrum")


@pytest.fixture
def partner(make_org):
    return make_org(name="Geldpunt Stichtse Vecht")


@pytest.fixture
def partner_staff(make_user, partner, login, en):
    user = make_user(Role.STAFF, partner)
    login(user)
    return user


def next_weekday(weekday: int, after: date | None = None) -> date:
    start = (after or date.today()) + timedelta(days=1)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def series_form(branch, topic=None, **overrides) -> dict:
    first = next_weekday(1)
    data = {
        "title": "Hulp bij geldzaken",
        "description": "Vragen over rekeningen en schulden.",
        "what_to_bring": "Uw brieven",
        "location": branch.id,
        "mode": "appointment",
        "recurrence": "weekly",
        "weekdays": ["1"],
        "interval_weeks": "1",
        "start_date": first.isoformat(),
        "end_date": "",
        "start_time": "14:00",
        "end_time": "16:00",
        "walk_in_start": "",
        "walk_in_end": "",
        "slot_minutes": "30",
        "seats_per_slot": "2",
        "min_notice_hours": "2",
        "book_ahead_days": "42",
    }
    if topic is not None:
        data["topics"] = [str(topic.id)]
    data.update(overrides)
    return data


def test_partner_staff_creates_series_at_library_branch_as_draft(
    en, partner_staff, branch, make_topic
):
    """A partner's staff member creates hours at a library branch; they start as a draft."""
    topic = make_topic(name_en="Money matters")
    data = series_form(branch, topic, provider=str(partner_staff.organisation_id))
    response = en.post("/portal/series/new", data=data)
    assert response.status_code == 303
    series = db.session.scalar(sa.select(ConsultationHours))
    assert response.headers["Location"].endswith(f"/portal/series/{series.id}")
    assert series.status is SeriesStatus.DRAFT
    assert series.provider_id == partner_staff.organisation_id
    assert series.location_id == branch.id
    assert [t.name_en for t in series.topics] == ["Money matters"]

    page = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hulp bij geldzaken" in page
    assert "Draft" in page
    assert "Money matters" in page


def test_invalid_series_rerenders_with_messages_and_status_422(en, partner_staff, branch):
    """End before start: the form comes back with the message (422) and nothing is saved."""
    data = series_form(branch, provider=str(partner_staff.organisation_id), end_time="13:00")
    response = en.post("/portal/series/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The end time must be after the start time." in page
    assert 'value="Hulp bij geldzaken"' in page  # what was typed is kept
    assert "<html" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultationHours)) == 0


def test_missing_weekday_is_explained(en, partner_staff, branch):
    """A weekly series without a day gets a clear message."""
    data = series_form(branch, provider=str(partner_staff.organisation_id), weekdays=[])
    response = en.post("/portal/series/new", data=data)
    assert response.status_code == 422
    assert "Choose at least one day of the week." in response.get_data(as_text=True)


def test_htmx_invalid_post_returns_only_the_form_fragment(en, partner_staff, branch):
    """htmx gets just the form back (422) to swap in place, not a whole page."""
    data = series_form(branch, provider=str(partner_staff.organisation_id), end_time="13:00")
    response = en.post("/portal/series/new", data=data, headers=HX)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<form method="post" id="series-form"')
    assert "<html" not in page
    assert "The end time must be after the start time." in page
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_valid_post_redirects_with_hx_redirect(en, partner_staff, branch):
    """After saving through htmx the browser is sent to the new series page."""
    data = series_form(branch, provider=str(partner_staff.organisation_id))
    response = en.post("/portal/series/new", data=data, headers=HX)
    series = db.session.scalar(sa.select(ConsultationHours))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/portal/series/{series.id}"


def test_boosted_request_gets_the_full_page(en, partner_staff):
    """A boosted navigation swaps the whole body, so it gets a full page."""
    response = en.get("/portal/series/new", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_preview_shows_the_first_dates_without_saving(en, partner_staff, branch):
    """'Show dates' lists the coming dates of the settings and saves nothing."""
    first = next_weekday(3)
    data = series_form(
        branch,
        provider=str(partner_staff.organisation_id),
        weekdays=["3"],
        start_date=first.isoformat(),
        preview="1",
    )
    full = en.post("/portal/series/new", data=data)
    assert full.status_code == 200
    assert "<html" in full.get_data(as_text=True)

    fragment = en.post("/portal/series/new", data=data, headers={**HX, "HX-Target": "preview"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html
    assert html.count("<li>") == 8
    second = first + timedelta(weeks=1)
    assert f"{second.day} {second.strftime('%B')}" in html
    assert "14:00–16:00" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultationHours)) == 0


def test_edit_series_raises_revision_and_keeps_values(en, partner_staff, make_series, branch):
    """Editing a series shows its values and saving raises its revision."""
    series = make_series(provider=partner_staff.organisation, location=branch, revision=3)
    form = en.get(f"/portal/series/{series.id}/edit").get_data(as_text=True)
    assert 'value="Spreekuur geldzaken"' in form
    data = series_form(branch, provider=str(partner_staff.organisation_id), title="Nieuwe titel")
    response = en.post(f"/portal/series/{series.id}/edit", data=data)
    assert response.status_code == 303
    db.session.refresh(series)
    assert series.title == "Nieuwe titel"
    assert series.revision == 4


def test_publish_pause_and_resume(en, partner_staff, make_series):
    """A draft is published, paused and published again; each step is told to the user."""
    series = make_series(provider=partner_staff.organisation, status=SeriesStatus.DRAFT)
    url = f"/portal/series/{series.id}/status"
    response = en.post(url, data={"status": "published"}, follow_redirects=True)
    assert "Residents can see them now." in response.get_data(as_text=True)
    assert db.session.get(ConsultationHours, series.id).status is SeriesStatus.PUBLISHED
    en.post(url, data={"status": "paused"})
    assert db.session.get(ConsultationHours, series.id).status is SeriesStatus.PAUSED
    en.post(url, data={"status": "published"})
    assert db.session.get(ConsultationHours, series.id).status is SeriesStatus.PUBLISHED


def test_impossible_status_change_is_refused(en, partner_staff, make_series):
    """A draft cannot be paused; the user is told and nothing changes."""
    series = make_series(provider=partner_staff.organisation, status=SeriesStatus.DRAFT)
    response = en.post(
        f"/portal/series/{series.id}/status", data={"status": "paused"}, follow_redirects=True
    )
    assert "This change of status is not possible." in response.get_data(as_text=True)
    assert db.session.get(ConsultationHours, series.id).status is SeriesStatus.DRAFT


def test_cancel_a_date_then_remove_the_change(en, partner_staff, make_series):
    """Cancelling a date shows it as cancelled; removing the change restores it."""
    day = next_weekday(1)
    series = make_series(provider=partner_staff.organisation, start_date=day - timedelta(weeks=1))
    response = en.post(
        f"/portal/series/{series.id}/exceptions",
        data={"kind": "cancelled", "date": day.isoformat(), "reason": "Ziek"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Cancelled" in page and "Ziek" in page
    exception = db.session.scalar(sa.select(SeriesException))
    assert exception.kind is ExceptionKind.CANCELLED
    en.post(f"/portal/series/{series.id}/exceptions/{exception.id}/delete")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeriesException)) == 0


@pytest.mark.parametrize(
    ("kind", "on_pattern", "message"),
    [
        ("cancelled", False, "The hours are not held on this date."),
        ("changed", False, "The hours are not held on this date."),
        ("extra", True, "The hours are already held on this date."),
    ],
)
def test_exception_on_wrong_date_is_refused(
    en, partner_staff, make_series, kind, on_pattern, message
):
    """An exception must fit the pattern: cancel or change a held date, add a free one."""
    held = next_weekday(1)
    series = make_series(provider=partner_staff.organisation, start_date=held - timedelta(weeks=1))
    day = held if on_pattern else held + timedelta(days=1)
    data = {"kind": kind, "date": day.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    response = en.post(f"/portal/series/{series.id}/exceptions", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeriesException)) == 0


def test_exception_error_via_htmx_returns_the_exceptions_fragment(en, partner_staff, make_series):
    """With htmx, a refused exception re-renders only the exceptions section."""
    series = make_series(provider=partner_staff.organisation)
    day = next_weekday(2)  # a Wednesday; the series is on Tuesdays
    response = en.post(
        f"/portal/series/{series.id}/exceptions",
        data={"kind": "cancelled", "date": day.isoformat()},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="exceptions"')
    assert "The hours are not held on this date." in html


def test_host_admin_closes_a_location_and_guest_dates_show_closed(
    en, client, make_user, library, branch, partner, make_series, login
):
    """The host closes its branch: the guest partner's date there shows 'Location closed'."""
    day = next_weekday(1)
    series = make_series(provider=partner, location=branch, start_date=day - timedelta(weeks=1))
    admin = make_user(Role.ORG_ADMIN, library)
    login(admin)
    response = en.post(
        f"/portal/locations/{branch.id}",
        data={"start_date": day.isoformat(), "end_date": day.isoformat(), "reason": "Verbouwing"},
        follow_redirects=True,
    )
    assert "Verbouwing" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(LocationClosure)).location_id == branch.id

    page = en.get(f"/portal/series/{series.id}").get_data(as_text=True)
    assert "Location closed" in page


def test_closure_with_end_before_start_is_refused(en, make_user, library, branch, login):
    """A closure ending before it starts is explained and not saved."""
    login(make_user(Role.ORG_ADMIN, library))
    response = en.post(
        f"/portal/locations/{branch.id}",
        data={"start_date": "2026-12-10", "end_date": "2026-12-01", "reason": "Vakantie"},
    )
    assert response.status_code == 422
    assert "The last date must not be before the first date." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LocationClosure)) == 0


def test_host_sees_guest_series_on_its_overview(
    en, make_user, library, branch, partner, make_series, login
):
    """Library staff see the partner's hours held at their branch under 'Guests'."""
    make_series(provider=partner, location=branch, title="Geldpunt in de bibliotheek")
    login(make_user(Role.STAFF, library))
    page = en.get("/portal/").get_data(as_text=True)
    guests = page.split("Guests at our locations", 1)[1]
    assert "Geldpunt in de bibliotheek" in guests


def test_public_home_lists_only_published_hours(en, make_series):
    """Residents see published hours of the coming two weeks, not drafts or paused ones."""
    start = date.today() - timedelta(days=1)
    every_day = "0,1,2,3,4,5,6"
    make_series(title="Gepubliceerd spreekuur", weekdays=every_day, start_date=start)
    make_series(
        title="Concept spreekuur", weekdays=every_day, start_date=start, status=SeriesStatus.DRAFT
    )
    make_series(
        title="Gepauzeerd spreekuur",
        weekdays=every_day,
        start_date=start,
        status=SeriesStatus.PAUSED,
    )
    page = en.get("/").get_data(as_text=True)
    assert "Gepubliceerd spreekuur" in page
    assert "Concept spreekuur" not in page
    assert "Gepauzeerd spreekuur" not in page
