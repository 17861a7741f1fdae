"""Security headers on every answer: the site is crawled as a visitor, as a resident with the
secret link to their appointment, and logged in as each role, following every same-origin
link; each answer must carry the Content-Security-Policy, nosniff, the frame, referrer,
permissions and opener policies, and every page with personal data must say no-store.

One small region is the scene: a library hosts a partner's hours (with an exception and a
closure), a resident booked them, referrals went both ways, the library holds a course and a
staff member has a calendar feed.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import make_response, url_for

from app import clock
from app.extensions import db
from app.models import (
    BookedVia,
    ExceptionKind,
    FeedKind,
    LocationClosure,
    OrganisationKind,
    Role,
    SeriesException,
)
from app.services import booking as booking_service
from app.services import courses, feeds
from app.services.booking import ResidentDetails
from app.services.courses import CourseData
from tests.referral_helpers import write_signpost, write_warm

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"
RESIDENT = "Fatima"
PHONE = "06 12345678"
ROLES = (Role.COORDINATOR, Role.ORG_ADMIN, Role.STAFF, Role.VOLUNTEER)
SWITCHED_OFF = ("camera", "microphone", "geolocation", "payment", "usb", "interest-cohort")

# The crawl's bounds: every page is visited once, and a page that differs only in its query
# (another day, another free time, another filter) at most a few times.
MAX_PAGES = 400
MAX_PER_PATH = 3


# The scene ---------------------------------------------------------------------------------


def tomorrow_at(hour: int) -> datetime:
    return datetime.combine(clock.today() + timedelta(days=1), time(hour), AMS).astimezone(UTC)


class Region:
    """The region's ids and the resident's secrets, built once per test."""

    def __init__(self, make_org, make_location, make_user, make_series, make_topic) -> None:
        library = make_org(name="Bibliotheek Vechtstreek", kind=OrganisationKind.LIBRARY)
        partner = make_org(name="Schuldhulp Noord", kind=OrganisationKind.PARTNER)
        location = make_location(library, name="Vestiging Maarssen")
        topic = make_topic(slug="toeslagen", name_nl="Toeslagen", name_en="Benefits")
        series = make_series(
            provider=partner,
            location=location,
            topics=[topic],
            title="Geldzaken spreekuur",
            weekdays=EVERY_DAY,
            start_date=clock.today() - timedelta(days=7),
        )
        db.session.add_all(
            [
                SeriesException(
                    series_id=series.id,
                    date=clock.today() + timedelta(days=3),
                    kind=ExceptionKind.CANCELLED,
                    reason="Studiedag",
                ),
                LocationClosure(
                    location_id=location.id,
                    start_date=clock.today() + timedelta(days=20),
                    end_date=clock.today() + timedelta(days=21),
                    reason="Verbouwing",
                ),
            ]
        )
        db.session.commit()
        self.users = {role: make_user(role, organisation=library) for role in ROLES}
        self.partner_staff = make_user(Role.STAFF, organisation=partner)
        staff = self.users[Role.STAFF]

        own_series = make_series(
            provider=library,
            location=location,
            topics=[topic],
            title="Digitale overheid",
            weekdays=EVERY_DAY,
            start_date=clock.today() - timedelta(days=7),
        )
        booking, self.token = booking_service.book(
            series, tomorrow_at(14), ResidentDetails(name=RESIDENT, phone=PHONE)
        )
        booking_service.book(
            own_series,
            tomorrow_at(14),
            ResidentDetails(name="Jan"),
            by=self.users[Role.VOLUNTEER],
            via=BookedVia.DESK,
        )
        db.session.commit()
        self.code = booking.display_code
        self.series_id = series.id

        write_warm(staff, partner, topic)
        write_signpost(staff, partner, topic)
        course = courses.create_course(
            library,
            CourseData(
                title="Digisterker",
                location=location,
                capacity=8,
                first_date=clock.today() + timedelta(days=7),
                start_time=time(10, 0),
                end_time=time(12, 0),
                sessions=4,
            ),
            None,
        )
        db.session.commit()
        write_warm(self.partner_staff, library, topic, course=course)
        _link, self.feed_token = feeds.create_link(
            staff, FeedKind.LOCATION, location=location, language="en"
        )
        db.session.commit()


@pytest.fixture
def region(make_org, make_location, make_user, make_series, make_topic) -> Region:
    return Region(make_org, make_location, make_user, make_series, make_topic)


@pytest.fixture
def new_client(app, login) -> Callable:
    """A browser of its own (English), logged in as ``user`` when one is given."""

    def make(user=None):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if user is not None:
            login(user, test_client=client)
        return client

    return make


# Crawling ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The links of a page, and what in it a strict Content-Security-Policy would block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "script" and not values.get("src"):
            self.inline.append("an inline <script>")
        if tag == "style":
            self.inline.append("a <style> element")
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on")):
                self.inline.append(f"{name}= on <{tag}>")
            elif name in ("hx-vals", "hx-vars") and (value or "").lstrip().startswith("js:"):
                self.inline.append(f"{name}=js: on <{tag}>")
            elif name == "hx-trigger" and "[" in (value or ""):
                self.inline.append(f"an hx-trigger filter (needs eval) on <{tag}>")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.inline.append(f"a javascript: URL on <{tag}>")


def _same_origin_path(base: str, href: str) -> str | None:
    """The path and query of a link to this site, without its #fragment; None for others."""
    parts = urlsplit(urljoin(f"http://localhost{base}", href))
    if parts.scheme not in ("http", "https") or parts.netloc not in ("", "localhost"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(
    client, start: str, follow: Callable[[str], bool] = lambda path: True
) -> Iterator[tuple[str, object, list[str]]]:
    """GET ``start`` and every same-origin page linked from the pages found (breadth first,
    bounded, never the logout); yield each URL, its answer and what a strict policy would
    block in it. ``follow`` chooses which linked paths to visit."""
    queue, seen, per_path = deque([start]), {start}, Counter()
    while queue:
        url = queue.popleft()
        response = client.get(url)
        page = _Page()
        if response.mimetype == "text/html":
            page.feed(response.get_data(as_text=True))
        yield url, response, page.inline
        found = list(page.links)
        if response.status_code in (301, 302, 303, 307, 308):
            found.append(response.headers["Location"])
        for href in found:
            target = _same_origin_path(url, href)
            if target is None or target in seen or "logout" in target:
                continue
            path = urlsplit(target).path
            if not follow(path) or per_path[path] >= MAX_PER_PATH or len(seen) >= MAX_PAGES:
                continue
            seen.add(target)
            per_path[path] += 1
            queue.append(target)


# What every answer must carry ----------------------------------------------------------------

SECRET_URL = re.compile(r"^/(afspraak/link|cursussen/aanmelding/link|feeds)/")
RESIDENT_PAGE = re.compile(
    r"^/(afspraak(/.*)?|spreekuren/\d+/afspraak|cursussen/mijn-aanmelding(/.*)?"
    r"|cursussen/\d+/aanmelden|cursussen/aanmelding/link/.*)$"
)
PUBLIC_FEED = re.compile(r"^/agenda/.+\.ics$")


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


def header_problems(url: str, response) -> list[str]:
    """What is missing or wrong in the security headers of one answer."""
    path = urlsplit(url).path
    headers = response.headers
    policy = directives(response)
    expected = {
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    problems = [
        f"{name} is {policy.get(name)!r}, not {value!r}"
        for name, value in expected.items()
        if policy.get(name) != value
    ]
    if "unsafe" in headers.get("Content-Security-Policy", ""):
        problems.append("the policy allows something unsafe")
    permissions = headers.get("Permissions-Policy", "")
    problems += [f"{f} not switched off" for f in SWITCHED_OFF if f"{f}=()" not in permissions]
    referrer = "no-referrer" if SECRET_URL.match(path) else "same-origin"
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", referrer),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ):
        if headers.get(name) != value:
            problems.append(f"{name} is {headers.get(name)!r}, not {value!r}")
    return [f"{url} ({response.status_code}): {problem}" for problem in problems]


def no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def check_crawl(
    pages, *, store_rule: Callable[[str, object], str | None]
) -> tuple[list[str], list[str]]:
    """Crawl and collect every problem: headers, inline code, and ``store_rule``'s verdict."""
    problems, visited = [], []
    for url, response, inline in pages:
        visited.append(url)
        problems += header_problems(url, response)
        problems += [f"{url}: {what}" for what in inline]
        verdict = store_rule(urlsplit(url).path, response)
        if verdict:
            problems.append(f"{url} ({response.status_code}): {verdict}")
    return problems, visited


def _anonymous_rule(path: str, response) -> str | None:
    """A resident's pages are never stored; the public pages may be."""
    if RESIDENT_PAGE.match(path) and not no_store(response):
        return "a resident's page without no-store"
    if not RESIDENT_PAGE.match(path) and no_store(response):
        return "a public page marked no-store"
    return None


def _logged_in_rule(path: str, response) -> str | None:
    """Everything a logged-in user gets is no-store, except the public feeds' own caching."""
    if PUBLIC_FEED.match(path):
        if response.headers.get("Cache-Control") != "public, max-age=300":
            return f"the public feed's caching became {response.headers.get('Cache-Control')!r}"
        return None
    if not no_store(response):
        return f"no no-store for a logged-in user ({response.headers.get('Cache-Control')!r})"
    return None


# The crawls ----------------------------------------------------------------------------------


def test_every_public_page_carries_the_headers_and_only_resident_pages_say_no_store(
    region, new_client
):
    """A visitor's crawl from the start page (hours, series, booking forms, feeds, privacy,
    login): every answer has the headers and no inline code; the booking form and the
    appointment look-up say no-store, the start page and the hours list do not."""
    problems, visited = check_crawl(crawl(new_client(), "/"), store_rule=_anonymous_rule)
    assert not problems, "\n".join(problems)
    paths = {urlsplit(url).path for url in visited}
    assert {"/", "/spreekuren", "/afspraak", "/agenda", "/privacy", "/auth/login"} <= paths
    assert f"/spreekuren/{region.series_id}/afspraak" in paths
    assert any(PUBLIC_FEED.match(path) for path in paths)


@pytest.mark.parametrize("role", [*ROLES, "partner staff"], ids=lambda r: getattr(r, "value", r))
def test_every_page_of_a_logged_in_user_says_no_store(region, new_client, role):
    """Logged in as each role: the portal, desk, day lists, bookings and their cards,
    referrals and their slips, courses, feeds, management (and the public pages, seen while
    logged in) all carry the headers, no inline code, and no-store."""
    user = region.partner_staff if role == "partner staff" else region.users[role]
    client = new_client(user)
    problems, visited = check_crawl(crawl(client, "/portal/"), store_rule=_logged_in_rule)
    assert not problems, "\n".join(problems)
    paths = {urlsplit(url).path for url in visited}
    expected = {"/portal/", "/portal/desk", "/portal/bookings", "/portal/referrals/", "/"}
    expected.add("/portal/feeds")
    assert expected <= paths, expected - paths
    if role is Role.STAFF:
        assert any(re.match(r"^/portal/referrals/\d+/slip$", path) for path in paths)
    if role in (Role.COORDINATOR, Role.ORG_ADMIN):
        assert "/admin/" in paths
    assert any(re.match(r"^/portal/bookings/\d+/card$", path) for path in paths)
    if role != "partner staff":
        assert any(re.match(r"^/portal/courses/\d+$", path) for path in paths)


def test_the_resident_pages_of_a_booking_say_no_store_and_the_secret_link_no_referrer(
    region, new_client
):
    """The secret link (no-referrer, no-store), the appointment, its card, calendar file and
    the cancel and move pages it links to: headers, no inline code, no-store."""
    client = new_client()
    opened = client.get(f"/afspraak/link/{region.token}")
    assert opened.status_code == 303
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert no_store(opened)

    def resident_rule(path: str, response) -> str | None:
        return None if no_store(response) else "a resident's page without no-store"

    pages = crawl(client, "/afspraak/mijn", follow=RESIDENT_PAGE.match)
    problems, visited = check_crawl(pages, store_rule=resident_rule)
    assert not problems, "\n".join(problems)
    assert {
        "/afspraak/mijn",
        "/afspraak/mijn/kaart",
        "/afspraak/mijn/agenda.ics",
        "/afspraak/mijn/afzeggen",
        "/afspraak/mijn/verzetten",
    } <= set(visited)


def test_looking_up_an_appointment_by_code_and_its_results_say_no_store(region, new_client):
    """The look-up form, a failed look-up (which repeats what was typed), a found one (the
    redirect and the appointment it leads to) and a booking form sent back: no-store."""
    client = new_client()
    answers = {
        "form": client.get("/afspraak"),
        "not found": client.post("/afspraak", data={"code": region.code, "phone_or_name": "x"}),
        "found": client.post("/afspraak", data={"code": region.code, "phone_or_name": PHONE}),
    }
    assert answers["not found"].status_code == 422
    assert answers["found"].status_code == 303
    answers["appointment"] = client.get(answers["found"].headers["Location"])
    assert region.code in answers["appointment"].get_data(as_text=True)
    slot = tomorrow_at(15).strftime("%Y-%m-%dT%H:%MZ")
    answers["booking form sent back"] = client.post(
        f"/spreekuren/{region.series_id}/afspraak?tijd={slot}",
        data={"name": "", "phone": PHONE, "language": "nl"},
    )
    assert answers["booking form sent back"].status_code == 422
    problems = [p for name, a in answers.items() for p in header_problems(f"/afspraak {name}", a)]
    problems += [f"{name}: no no-store" for name, a in answers.items() if not no_store(a)]
    assert not problems, "\n".join(problems)


def test_secret_addresses_send_no_referrer_and_keep_their_own_caching(app, region, new_client):
    """Every route with a secret token in its path, and anything under it, sends no
    Referer; a staff calendar feed keeps its own revalidation caching, also on a 304."""
    client = new_client()
    with app.test_request_context():
        secret_routes = [
            url_for(rule.endpoint, token="x" * 32)
            for rule in app.url_map.iter_rules()
            if "token" in rule.arguments
        ]
    assert len(secret_routes) >= 2
    for url in [*secret_routes, *(f"{url}/more" for url in secret_routes)]:
        response = client.get(url)
        assert response.status_code == 404
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert not header_problems(url, response)

    feed = client.get(f"/feeds/{region.feed_token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    again = client.get(
        f"/feeds/{region.feed_token}.ics", headers={"If-None-Match": feed.headers["ETag"]}
    )
    assert again.status_code == 304
    for response in (feed, again):
        assert not header_problems(f"/feeds/{region.feed_token}.ics", response)
        assert response.headers["Cache-Control"] == "private, no-cache"


def test_the_page_with_a_new_feed_address_says_no_store(region, new_client):
    """Right after a feed link is made its page shows the secret address: never stored."""
    client = new_client(region.users[Role.STAFF])
    made = client.post("/portal/feeds/new/location", data={"location": "", "name": ""})
    assert made.status_code == 422  # no location chosen: the form comes back
    assert no_store(made)
    location_id = re.search(r'<option value="(\d+)"', made.get_data(as_text=True)).group(1)
    made = client.post(
        "/portal/feeds/new/location",
        data={"location": location_id, "name": "Balie", "include_bookings": "none"},
    )
    assert made.status_code == 303
    page = client.get(made.headers["Location"])
    assert page.status_code == 200 and ".ics" in page.get_data(as_text=True)
    assert no_store(page)
    assert not header_problems(made.headers["Location"], page)
    parsed = _Page()
    parsed.feed(page.get_data(as_text=True))
    assert parsed.inline == []  # its copy buttons work from the site's own script


# Static files, errors, redirects --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/static/css/app.css",
        "/static/css/card.css",
        "/static/js/app.js",
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/missing.js",
    ],
)
def test_static_files_carry_the_headers(client, url):
    """Stylesheets and scripts (and a missing one) carry the headers, nosniff above all."""
    with client.get(url) as response:
        assert response.status_code in (200, 404)
        assert not header_problems(url, response), header_problems(url, response)


