"""Every public list has a readable address and an embeddable variant that only the websites
the coordinator lists may frame; every other page keeps refusing frames."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import EmbedOrigin, Mode, OrganisationKind, Role
from app.services import DomainError, embeds
from app.services.embeds import normalise_origin


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


@pytest.fixture
def region(make_org, make_location, make_series, make_topic):
    """Hours in Maarssen (Kwadraad, about money) and in 's-Hertogenbosch (the library)."""
    library = make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Stichtse Vecht")
    kwadraad = make_org(name="Kwadraad & Co")
    money = make_topic(slug="geldzaken", name_nl="Geldzaken", name_en="Money matters")
    maarssen = make_location(library, name="Bibliotheek Maarssen", city="Maarssen")
    bosch = make_location(library, name="Bibliotheek Centrum", city="'s-Hertogenbosch")
    start = clock.today() - timedelta(days=7)
    weekdays = ",".join(str(d) for d in range(7))
    money_hours = make_series(
        title="Spreekuur geldzaken",
        provider=kwadraad,
        location=maarssen,
        weekdays=weekdays,
        start_date=start,
    )
    money_hours.topics.append(money)
    digid_hours = make_series(
        title="Inloop DigiD",
        provider=library,
        location=bosch,
        mode=Mode.WALK_IN,
        weekdays=weekdays,
        start_date=start,
    )
    db.session.commit()
    return {
        "kwadraad": kwadraad,
        "library": library,
        "money": money,
        "money_hours": money_hours,
        "digid_hours": digid_hours,
    }


def test_a_list_per_place_topic_and_organisation_has_a_readable_address(client, region):
    """/spreekuren/plaats/…, /onderwerp/… and /organisatie/<number>-<name> show only their
    hours, under a heading that says which."""
    kwadraad = region["kwadraad"]
    pages = {
        "/spreekuren/plaats/maarssen": "Help in Maarssen",
        "/spreekuren/plaats/s-hertogenbosch": "Help in &#39;s-Hertogenbosch",
        "/spreekuren/onderwerp/geldzaken": "Help with Money matters",
        f"/spreekuren/organisatie/{kwadraad.id}-kwadraad-co": "Help sessions of Kwadraad &amp; Co",
    }
    for path, heading in pages.items():
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f'<h1 id="hours-title">{heading}</h1>' in html, path
        money = "Spreekuur geldzaken" in html
        digid = "Inloop DigiD" in html
        assert (money, digid) == ((False, True) if "bosch" in path else (True, False)), path


def test_the_query_string_filters_keep_working(client, region):
    """The filter form's addresses show the same lists as the readable addresses."""
    kwadraad = region["kwadraad"]
    same = {
        "/spreekuren?plaats=Maarssen": "/spreekuren/plaats/maarssen",
        "/spreekuren?onderwerp=geldzaken&plaats=&organisatie=": "/spreekuren/onderwerp/geldzaken",
        f"/spreekuren?organisatie={kwadraad.id}": (
            f"/spreekuren/organisatie/{kwadraad.id}-kwadraad-co"
        ),
    }
    for filtered, readable in same.items():
        by_query, by_path = client.get(filtered), client.get(readable)
        assert by_query.status_code == by_path.status_code == 200
        for html in (by_query.get_data(as_text=True), by_path.get_data(as_text=True)):
            assert "Spreekuur geldzaken" in html and "Inloop DigiD" not in html, filtered


def test_an_organisation_address_follows_its_name(client, region):
    """The number decides; a missing or old name moves (301) to the current address."""
    kwadraad = region["kwadraad"]
    current = f"/spreekuren/organisatie/{kwadraad.id}-kwadraad-co"
    for start, target in (
        (f"/spreekuren/organisatie/{kwadraad.id}", current),
        (f"/spreekuren/organisatie/{kwadraad.id}-old-name", current),
        (f"/ingebed/spreekuren/organisatie/{kwadraad.id}-old-name", f"/ingebed{current}"),
    ):
        response = client.get(start)
        assert response.status_code == 301, start
        assert response.headers["Location"] == target, start


def test_unknown_places_topics_and_organisations_are_not_found(client, region):
    for path in (
        "/spreekuren/plaats/atlantis",
        "/spreekuren/onderwerp/nothing",
        "/spreekuren/organisatie/999999",
        "/spreekuren/organisatie/kwadraad",
        "/spreekuren/organisatie/99999999999999999999",
        "/ingebed/spreekuren/plaats/atlantis",
    ):
        assert client.get(path).status_code == 404, path


