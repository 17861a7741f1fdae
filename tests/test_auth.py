"""Logging in and out, and sessions that end when an account changes."""

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import LoginSession, Role
from app.services import accounts
from tests.conftest import PASSWORD


def test_login_page_is_dutch_by_default(client):
    """A first visit without language preference shows the Dutch login page."""
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="nl"' in page


def test_wrong_password_is_refused_with_a_message(client, make_user):
    """A wrong password re-renders the form (422) with a message naming neither part."""
    user = make_user()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/auth/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 422
    assert "Email address or password is not correct." in response.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    """An unknown email gets exactly the same answer as a wrong password."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/auth/login", data={"email": "x@example.org", "password": "nope"})
    assert response.status_code == 422
    assert "Email address or password is not correct." in response.get_data(as_text=True)


def test_email_is_case_insensitive(client, make_user):
    """Staff can type their email address in any case."""
    make_user(email="anna@example.org")
    response = client.post(
        "/auth/login", data={"email": " Anna@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 303


def test_login_follows_only_local_next(client, make_user, login):
    """After login the user returns to the page they asked for, never to another site."""
    user = make_user()
    response = client.post(
        "/auth/login?next=/admin/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/"
    client.post("/auth/logout")
    response = client.post(
        "/auth/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/portal/"


def test_portal_asks_anonymous_visitors_to_log_in(client):
    """The portal redirects visitors who are not logged in to the login page."""
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_logout_ends_the_session(client, make_user, login):
    """After logging out the portal asks for a login again."""
    login(make_user())
    assert client.get("/portal/").status_code == 200
    client.post("/auth/logout")
    assert client.get("/portal/").status_code == 302


def test_session_lasts_a_working_day(app, client, make_user, login):
    """The login cookie outlives a working day: no time-out during desk hours."""
    login(make_user())
    assert app.permanent_session_lifetime.total_seconds() >= 12 * 3600
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None


def test_deactivated_user_cannot_log_in_and_loses_their_session(client, make_user, login):
    """Deactivating an account ends its open session and blocks new logins."""
    user = make_user(Role.STAFF)
    login(user)
    accounts.set_active(user, False)
    assert client.get("/portal/").status_code == 302
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


def test_password_reset_ends_old_sessions(client, make_user, login):
    """After a password reset the old password and the old session no longer work."""
    user = make_user()
    login(user)
    new_password = accounts.reset_password(user)
    assert client.get("/portal/").status_code == 302
    assert (
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 422
    )
    login(user, new_password)
    assert client.get("/portal/").status_code == 200


def test_passwords_are_stored_hashed(make_user):
    """The database holds a hash, never the password itself."""
    user = make_user()
    db.session.refresh(user)
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)


def test_forms_need_a_csrf_token(csrf_app, make_user):
    """With CSRF protection on, a login post without the token is refused."""
    user = make_user()
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (400, 422)
    assert client.get("/portal/").status_code == 302


def test_staff_of_an_organisation_that_left_the_network_cannot_log_in(client, make_user, login):
    """When the coordinator switches an organisation off, its staff can no longer log in
    and their open sessions end."""
    user = make_user(Role.STAFF)
    login(user)
    user.organisation.active = False
    db.session.commit()
    assert client.get("/portal/").status_code == 302
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


# Login sessions on the server ------------------------------------------------------------


def _fresh_client_with(app, cookies: dict[str, str]):
    """A client on another machine that holds nothing but copies of these cookies."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _shows_the_login_page(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_logout_ends_every_copy_of_the_session_cookie(app, client, make_user, login):
    """A copy of the session cookie opens the portal until its owner logs out; after the
    logout the copy gets the login page on any machine."""
    login(make_user())
    copied = {"session": client.get_cookie("session").value}
    assert _fresh_client_with(app, copied).get("/portal/").status_code == 200

    client.post("/auth/logout")

    assert _shows_the_login_page(_fresh_client_with(app, copied).get("/portal/"))


def test_logout_ends_every_copy_of_the_remember_cookie(app, client, make_user):
    """With "keep me logged in" the remember cookie alone opens the portal; after logging
    out neither a copy of it nor a copy of both cookies does."""
    user = make_user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 303
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    only_remember = {"remember_token": remember_cookie}
    assert _fresh_client_with(app, only_remember).get("/portal/").status_code == 200

    client.post("/auth/logout")

    assert _shows_the_login_page(_fresh_client_with(app, only_remember).get("/portal/"))
    both = {"session": session_cookie, "remember_token": remember_cookie}
    assert _shows_the_login_page(_fresh_client_with(app, both).get("/portal/"))


def test_logging_out_on_one_device_keeps_the_others_logged_in(app, client, make_user, login):
    """The same member of staff on two computers: logging out on one leaves the other
    logged in."""
    user = make_user()
    desk = app.test_client()
    login(user)
    login(user, test_client=desk)

    client.post("/auth/logout")

    assert _shows_the_login_page(client.get("/portal/"))
    assert desk.get("/portal/").status_code == 200


def test_login_session_keeps_only_a_hash_of_its_token(app, client, make_user, login):
    """The database holds the SHA-256 of the token in the cookie, never the token."""
    user = make_user()
    login(user)
    [row] = db.session.scalars(sa.select(LoginSession)).all()
    signed = app.session_interface.get_signing_serializer(app)
    token = signed.loads(client.get_cookie("session").value)["_user_id"]
    assert row.user_id == user.id and row.session_version == user.session_version
    assert token not in row.token_hash
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_an_unused_login_session_expires(app, client, make_user, login, monkeypatch):
    """A login session without requests for longer than the session lifetime ends on the
    server too, also when its cookie is kept."""
    login(make_user())
    assert client.get("/portal/").status_code == 200
    later = clock.now() + app.permanent_session_lifetime + timedelta(minutes=10)
    monkeypatch.setattr("app.clock.now", lambda: later)
    assert _shows_the_login_page(client.get("/portal/"))


def test_a_used_login_session_lasts_longer_than_its_lifetime(
    app, client, make_user, login, monkeypatch
):
    """Each request moves the end of the login session on, as the session cookie does: a
    desk that is in use keeps its login."""
    login(make_user())
    start = clock.now()
    step = app.permanent_session_lifetime - timedelta(hours=1)
    for n in (1, 2, 3):
        monkeypatch.setattr("app.clock.now", lambda n=n: start + n * step)
        assert client.get("/portal/").status_code == 200
