"""The read-only JSON API (/api/v1): every answer fits its OpenAPI schema, answers 304 to a
repeat with its ETag, is open to any origin, comes in pages, is rate limited per client
address, fails as problem details, and holds nothing personal."""

from __future__ import annotations

import json
import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from app import clock, create_app, dispose_engines
from app.extensions import db, limiter
from app.models import (
    Booking,
    EmbedOrigin,
    Enrolment,
    EnrolmentStatus,
    Mode,
    OrganisationKind,
    Role,
    SeriesStatus,
    Visit,
)
from app.services import booking as booking_service
from app.services import course_signups, courses, visits
from app.services.booking import ResidentDetails
from app.services.courses import CourseData
from tests.conftest import FreshContextClient, _clear, _test_config
from tests.referral_helpers import write_warm

EVERY_DAY = "0,1,2,3,4,5,6"

# What a resident and a staff member told us: none of it may appear in any answer.
RESIDENT_NAME = "Quirijntje Zwavelstok"
RESIDENT_PHONE = "0687651234"
RESIDENT_EMAIL = "quirijntje.zwavelstok@example.net"
RESIDENT_QUESTION = "Vraag over de xylofoontoeslag"
REFERRAL_NAME = "Bartholomeus Vlierbes"
REFERRAL_PHONE = "0611122233"
REFERRAL_REQUEST = "Wil leren mailen met de kleinkinderen in Patagonië"
DESK_INITIALS = "Q.X.Z."
SIGNUP_NAME = "Ermengarde Kwispeldoorn"
SIGNUP_PHONE = "0655544433"
SIGNUP_EMAIL = "ermengarde@kwispel.example"
STAFF_NAME = "Wilhelmina Staffelaar"
STAFF_EMAIL = "w.staffelaar@partner.example"
SECRETS = (
    RESIDENT_NAME,
    "Zwavelstok",
    RESIDENT_PHONE,
    "06 87651234",
    RESIDENT_EMAIL,
    "xylofoontoeslag",
    REFERRAL_NAME,
    "Vlierbes",
    REFERRAL_PHONE,
    "Patagoni",
    DESK_INITIALS,
    SIGNUP_NAME,
    "Kwispeldoorn",
    SIGNUP_PHONE,
    SIGNUP_EMAIL,
    STAFF_NAME,
    "Staffelaar",
    STAFF_EMAIL,
    "organisation-contact@",
)


@pytest.fixture
def offer(make_org, make_location, make_series, make_topic, make_user):
    """A small network with hours of every mode, a hidden draft, a course with a participant,
    and a resident who booked, was referred to the course and came to the desk."""
    library = make_org(
        kind=OrganisationKind.LIBRARY,
        name="Bibliotheek Stichtse Vecht",
        phone="030 1234567",
        email="organisation-contact@bibliotheek.example",
        website="https://www.bibliotheek.example",
    )
    partner = make_org(name="Kwadraad", email="organisation-contact@kwadraad.example")
    maarssen = make_location(
        library,
        name="Bibliotheek Maarssen",
        city="Maarssen",
        accessibility="Rolstoeltoegankelijk, ringleiding",
    )
    breukelen = make_location(partner, name="Kwadraad Breukelen", city="Breukelen")
    money = make_topic(slug="geldzaken", name_nl="Geldzaken", name_en="Money")
    start = clock.today() - timedelta(days=7)
    appointments = make_series(
        title="Spreekuur geldzaken",
        provider=partner,
        location=maarssen,
        weekdays=EVERY_DAY,
        start_date=start,
        start_time=time(9, 0),
        end_time=time(17, 0),
    )
    appointments.topics.append(money)
    walk_in = make_series(
        title="Inloop DigiD",
        provider=library,
        location=maarssen,
        mode=Mode.WALK_IN,
        weekdays=EVERY_DAY,
        start_date=start,
        start_time=time(0, 30),
        end_time=time(23, 30),
    )
    mixed = make_series(
        title="Hulp bij toeslagen",
        provider=library,
        location=breukelen,
        mode=Mode.MIXED,
        weekdays=EVERY_DAY,
        start_date=start,
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
    )
    draft = make_series(
        title="Nog niet klaar",
        provider=library,
        location=maarssen,
        status=SeriesStatus.DRAFT,
    )
    db.session.commit()

    staff = make_user(Role.STAFF, partner, name=STAFF_NAME, email=STAFF_EMAIL)
    slot = booking_service.available_slots(
        [appointments], clock.today() + timedelta(days=1), clock.today() + timedelta(days=3)
    )[0]
    booking_service.book(
        appointments,
        slot.slot.start,
        ResidentDetails(
            name=RESIDENT_NAME,
            phone=RESIDENT_PHONE,
            email=RESIDENT_EMAIL,
            question=RESIDENT_QUESTION,
        ),
    )
    db.session.commit()
    course = courses.create_course(
        library,
        CourseData(
            title="Digisterker",
            location=maarssen,
            capacity=8,
            first_date=clock.today() + timedelta(days=7),
            start_time=time(10, 0),
            end_time=time(12, 0),
            sessions=4,
            description="Leer DigiD gebruiken",
        ),
        None,
    )
    db.session.commit()
    write_warm(
        staff,
        library,
        money,
        course=course,
        resident_name=REFERRAL_NAME,
        phone=REFERRAL_PHONE,
        request=REFERRAL_REQUEST,
    )
    course_signups.sign_up(
        course, course_signups.SignUp(name=SIGNUP_NAME, phone=SIGNUP_PHONE, email=SIGNUP_EMAIL)
    )
    db.session.commit()
    visits.add_walk_in(walk_in, initials=DESK_INITIALS)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    assert set(db.session.scalars(sa.select(Enrolment.status))) == {EnrolmentStatus.PARTICIPANT}
    assert db.session.scalar(sa.select(Visit.initials)) == DESK_INITIALS
    return {
        "library": library,
        "partner": partner,
        "maarssen": maarssen,
        "appointments": appointments,
        "walk_in": walk_in,
        "mixed": mixed,
        "draft": draft,
        "course": course,
        "money": money,
    }


