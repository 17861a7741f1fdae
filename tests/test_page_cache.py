"""The short-lived cache of public pages: the same page for every anonymous visitor is made
once per worker and period, each visitor still gets their own CSRF token, a change made
through the app shows at once, and nothing that differs per visitor is ever kept."""

import re
import time as wall
from datetime import time

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import ConsultationHours, Role
from app.services import embeds
from tests.conftest import PASSWORD

EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def cached(csrf_app):
    csrf_app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 600
    return csrf_app


@pytest.fixture
def series(cached, make_series, make_location):
    return make_series(
        title="Hulp bij geldzaken",
        location=make_location(city="Maarssen"),
        weekdays=EVERY_DAY,
        start_date=clock.today(),
        start_time=time(20, 0),
        end_time=time(21, 0),
    )


def _retitle(series, title: str) -> None:
    """Change the title behind the app's back (as another worker would)."""
    db.session.execute(
        sa.update(ConsultationHours).where(ConsultationHours.id == series.id).values(title=title)
    )
    db.session.commit()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_public_page_is_made_once_and_a_change_through_the_app_shows_at_once(cached, series):
    client = cached.test_client()
    assert "Hulp bij geldzaken" in client.get("/spreekuren").get_data(as_text=True)
    _retitle(series, "Geldhulp op dinsdag")
    assert "Hulp bij geldzaken" in client.get("/spreekuren").get_data(as_text=True)
    # Any change made through this worker empties its cache: here, choosing a language.
    html = client.get("/privacy").get_data(as_text=True)
    chosen = client.post("/taal", data={"language": "en", "next": "/", "csrf_token": _token(html)})
    assert chosen.status_code == 303
    assert "Geldhulp op dinsdag" in client.get("/spreekuren").get_data(as_text=True)


def test_every_visitor_gets_their_own_csrf_token_and_it_works(cached, series):
    first, second = cached.test_client(), cached.test_client()
    one = first.get("/spreekuren").get_data(as_text=True)
    two = second.get("/spreekuren").get_data(as_text=True)
    assert _token(one) != _token(two)
    assert "\x00" not in two
    # The token of the page from the cache is the visitor's own: the language form works.
    answer = second.post("/taal", data={"language": "en", "next": "/", "csrf_token": _token(two)})
    assert answer.status_code == 303
    # And it is the same page otherwise: the cached one.
    assert one.replace(_token(one), "") == two.replace(_token(two), "")


def test_languages_and_fragments_are_kept_apart(cached, series):
    client = cached.test_client()
    dutch = client.get("/spreekuren", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    english = client.get("/spreekuren", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="nl"' in dutch and 'lang="en"' in english
    fragment = client.get("/spreekuren", headers={"Accept-Language": "en", "HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in client.get("/spreekuren", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_pages_that_differ_per_visitor_are_never_kept(cached, series, make_user):
    """Staff who are logged in get the page made for them (with their menu); so does a
    visitor with a message waiting. Anonymous visitors still get the kept page."""
    staff = make_user(Role.STAFF)
    client = cached.test_client()
    client.get("/spreekuren")  # kept for everyone
    _retitle(series, "Geldhulp op dinsdag")
    form = client.get("/auth/login").get_data(as_text=True)
    answer = client.post(
        "/auth/login",
        data={"email": staff.email, "password": PASSWORD, "csrf_token": _token(form)},
    )
    assert answer.status_code == 303
    # Logging in was a change through the app: everyone's kept pages are gone anyway, so
    # keep one again before looking as staff.
    anonymous = cached.test_client()
    assert "Geldhulp op dinsdag" in anonymous.get("/spreekuren").get_data(as_text=True)
    _retitle(series, "Geldhulp op woensdag")
    as_staff = client.get("/spreekuren").get_data(as_text=True)
    assert "Geldhulp op woensdag" in as_staff
    assert "Geldhulp op dinsdag" in anonymous.get("/spreekuren").get_data(as_text=True)


def test_an_embedded_list_keeps_its_frame_ancestors_from_the_cache(cached, series):
    embeds.add_origin("https://gemeente.example")
    db.session.commit()
    client = cached.test_client()
    first = client.get("/ingebed/spreekuren")
    second = client.get("/ingebed/spreekuren")
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Security-Policy"] == second.headers["Content-Security-Policy"]
    assert "frame-ancestors https://gemeente.example" in second.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in second.headers


def test_a_kept_page_expires(cached, series):
    cached.config["PUBLIC_PAGE_CACHE_SECONDS"] = 0.2
    client = cached.test_client()
    client.get("/spreekuren")
    _retitle(series, "Geldhulp op dinsdag")
    deadline = wall.monotonic() + 30
    while "Geldhulp op dinsdag" not in client.get("/spreekuren").get_data(as_text=True):
        assert wall.monotonic() < deadline, "the page was never made again"