def test_error_pages_and_redirects_carry_the_headers(client):
    """A 404 page and its htmx fragment, a 405 and the redirect to the login page."""
    answers = {
        "/no-such-page": client.get("/no-such-page"),
        "/no-such-page (htmx)": client.get("/no-such-page", headers={"HX-Request": "true"}),
        "/auth/logout (GET)": client.get("/auth/logout"),
        "/portal/ (anonymous)": client.get("/portal/"),
    }
    assert [a.status_code for a in answers.values()] == [404, 404, 405, 302]
    problems = [p for url, answer in answers.items() for p in header_problems(url, answer)]
    assert not problems, "\n".join(problems)


def test_a_page_may_set_its_own_policy_to_be_embedded(app, client):
    """A page that sets its own policy (an embeddable widget) keeps it, with framing allowed
    where it says and no X-Frame-Options; the other headers are still added."""
    from app.web.security import content_security_policy

    policy = content_security_policy(frame_ancestors="https://bibliotheek.example")

    @app.route("/widget-example")
    def widget_example():
        response = make_response("widget")
        response.headers["Content-Security-Policy"] = policy
        return response

    response = client.get("/widget-example")
    assert directives(response)["frame-ancestors"] == "https://bibliotheek.example"
    assert directives(response)["script-src"] == "'self'"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/").headers["X-Frame-Options"] == "DENY"
