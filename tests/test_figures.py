"""The figures equal what was registered: a known set of contacts registered through the
registration form, around the end of daylight saving time (Sunday 25 October 2026) and the
end of October, counted on the page, in the CSV and in the XLSX; the period picker; both
renderings; the menu only for those who may see figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from app import clock
from app.models import OrganisationKind, Role
from app.services import figures
from app.services.figures import Scope

HX = {"HX-Request": "true"}
FIRST, LAST = date(2026, 10, 25), date(2026, 11, 1)
RANGE = {"period": "range", "first": FIRST.isoformat(), "last": LAST.isoformat()}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The instant of a wall-clock time in Amsterdam, in UTC."""
    from zoneinfo import ZoneInfo

    local = datetime.combine(day, time(hour, minute), ZoneInfo("Europe/Amsterdam"))
    return local.astimezone(UTC)


@pytest.fixture
def desk(client, login, make_org, make_location, make_user, make_topic, make_series, monkeypatch):
    """A library with two branches and a partner holding hours at one of them; contacts
    registered through the form at known moments (the local day decides where they count)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    library = make_org(name="Bibliotheek Vecht", kind=OrganisationKind.LIBRARY)
    maarssen = make_location(organisation=library, name="Vestiging Maarssen")
    breukelen = make_location(organisation=library, name="Vestiging Breukelen")
    partner = make_org(name="Geldpunt")
    make_series(provider=partner, location=maarssen, title="Geldzaken")
    digid = make_topic(name_en="DigiD", name_nl="DigiD", sort_order=1)
    toeslagen = make_topic(name_en="Allowances", name_nl="Toeslagen", sort_order=2)
    uwv = make_topic(name_en="UWV", name_nl="UWV", sort_order=3)
    unused = make_topic(name_en="CJIB", name_nl="CJIB", sort_order=4)
    staff = make_user(Role.STAFF, organisation=library)
    partner_staff = make_user(Role.STAFF, organisation=partner)

    def register(user, moment, channel, location, *questions):
        monkeypatch.setattr(clock, "now", lambda: moment)
        client.post("/auth/logout")
        login(user)
        data = {"channel": channel, "location": location.id, "duration": "10_to_20"}
        for i, (topic, how, *to) in enumerate(questions):
            data[f"questions-{i}-topic"] = topic.id
            data[f"questions-{i}-how_helped"] = how
            if to:
                data[f"questions-{i}-referred_organisation"] = to[0].id
        response = client.post("/portal/registrations/new", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)

    # The evening before the period: 23:30 on Saturday is 21:30 UTC, still Saturday.
    register(staff, at(date(2026, 10, 24), 23, 30), "desk", maarssen, (digid, "information"))
    # The night the clocks go back: 23:30 local is 22:30 UTC; two questions, one referred.
    register(
        staff,
        at(date(2026, 10, 25), 23, 30),
        "phone",
        maarssen,
        (digid, "shown_how"),
        (toeslagen, "referred", partner),
    )
    # The partner, at the library's branch: the host's figures count it, the library's not.
    register(partner_staff, at(date(2026, 10, 26), 10), "desk", maarssen, (uwv, "information"))
    # The last evening of October and the first minutes of November (23:30 UTC, 31 October).
    register(staff, at(date(2026, 10, 31), 23, 30), "desk", breukelen, (toeslagen, "step_by_step"))
    register(staff, at(date(2026, 11, 1), 0, 30), "online", maarssen, (toeslagen, "information"))
    # After the period: 00:30 on 2 November is 23:30 UTC on 1 November.
    register(staff, at(date(2026, 11, 2), 0, 30), "desk", maarssen, (uwv, "information"))
    monkeypatch.setattr(clock, "now", lambda: at(date(2026, 11, 20), 12))
    client.post("/auth/logout")

    class Desk:
        pass

    d = Desk()
    d.library, d.maarssen, d.breukelen, d.partner = library, maarssen, breukelen, partner
    d.digid, d.toeslagen, d.uwv, d.unused = digid, toeslagen, uwv, unused
    d.staff, d.partner_staff = staff, partner_staff
    d.admin = make_user(Role.ORG_ADMIN, organisation=library)
    d.volunteer = make_user(Role.VOLUNTEER, organisation=library)
    return d


# What the library's own figures for 25 October - 1 November must say.
LIBRARY_TOTALS = {"Contacts": 3, "Questions": 4}
LIBRARY_CATEGORIES = {"Allowances": 3, "DigiD": 1}
LIBRARY_CHANNELS = {
    "Walk-in at the desk": 1,
    "Appointment": 0,
    "Phone": 1,
    "E-mail or online": 1,
    "At a partner's location": 0,
}
LIBRARY_HOW = {"Gave information": 1, "Showed how": 1, "Helped step by step": 1, "Referred": 1}
LIBRARY_LOCATIONS = {"Vestiging Maarssen": 3, "Vestiging Breukelen": 1}


def table(page: str, caption: str) -> dict[str, list[str]]:
    """The rows of the table with this caption: row heading -> the numbers."""
    match = re.search(
        rf'<span class="caption-text">{re.escape(caption)}</span></caption>(.*?)</table>',
        page,
        re.S,
    )
    assert match, f"no table {caption!r}"
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', match.group(1), re.S)
    return {
        head.replace("&#39;", "'"): re.findall(r'<td class="number"[^>]*>(\d+)</td>', cells)
        for head, cells in rows
    }


def single(page: str, caption: str) -> dict[str, int]:
    return {k: int(v[0]) for k, v in table(page, caption).items()}


def totals(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page)}


def test_page_counts_what_was_registered(client, login, desk):
    """The library's figures for a period across the DST change and the month end count
    each contact on its local day; the partner's contact at the library's branch is not the
    library's."""
    login(desk.staff)

    response = client.get(f"/portal/figures/organisation/{desk.library.id}", query_string=RANGE)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert totals(page) == LIBRARY_TOTALS | {"Referrals sent": 0, "Referrals received": 0}
    assert single(page, "Questions per category") == LIBRARY_CATEGORIES
    assert single(page, "Contacts per channel") == LIBRARY_CHANNELS
    assert single(page, "Questions by how the resident was helped") == LIBRARY_HOW
    assert single(page, "Questions per location") == LIBRARY_LOCATIONS
    assert single(page, "Questions referred, per receiver") == {"Geldpunt": 1}
    # Sunday 25 October belongs to the week of Monday 19 October.
    weeks = table(page, "Per week")
    assert weeks == {"Mon 19 Oct 2026": ["1", "2"], "Mon 26 Oct 2026": ["2", "2"]}


