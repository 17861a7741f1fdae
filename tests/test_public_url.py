"""The Host header of a request never decides a link: links in messages are built on
PUBLIC_URL, which production requires. Production answers only for its own host names,
sends its cookies over https only and, behind its proxy, sees the client's address and the
scheme the client used.

In this module ``app`` is configured as in production, behind one TLS-terminating proxy.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import request

from app import clock, create_app
from app.extensions import db
from app.models import Booking, OutboxMessage
from tests.conftest import PASSWORD, _test_config, app_in_context

PUBLIC_URL = "https://spreekuur.example.org"
PUBLIC_HOST = "spreekuur.example.org"
EVIL = "evil.example"
PRODUCTION = {
    "TESTING": False,
    "DEBUG": False,
    "WTF_CSRF_ENABLED": True,
    "PUBLIC_URL": PUBLIC_URL,
    "PROXY_FIX_X_FOR": 1,
}
# A request as the proxy passes it on: the Host header unchanged, the client's address and
# scheme added.
VIA_PROXY = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "Referer": f"{PUBLIC_URL}/",
}


@pytest.fixture
def app(database_url):
    with app_in_context(database_url, **PRODUCTION) as app:
        yield app


def config_for(**settings) -> dict:
    """The settings of an app made only to look at its configuration."""
    return {**_test_config("sqlite://"), **settings}


@pytest.fixture
def series(make_series):
    return make_series(
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(14, 0),
        end_time=time(15, 0),
    )


def book_url(series) -> str:
    day = clock.today() + timedelta(days=2)
    slot = datetime.combine(day, series.start_time, ZoneInfo("Europe/Amsterdam"))
    return f"/spreekuren/{series.id}/afspraak?tijd={slot.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def resident_form(**overrides) -> dict:
    data = {"name": "Fatima", "email": "fatima@example.org", "language": "en"}
    data.update(overrides)
    return data


def csrf_token(response) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text)
    return match.group(1) if match else ""


def queued_mail() -> list[str]:
    return db.session.scalars(sa.select(OutboxMessage.body)).all()


def bookings() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


# Links in messages -----------------------------------------------------------------------------


def test_a_booking_sent_with_another_host_is_refused_and_mails_nothing(client, series):
    """Someone who sends Host: evil.example gets 400 for the form and for the booking:
    nothing is booked and no mail is queued, so no mail carries that host."""
    evil = {**VIA_PROXY, "Host": EVIL, "Referer": f"https://{EVIL}/"}
    form = client.get(book_url(series), headers=evil)
    assert form.status_code == 400
    response = client.post(
        book_url(series), headers=evil, data=resident_form(csrf_token=csrf_token(form))
    )
    assert response.status_code == 400
    assert bookings() == 0
    assert not any(EVIL in body for body in queued_mail())


def test_a_booking_through_the_proxy_mails_a_link_on_the_public_address(client, series):
    """A booking through the proxy queues a confirmation whose link is on PUBLIC_URL; a
    forwarded host name is not used."""
    headers = {**VIA_PROXY, "X-Forwarded-Host": EVIL}
    form = client.get(book_url(series), headers=headers)
    assert form.status_code == 200
    response = client.post(
        book_url(series), headers=headers, data=resident_form(csrf_token=csrf_token(form))
    )
    assert response.status_code == 303, response.text
    [body] = queued_mail()
    assert f"{PUBLIC_URL}/afspraak/link/" in body
    assert EVIL not in body


def test_a_development_app_without_public_url_links_to_the_development_server(database_url, series):
    """Testing or debugging without PUBLIC_URL (as the demo once ran), a booking sent with
    Host: evil.example mails a link to the development server, and the printed card names
    it too: never that host."""
    url = book_url(series)  # before the other app's context: the series is of this one
    with app_in_context(database_url, PUBLIC_URL=None) as development:
        client = development.test_client()
        evil = {"Host": EVIL}
        response = client.post(url, headers=evil, data=resident_form())
        assert response.status_code == 303, response.text
        [body] = queued_mail()
        assert EVIL not in body
        assert "http://127.0.0.1:5000/afspraak/link/" in body
        card = client.get("/afspraak/mijn/kaart", headers=evil).text
        assert EVIL not in card
        assert '<bdi dir="ltr">127.0.0.1:5000/afspraak</bdi> ' in card


# Starting in production ------------------------------------------------------------------------


@pytest.mark.parametrize("public_url", [None, ""])
def test_production_does_not_start_without_public_url(public_url):
    """Without PUBLIC_URL the app refuses to start in production, and says what to set."""
    with pytest.raises(RuntimeError, match="PUBLIC_URL is required in production") as error:
        create_app(config_for(**{**PRODUCTION, "PUBLIC_URL": public_url}))
    assert "SPREEKUUR_PUBLIC_URL" in str(error.value)


@pytest.mark.parametrize(
    "public_url", ["spreekuur.example.org", "ftp://spreekuur.example.org", "https://"]
)
def test_production_does_not_start_with_a_public_url_that_is_no_web_address(public_url):
    """PUBLIC_URL must be an http or https address with a host name."""
    with pytest.raises(RuntimeError, match="PUBLIC_URL must be"):
        create_app(config_for(**{**PRODUCTION, "PUBLIC_URL": public_url}))


def test_debugging_starts_without_public_url():
    """On a developer's machine (debug) the app starts without PUBLIC_URL and links to the
    development server; no host names are enforced."""
    app = create_app(config_for(TESTING=False, DEBUG=True, PUBLIC_URL=None))
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] is None


# Trusted hosts ---------------------------------------------------------------------------------


def test_a_request_for_another_host_gets_400(client):
    """Production answers only for the host of PUBLIC_URL; any other Host gets 400."""
    assert client.get("/", headers={"Host": PUBLIC_HOST}).status_code == 200
    assert client.get("/", headers=VIA_PROXY).status_code == 200
    for host in (EVIL, "localhost", f"{PUBLIC_HOST}.{EVIL}"):
        response = client.get("/", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.text == "Deze website is niet te bereiken op dit adres.\n"


@pytest.mark.parametrize(
    ("public_url", "trusted"),
    [
        ("https://spreekuur.example.org", ["spreekuur.example.org"]),
        ("http://127.0.0.1:5000", ["127.0.0.1", "localhost"]),
        ("http://localhost:8000/", ["localhost", "127.0.0.1"]),
    ],
)
def test_production_trusts_the_host_of_public_url(public_url, trusted):
    """By default the trusted hosts are PUBLIC_URL's host, with localhost and 127.0.0.1 both
    when that is the machine itself."""
    app = create_app(config_for(**{**PRODUCTION, "PUBLIC_URL": public_url}))
    assert app.config["TRUSTED_HOSTS"] == trusted


@pytest.mark.parametrize(
    "setting",
    ["www.example.org, spreekuur.example.org", ["www.example.org", "spreekuur.example.org"]],
)
def test_trusted_hosts_can_be_set(setting):
    """TRUSTED_HOSTS is a list, or a comma-separated string (as from the environment)."""
    app = create_app(config_for(**PRODUCTION, TRUSTED_HOSTS=setting))
    assert app.config["TRUSTED_HOSTS"] == ["www.example.org", "spreekuur.example.org"]
    client = app.test_client()
    app.add_url_rule("/host", "host", lambda: request.host)
    assert client.get("/host", headers={"Host": "www.example.org"}).text == "www.example.org"
    assert client.get("/host", headers={"Host": EVIL}).status_code == 400


# Cookies ---------------------------------------------------------------------------------------


def test_cookies_are_secure_with_an_https_public_url(client, make_user):
    """With an https PUBLIC_URL the session and remember cookies go over https only (and
    stay HTTP-only and SameSite=Lax)."""
    user = make_user()
    form = client.get("/auth/login", headers=VIA_PROXY)
    response = client.post(
        "/auth/login",
        headers=VIA_PROXY,
        data={
            "email": user.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(form),
        },
    )
    assert response.status_code == 303, response.text
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"session", "remember_token"}
    for name in ("session", "remember_token"):
        assert "; Secure" in cookies[name], cookies[name]
        assert "; HttpOnly" in cookies[name] and "; SameSite=Lax" in cookies[name]


@pytest.mark.parametrize(
    ("settings", "session_secure", "remember_secure"),
    [
        ({"PUBLIC_URL": "http://127.0.0.1:5000"}, False, False),
        ({"SESSION_COOKIE_SECURE": False}, False, True),
        ({"PUBLIC_URL": "http://127.0.0.1:5000", "REMEMBER_COOKIE_SECURE": True}, False, True),
    ],
)
def test_secure_cookies_follow_public_url_unless_set(settings, session_secure, remember_secure):
    """Over plain http the cookies cannot be secure; a setting of its own always wins."""
    app = create_app(config_for(**{**PRODUCTION, **settings}))
    assert app.config["SESSION_COOKIE_SECURE"] is session_secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is remember_secure


# Behind the proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(("proxies", "seen"), [(1, "203.0.113.7 https"), (0, "127.0.0.1 http")])
def test_behind_the_proxy_the_client_address_and_scheme_are_the_clients(proxies, seen):
    """With PROXY_FIX_X_FOR set to the number of proxies the app sees the client's address
    and https, as the proxy forwards them; without it, forwarded headers are not believed."""
    app = create_app(config_for(**{**PRODUCTION, "PROXY_FIX_X_FOR": proxies}))
    app.add_url_rule("/seen", "seen", lambda: f"{request.remote_addr} {request.scheme}")
    assert app.test_client().get("/seen", headers=VIA_PROXY).text == seen