def test_the_embedded_list_has_no_header_or_footer_and_its_links_open_a_new_tab(client, region):
    """The embedded list shows the hours, no site header, footer, form or script, and every
    link opens the full site in a new tab and says so."""
    response = client.get("/ingebed/spreekuren/plaats/maarssen", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Help sessions in Maarssen</h1>" in html
    assert "Spreekuur geldzaken" in html
    for absent in ("site-header", "site-footer", "<script", "<form", "Staff login"):
        assert absent not in html, absent
    links = re.findall(r"<a\b[^>]*>.*?</a>", html, flags=re.S)
    series_id = region["money_hours"].id
    assert any(f'href="/spreekuren/{series_id}"' in link for link in links)
    assert any('href="/spreekuren/plaats/maarssen"' in link for link in links)
    for link in links:
        assert 'target="_blank"' in link and 'rel="noopener"' in link, link
        assert "(opens in a new tab)" in link, link


def test_only_listed_websites_may_frame_the_embedded_lists(client, region):
    """Without listed websites an embedded list refuses frames too; with them, its policy
    names exactly those origins and it sends no X-Frame-Options. Every other page, also the
    same list at its own address, refuses frames."""
    kwadraad = region["kwadraad"]
    embedded = [
        "/ingebed/spreekuren",
        "/ingebed/spreekuren/plaats/maarssen",
        "/ingebed/spreekuren/onderwerp/geldzaken",
        f"/ingebed/spreekuren/organisatie/{kwadraad.id}-kwadraad-co",
    ]
    for path in embedded:
        response = client.get(path)
        assert directives(response)["frame-ancestors"] == "'none'", path

    embeds.add_origin("https://www.stichtsevecht.nl", "Gemeente")
    embeds.add_origin("http://localhost:8123")
    db.session.commit()
    for path in embedded:
        response = client.get(path)
        assert response.status_code == 200
        policy = directives(response)
        assert policy["frame-ancestors"] == "http://localhost:8123 https://www.stichtsevecht.nl"
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
        assert "X-Frame-Options" not in response.headers

    series_id = region["money_hours"].id
    for path in (
        "/",
        "/spreekuren",
        "/spreekuren/plaats/maarssen",
        "/spreekuren/onderwerp/geldzaken",
        f"/spreekuren/{series_id}",
        "/privacy",
        "/auth/login",
        "/api/v1/hours",
        "/ingebed/spreekuren/plaats/atlantis",
    ):
        response = client.get(path)
        assert directives(response)["frame-ancestors"] == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://www.stichtsevecht.nl", "https://www.stichtsevecht.nl"),
        ("  HTTPS://WWW.Example.NL/ ", "https://www.example.nl"),
        ("https://example.nl:443", "https://example.nl"),
        ("https://example.nl:8443", "https://example.nl:8443"),
        ("https://bücherei.example", "https://xn--bcherei-n2a.example"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
    ],
)
def test_origins_are_written_as_browsers_send_them(app, typed, origin):
    assert normalise_origin(typed) == origin


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "www.example.nl",
        "http://www.example.nl",
        "https://www.example.nl/pagina",
        "https://example.nl?x=1",
        "https://user@example.nl",
        "https://*.example.nl",
        "https://example.nl; script-src *",
        "https://exa mple.nl",
        "ftp://example.nl",
        "https://example.nl:99999",
        "https://-bad-.nl",
        "'self'",
        "https://[::1]",
    ],
)
def test_anything_but_an_origin_is_refused(app, typed):
    with pytest.raises(DomainError):
        normalise_origin(typed)


@pytest.fixture
def coordinator(client, make_user, make_org, login):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    user = make_user(Role.COORDINATOR, make_org(kind=OrganisationKind.LIBRARY))
    login(user)
    return user


def test_the_coordinator_lists_websites_and_copies_the_embed_code(client, coordinator, region):
    """The coordinator adds a website (written as browsers send it), is told what is wrong
    with an address that is not one, sees an <iframe> with a title for every list, and
    removes a website again."""
    page = client.get("/admin/embeds")
    assert page.status_code == 200
    assert "No website may show the lists yet." in page.get_data(as_text=True)

    response = client.post("/admin/embeds", data={"origin": "HTTPS://Gemeente.example/"})
    assert response.status_code == 303
    wrong = client.post("/admin/embeds", data={"origin": "http://gemeente.example"})
    assert wrong.status_code == 422
    assert "The address must start with https://" in wrong.get_data(as_text=True)
    twice = client.post("/admin/embeds", data={"origin": "https://gemeente.example"})
    assert twice.status_code == 422
    assert "https://gemeente.example is already on the list." in twice.get_data(as_text=True)
    assert db.session.scalars(sa.select(EmbedOrigin.origin)).all() == ["https://gemeente.example"]

    html = client.get("/admin/embeds").get_data(as_text=True)
    kwadraad = region["kwadraad"]
    for path, title in (
        ("/ingebed/spreekuren", "All help sessions"),
        ("/ingebed/spreekuren/plaats/maarssen", "Help sessions in Maarssen"),
        ("/ingebed/spreekuren/onderwerp/geldzaken", "Help with Money matters"),
        (
            f"/ingebed/spreekuren/organisatie/{kwadraad.id}-kwadraad-co",
            "Help sessions of Kwadraad &amp;amp; Co",
        ),
    ):
        code = (
            f"&lt;iframe src=&#34;http://localhost{path}&#34; title=&#34;{title}&#34; "
            f"width=&#34;100%&#34; height=&#34;600&#34; loading=&#34;lazy&#34;&gt;"
            f"&lt;/iframe&gt;"
        )
        assert code in html, path

    item = db.session.scalar(sa.select(EmbedOrigin))
    removed = client.post(f"/admin/embeds/{item.id}/remove")
    assert removed.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmbedOrigin)) == 0
    assert directives(client.get("/ingebed/spreekuren"))["frame-ancestors"] == "'none'"