@pytest.fixture
def openapi(client):
    # Problem details are JSON in a media type of their own.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(client.get("/api/v1/openapi.json").get_json(), config=config)


def checked(client, openapi, url: str, status: int = 200, **kwargs):
    """GET the url and validate the request and the answer against the OpenAPI document."""
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    request = WerkzeugOpenAPIRequest(response.request)
    openapi.validate_response(request, WerkzeugOpenAPIResponse(response))
    return response


def every_answer(client, openapi) -> dict[str, object]:
    """Every list (every page) and every item the lists lead to, each validated."""
    answers = {}
    for url in (
        "/api/v1/organisations?limit=1",
        "/api/v1/locations?limit=1",
        "/api/v1/hours?limit=1",
        "/api/v1/courses?limit=1",
        "/api/v1/topics",
    ):
        kind = url.split("/")[3].split("?")[0]
        while url:
            response = checked(client, openapi, url)
            answers[url] = response
            body = response.get_json()
            for item in body["items"]:
                if kind != "topics":
                    detail = f"/api/v1/{kind}/{item['id']}"
                    answers[detail] = checked(client, openapi, detail)
            url = body.get("next")
            url = url and url.removeprefix("http://localhost")
    return answers


def test_every_endpoint_answers_as_its_openapi_schema_says(client, openapi, offer):
    """Every list page and item validates against the document; they show the public offer
    (every mode of hours with their dates and free times, the course with its places) and
    not the draft."""
    answers = every_answer(client, openapi)
    ids = {k for k in answers if re.match(r"^/api/v1/\w+/\d+$", k)}
    o = offer
    assert ids == {
        f"/api/v1/organisations/{o['library'].id}",
        f"/api/v1/organisations/{o['partner'].id}",
        f"/api/v1/locations/{o['maarssen'].id}",
        f"/api/v1/locations/{o['mixed'].location.id}",
        f"/api/v1/hours/{o['appointments'].id}",
        f"/api/v1/hours/{o['walk_in'].id}",
        f"/api/v1/hours/{o['mixed'].id}",
        f"/api/v1/courses/{o['course'].id}",
    }
    money = answers[f"/api/v1/hours/{o['appointments'].id}"].get_json()
    assert money["topics"] == ["geldzaken"] and money["mode"] == "appointment"
    assert money["provider"] == {"id": o["partner"].id, "name": "Kwadraad"}
    assert money["url"] == f"http://localhost/spreekuren/{o['appointments'].id}"
    tomorrow = [d for d in money["occurrences"] if d["date"] == str(clock.today() + timedelta(1))]
    # 9:00-17:00 in half hours, one of them booked.
    assert tomorrow[0]["free_times"] == 15
    assert tomorrow[0]["start"].endswith(("+01:00", "+02:00"))
    walk_in = answers[f"/api/v1/hours/{o['walk_in'].id}"].get_json()
    assert all(d["free_times"] is None for d in walk_in["occurrences"])
    mixed = answers[f"/api/v1/hours/{o['mixed'].id}"].get_json()
    assert mixed["occurrences"][0]["walk_in_start"][11:16] == "14:00"
    course = answers[f"/api/v1/courses/{o['course'].id}"].get_json()
    assert (course["capacity"], course["places_left"], len(course["sessions"])) == (8, 6, 4)
    assert course["url"] == f"http://localhost/cursussen/{o['course'].id}-digisterker"
    assert (course["device"], course["needs_intake"], course["topic"]) == ("either", False, None)
    location = answers[f"/api/v1/locations/{o['maarssen'].id}"].get_json()
    assert location["accessibility"] == "Rolstoeltoegankelijk, ringleiding"
    topics = answers["/api/v1/topics"].get_json()["items"]
    assert topics[0]["hours_url"] == "http://localhost/spreekuren/onderwerp/geldzaken"
    assert client.get(f"/api/v1/hours/{o['draft'].id}").status_code == 404