def test_location_counts_every_hours_held_there(client, login, desk):
    """The host's figures for its branch count the partner's contact there too."""
    login(desk.admin)

    page = client.get(f"/portal/figures/location/{desk.maarssen.id}", query_string=RANGE).get_data(
        as_text=True
    )

    assert totals(page) == {"Contacts": 3, "Questions": 4}
    assert single(page, "Questions per category") == {"Allowances": 2, "DigiD": 1, "UWV": 1}


def test_months_fold_the_days_of_each_month(client, login, desk):
    """A year is shown per month, each month with the contacts of its local days."""
    login(desk.staff)

    page = client.get(
        f"/portal/figures/organisation/{desk.library.id}",
        query_string={"period": "year", "day": "2026-05-01"},
    ).get_data(as_text=True)

    months = table(page, "Per month")
    assert len(months) == 12
    assert months["October 2026"] == ["3", "4"]
    assert months["November 2026"] == ["2", "2"]
    assert months["January 2026"] == ["0", "0"]


def test_csv_holds_the_same_counts(client, login, desk):
    """The CSV download: totals, every category (also unused ones), channel, how helped and
    location, as on the page; counts only."""
    login(desk.staff)

    response = client.get(
        f"/portal/figures/organisation/{desk.library.id}/export.csv", query_string=RANGE
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert_export(rows)


def test_xlsx_holds_the_same_counts(client, login, desk):
    """The Excel download holds the same rows as the CSV, read back with openpyxl."""
    login(desk.staff)

    response = client.get(
        f"/portal/figures/organisation/{desk.library.id}/export.xlsx", query_string=RANGE
    )

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert_export(rows)


def assert_export(rows: list[list[str]]) -> None:
    rows = [r for r in rows if any(r)]
    values = {r[0]: r[1] for r in rows[:5]}
    assert values["From"] == "2026-10-25" and values["To"] == "2026-11-01"
    assert (values["Contacts"], values["Questions"]) == ("3", "4")

    def block(heading: str) -> dict[str, int]:
        start = next(i for i, r in enumerate(rows) if r[0] == heading)
        found = {}
        for r in rows[start + 1 :]:
            if not r[1].isdigit():
                break
            found[r[0]] = int(r[1])
        return found

    assert block("Category") == LIBRARY_CATEGORIES | {"UWV": 0, "CJIB": 0}
    assert block("Channel") == LIBRARY_CHANNELS
    assert block("How helped") == LIBRARY_HOW
    assert block("Location") == LIBRARY_LOCATIONS


def test_service_counts_in_the_database(app, desk):
    """The service, without a request: the network counts everyone's contacts."""
    period = figures.period_for("range", FIRST, LAST)
    result = figures.figures(Scope.of(None), period, "en")
    assert (result.contacts, result.questions) == (4, 5)
    assert sum(r.count for r in result.channels) == 4


def test_period_picker_defaults_to_the_current_month(client, login, desk):
    """Without a period the page shows the current month in Amsterdam, with links to the
    month before and after and the downloads outside htmx boosting."""
    login(desk.staff)

    page = client.get(f"/portal/figures/organisation/{desk.library.id}").get_data(as_text=True)

    assert '<h2 class="figures-period">November 2026</h2>' in page
    assert totals(page)["Contacts"] == 2
    assert "period=month&amp;day=2026-10-01" in page and "period=month&amp;day=2026-12-01" in page
    assert re.search(r'href="[^"]*export\.csv[^"]*" hx-boost="false"', page)


@pytest.mark.parametrize(
    ("query", "heading"),
    [
        ({"period": "quarter", "day": "2026-11-15"}, "Quarter 4 2026"),
        ({"period": "year", "day": "2026-11-15"}, "2026"),
        (
            {"period": "range", "first": "2026-11-01", "last": "2026-10-25"},
            "25 October 2026 to 1 November 2026",
        ),
    ],
)
def test_period_kinds(client, login, desk, query, heading):
    """Quarter, year and from–to (in either order) are periods too."""
    login(desk.staff)
    page = client.get(
        f"/portal/figures/organisation/{desk.library.id}", query_string=query
    ).get_data(as_text=True)
    assert f'<h2 class="figures-period">{heading}</h2>' in page


def test_unknown_period_is_not_found(client, login, desk):
    login(desk.staff)
    url = f"/portal/figures/organisation/{desk.library.id}"
    assert client.get(url, query_string={"period": "decade"}).status_code == 404


def test_full_page_and_fragment(client, login, desk):
    """The period form asks htmx for the figures only; without htmx the whole page."""
    login(desk.staff)
    url = f"/portal/figures/organisation/{desk.library.id}"

    page = client.get(url, query_string=RANGE)
    fragment = client.get(url, query_string=RANGE, headers=HX)

    assert "<html" in page.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="figures"')
    assert totals(body) == totals(page.get_data(as_text=True))
    assert "HX-Request" in fragment.headers["Vary"]


def test_chart_is_an_svg_image_with_its_own_policy(client, login, desk):
    """A chart is an SVG without script, under a policy that allows only its inline style."""
    login(desk.staff)
    for chart in ("time", "categories", "channels", "how_helped"):
        response = client.get(
            f"/portal/figures/organisation/{desk.library.id}/chart/{chart}.svg",
            query_string=RANGE,
        )
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert "script" not in response.get_data(as_text=True).lower()
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy


def test_report_shows_the_tables_to_print(client, login, desk):
    login(desk.admin)
    page = client.get(
        f"/portal/figures/organisation/{desk.library.id}/report", query_string=RANGE
    ).get_data(as_text=True)
    assert single(page, "Questions per category") == LIBRARY_CATEGORIES
    assert "data-print" in page


@pytest.mark.parametrize(
    ("who", "linked"), [("staff", True), ("admin", True), ("volunteer", False)]
)
def test_menu_links_to_figures_only_for_who_may_see_them(client, login, desk, who, linked):
    login(getattr(desk, who))
    page = client.get("/portal/").get_data(as_text=True)
    assert ('href="/portal/figures"' in page) is linked
    response = client.get("/portal/figures")
    assert response.status_code == (302 if linked else 403)


def test_municipality_admin_sees_the_network(client, login, desk, make_org, make_user):
    municipality = make_org(name="Gemeente Stichtse Vecht", kind=OrganisationKind.MUNICIPALITY)
    login(make_user(Role.ORG_ADMIN, organisation=municipality))

    response = client.get("/portal/figures")
    assert response.headers["Location"].endswith("/portal/figures/network")
    page = client.get("/portal/figures/network", query_string=RANGE).get_data(as_text=True)
    assert totals(page)["Contacts"] == 4
    admin = client.get("/admin/").get_data(as_text=True)
    assert 'href="/portal/figures"' in admin


def test_demo_data_has_a_year_of_registrations(app, runner):
    """``flask demo-data`` registers a year of contacts at every place where hours are held,
    so the figures show a picture on a fresh database; the rows are inserted in bulk."""
    import time as timer

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import ConsultationHours, RegisteredQuestion, Registration

    started = timer.perf_counter()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert timer.perf_counter() - started < 30

    contacts = db.session.scalar(sa.select(sa.func.count()).select_from(Registration))
    questions = db.session.scalar(sa.select(sa.func.count()).select_from(RegisteredQuestion))
    first, last = db.session.execute(
        sa.select(sa.func.min(Registration.day), sa.func.max(Registration.day))
    ).one()
    assert contacts > 1000 and questions > contacts
    assert (last - first).days > 350
    places = set(db.session.scalars(sa.select(ConsultationHours.location_id)))
    registered = set(db.session.scalars(sa.select(Registration.location_id).distinct()))
    assert registered == places
    mismatched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RegisteredQuestion)
        .join(Registration)
        .where(
            sa.or_(
                RegisteredQuestion.day != Registration.day,
                RegisteredQuestion.location_id != Registration.location_id,
                RegisteredQuestion.organisation_id != Registration.organisation_id,
            )
        )
    )
    assert mismatched == 0
    network = figures.figures(Scope.of(None), figures.period_for("year", last), "nl")
    assert network.contacts > 0 and len(network.locations) == len(places)