def test_only_the_coordinator_manages_the_websites(client, make_user, make_org, login):
    admin = make_user(Role.ORG_ADMIN, make_org())
    login(admin)
    assert client.get("/admin/embeds").status_code == 403
    assert client.post("/admin/embeds", data={"origin": "https://x.example"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmbedOrigin)) == 0


def test_any_public_list_opts_in_with_one_line(database_url):
    """A list of another blueprint under a prefix of its own (as the course list is) becomes
    embeddable by one decorator in place of its route: its page stays, its embedded variant
    is under /ingebed with the prefix, and the coordinator's page offers its code."""
    from flask import Blueprint

    from app.admin.embeds import _codes
    from app.web import embed
    from app.web.embed import embeddable
    from app.web.htmx import render
    from tests.conftest import app_in_context

    example = Blueprint("list_example", __name__, url_prefix="/voorbeeld")

    @embeddable(example, "/lijst", block="content", label=lambda: "Example list")
    def listing():
        return render("public/privacy.html")

    try:
        with app_in_context(database_url) as app:
            app.register_blueprint(example)
            client = app.test_client()
            assert "site-header" in client.get("/voorbeeld/lijst").get_data(as_text=True)
            embedded = client.get("/ingebed/voorbeeld/lijst", headers={"Accept-Language": "en"})
            html = embedded.get_data(as_text=True)
            assert embedded.status_code == 200
            assert "site-header" not in html and "(opens in a new tab)" in html
            assert directives(embedded)["frame-ancestors"] == "'none'"
            with app.test_request_context():
                codes = {code.title: code.url for code in _codes()}
            assert codes["Example list"] == "http://localhost/ingebed/voorbeeld/lijst"
    finally:
        embed.LISTS.pop("list_example.listing")


def test_the_course_list_is_embeddable_too(client, coordinator, region):
    """The public course list has its embedded variant: the courses with their places, links
    to the course pages opening in a new tab, and its code on the coordinator's page."""
    from datetime import time as wall

    from app.services import courses
    from app.services.courses import CourseData

    course = courses.create_course(
        region["library"],
        CourseData(
            title="Klik & Tik",
            location=region["money_hours"].location,
            capacity=6,
            first_date=clock.today() + timedelta(days=3),
            start_time=wall(10, 0),
            end_time=wall(12, 0),
        ),
        None,
    )
    db.session.commit()
    embeds.add_origin("https://www.stichtsevecht.nl")
    embedded = client.get("/ingebed/cursussen")
    html = embedded.get_data(as_text=True)
    assert embedded.status_code == 200
    assert directives(embedded)["frame-ancestors"] == "https://www.stichtsevecht.nl"
    assert "<h1>Courses</h1>" in html and "6 places left" in html
    assert "site-header" not in html and "<form" not in html
    link = re.search(rf'<a [^>]*href="/cursussen/{course.id}-klik-tik"[^>]*>', html).group(0)
    assert 'target="_blank"' in link and 'rel="noopener"' in link
    assert directives(client.get("/cursussen"))["frame-ancestors"] == "'none'"
    admin = client.get("/admin/embeds").get_data(as_text=True)
    assert "src=&#34;http://localhost/ingebed/cursussen&#34; title=&#34;All courses&#34;" in admin


def test_the_same_website_added_at_once_is_listed_once(app, live_server, make_user, make_org):
    """Coordinators adding the same website at the same moment: one is told it is added,
    the others that it is already on the list; the database holds it once."""
    import http.cookiejar
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.conftest import PASSWORD

    attempts = 8
    coordinators = [
        make_user(Role.COORDINATOR, make_org(kind=OrganisationKind.LIBRARY))
        for _ in range(attempts)
    ]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    openers = []
    for user in coordinators:
        opener = urllib.request.build_opener(
            NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        login = urllib.parse.urlencode({"email": user.email, "password": PASSWORD}).encode()
        try:
            opener.open(f"{live_server.url}/auth/login", data=login, timeout=60)
        except urllib.error.HTTPError as error:
            assert error.code == 303
        openers.append(opener)

    barrier = threading.Barrier(attempts)
    results: list[int] = []
    lock = threading.Lock()

    def add(opener) -> None:
        data = urllib.parse.urlencode({"origin": "https://www.stichtsevecht.nl"}).encode()
        request = urllib.request.Request(
            f"{live_server.url}/admin/embeds", data=data, headers={"Accept-Language": "en"}
        )
        barrier.wait()
        try:
            with opener.open(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            if status == 422:
                assert "is already on the list" in error.read().decode()
        with lock:
            results.append(status)

    threads = [threading.Thread(target=add, args=(opener,)) for opener in openers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [303] + [422] * (attempts - 1)
    db.session.rollback()
    assert db.session.scalars(sa.select(EmbedOrigin.origin)).all() == [
        "https://www.stichtsevecht.nl"
    ]