def test_no_answer_holds_anything_personal(client, openapi, offer):
    """A resident's booking, referral, course place and desk visit, a staff member's name and
    address, and an organisation's contact address appear in no answer."""
    answers = every_answer(client, openapi)
    answers["/api/v1/openapi.json"] = client.get("/api/v1/openapi.json")
    answers["/api/v1/docs"] = client.get("/api/v1/docs")
    assert len(answers) > 15
    for url, response in answers.items():
        text = response.get_data(as_text=True) + str(response.headers)
        for secret in SECRETS:
            assert secret not in text, (url, secret)


def test_lists_come_in_pages(client, openapi, offer):
    first = checked(client, openapi, "/api/v1/hours?limit=2").get_json()
    assert (first["total"], len(first["items"]), first["page"]) == (3, 2, 1)
    assert first["next"] == "http://localhost/api/v1/hours?page=2&limit=2&weeks=4"
    second = checked(client, openapi, "/api/v1/hours?page=2&limit=2").get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {i["id"] for i in first["items"] + second["items"]} == {
        offer[k].id for k in ("appointments", "walk_in", "mixed")
    }
    filtered = checked(client, openapi, "/api/v1/hours?place=Breukelen").get_json()
    assert [i["title"] for i in filtered["items"]] == ["Hulp bij toeslagen"]
    by_topic = checked(client, openapi, "/api/v1/hours?topic=geldzaken").get_json()
    assert [i["title"] for i in by_topic["items"]] == ["Spreekuur geldzaken"]
    beyond = checked(client, openapi, "/api/v1/hours?page=9").get_json()
    assert beyond["items"] == [] and beyond["next"] is None


def test_a_repeat_with_the_etag_gets_304_until_something_changes(client, openapi, offer):
    """Every endpoint sends an ETag and answers 304 to If-None-Match with it; a change to
    the offer changes the ETag."""
    for url in [*every_answer(client, openapi), "/api/v1/openapi.json", "/api/v1/docs"]:
        first = client.get(url)
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Access-Control-Allow-Origin"] == "*"
    url = f"/api/v1/courses/{offer['course'].id}"
    etag = client.get(url).headers["ETag"]
    offer["course"].capacity = 10
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["places_left"] == 8


def test_any_origin_may_read_without_credentials(client, offer):
    response = client.get("/api/v1/hours", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        "/api/v1/hours",
        headers={
            "Origin": "https://partner.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Set-Cookie" not in response.headers


def problem_of(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def test_errors_are_problem_details_and_the_site_keeps_its_pages(client, openapi, offer):
    """400, 404 and 405 under /api/ are problem details (as documented); the same errors on
    the site are still its HTML pages."""
    body = problem_of(checked(client, openapi, "/api/v1/hours?limit=1000", 400), 400)
    assert "limit" in body["detail"]
    problem_of(client.get("/api/v1/hours?weeks=abc"), 400)
    problem_of(client.get("/api/v1/hours?organisation=99999999999"), 400)
    problem_of(checked(client, openapi, "/api/v1/hours/999999", 404), 404)
    problem_of(client.get("/api/v1/hours/99999999999"), 404)
    problem_of(client.get("/api/v1/nothing-here"), 404)
    problem_of(client.get("/api/v2/hours"), 404)
    not_allowed = client.post("/api/v1/hours", data={"x": "1"})
    problem_of(not_allowed, 405)
    assert "GET" in not_allowed.headers["Allow"]
    site = client.get("/spreekuren/999999")
    assert site.status_code == 404 and site.mimetype == "text/html"
    assert client.post("/spreekuren").mimetype == "text/html"


def test_a_failure_inside_the_api_is_a_problem_too(app, client, monkeypatch):
    from app.api import queries

    def broken():
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(queries, "topics", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problem_of(client.get("/api/v1/topics"), 500)


def test_the_docs_page_is_served_from_the_document_without_a_cdn(client, offer):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "GET /api/v1/hours/{hours_id}" in html and "places_left" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert "public" not in page.headers.get("Cache-Control", "")
    assert client.get("/api/v1/topics").headers["Cache-Control"] == "public, max-age=60"
    assert not re.search(r'(src|href)="https?://', html)


@pytest.fixture
def limited_app(database_url):
    """The app with its rate limits on and a small API limit."""
    app = create_app(
        {
            **_test_config(database_url),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_API_ADDRESS": "5 per minute",
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        assert limiter.enabled
        yield app
        db.session.remove()
        _clear(db.engine)
        dispose_engines()


def test_the_rate_limit_answers_429_with_retry_after_per_client_address(limited_app):
    """Over the limit an address gets 429 as problem details with Retry-After; another
    address is still served, and the site's pages are not limited by the API's count."""
    client = limited_app.test_client()
    first = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(5):
        assert client.get("/api/v1/topics", environ_overrides=first).status_code == 200
    refused = client.get("/api/v1/hours", environ_overrides=first)
    body = problem_of(refused, 429)
    assert "Retry-After" in body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.get("/api/v1/topics", environ_overrides={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 200
    assert client.get("/spreekuren", environ_overrides=first).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmbedOrigin)) == 0