def test_referrals_close_the_loop_and_appointments_count_per_series(app, desk, monkeypatch):
    """Referrals written in the period, by the other organisation and their status now; the
    days to the first contact; appointments booked, attended and not attended per series
    and provider (cancelled ones left out), over the DST change."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import BookingStatus, ConsultationHours, Referral, ReferralStatus
    from app.services import booking as booking_service
    from app.services import referrals
    from app.services.booking import ResidentDetails
    from tests.referral_helpers import write_signpost, write_warm

    def written(referral, moment):
        db.session.execute(
            sa.update(Referral).where(Referral.id == referral.id).values(created_at=moment)
        )
        db.session.commit()

    monkeypatch.setattr(clock, "now", lambda: at(date(2026, 10, 26), 10))
    warm = write_warm(desk.staff, desk.partner, desk.toeslagen)
    written(warm, at(date(2026, 10, 26), 10))
    monkeypatch.setattr(clock, "now", lambda: at(date(2026, 10, 29), 10))
    referrals.update(warm, desk.partner_staff, ReferralStatus.IN_CONTACT)
    monkeypatch.setattr(clock, "now", lambda: at(date(2026, 11, 3), 10))
    referrals.update(warm, desk.partner_staff, ReferralStatus.DONE)
    db.session.commit()
    written(write_signpost(desk.staff, desk.partner, desk.digid), at(date(2026, 10, 30), 9))
    back = write_warm(desk.partner_staff, desk.library, desk.digid)
    written(back, at(date(2026, 11, 1), 0, 30))  # 23:30 UTC on 31 October
    written(write_warm(desk.staff, desk.partner, desk.uwv), at(date(2026, 11, 2), 9))

    series = db.session.scalars(
        sa.select(ConsultationHours).where(ConsultationHours.provider_id == desk.partner.id)
    ).one()
    made = []
    # Tuesday 27 October 14:00 in Amsterdam is 13:00 UTC (winter time since Sunday).
    for minute, status in [
        (0, BookingStatus.ATTENDED),
        (30, BookingStatus.NO_SHOW),
        (60, BookingStatus.BOOKED),
        (90, BookingStatus.CANCELLED),
    ]:
        start = datetime(2026, 10, 27, 13, 0, tzinfo=UTC) + timedelta(minutes=minute)
        booking, _token = booking_service.book(
            series,
            start,
            ResidentDetails(name="A.B.", phone="06 12345678"),
            now=datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
        )
        made.append((booking, status))
    db.session.commit()
    for booking, status in made:
        booking.status = status
        if status is BookingStatus.CANCELLED:
            booking.seat = None
    db.session.commit()
    period = figures.period_for("range", FIRST, LAST)

    library = figures.referrals(Scope.of(desk.library), period)
    partner = figures.referrals(Scope.of(desk.partner), period)
    by_series, by_provider = figures.appointments(Scope.of(desk.maarssen), period)

    assert (library.sent_total, library.received_total) == (2, 1)
    [sent] = library.sent
    assert (sent.organisation, sent.total) == ("Geldpunt", 2)
    assert sent.by_status == {ReferralStatus.DONE: 1, ReferralStatus.SIGNPOSTED: 1}
    assert library.received[0].by_status == {ReferralStatus.RECEIVED: 1}
    assert library.days_to_first_contact is None
    assert partner.received_total == 2 and partner.contacted == 1
    assert partner.days_to_first_contact == pytest.approx(3.0)
    assert figures.referrals(Scope.of(desk.maarssen), period) is None
    assert [(r.booked, r.attended, r.no_show) for r in by_series] == [(3, 1, 1)]
    assert [(r.label, r.booked) for r in by_provider] == [("Geldpunt", 3)]
    assert figures.appointments(Scope.of(desk.breukelen), period) == ([], [])
