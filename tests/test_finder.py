"""Finding help on a network of any size: the hours list in pages that go on after their last
session, the start page that asks where first on a large network, the filters' choices and
the alternatives to a fully booked series, all read from the occurrence index."""

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Booking, ExceptionKind, SeriesStatus
from app.services import booking as booking_service
from app.services import finder
from app.services import series as series_service
from app.services.booking import ResidentDetails
from app.services.schedule import occurrences

EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def topic(make_topic):
    return make_topic(slug="geldzaken", name_en="Money matters")


@pytest.fixture
def town(make_location, make_org):
    """Three towns, each with a library location."""

    def make(city: str):
        return make_location(city=city, name=f"Bibliotheek {city}")

    return make


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _listed(html: str) -> list[tuple[str, str]]:
    """(day heading, series title) of every card on a page of the list, in order."""
    found = []
    for day, cards in re.findall(
        r'<h3 id="day-([\d-]+)">.*?</h3>\s*<ul class="occurrence-list">(.*?)</ul>', html, re.S
    ):
        for title in re.findall(r'class="occ-link"[^>]*>([^<]+)</a>', cards):
            found.append((day, title))
    return found


def _later_link(html: str) -> str | None:
    match = re.search(r'<a class="button primary" href="([^"]+)">Later help sessions', html)
    return match.group(1).replace("&amp;", "&") if match else None


def _all_pages(client, url: str) -> tuple[list[tuple[str, str]], int]:
    seen, pages = [], 0
    while url:
        html = _html(client.get(url))
        seen += _listed(html)
        pages += 1
        url = _later_link(html)
        assert pages < 20
    return seen, pages


def _expected(series_list) -> list[tuple[str, str]]:
    """What the schedule says the list shows: held, not ended, in the coming four weeks."""
    today = clock.today()
    now = clock.now()
    held = occurrences(series_list, today, today + timedelta(weeks=4) - timedelta(days=1))
    return [(o.date.isoformat(), o.series.title) for o in held if o.end > now]


def test_the_list_goes_on_after_its_last_session_and_shows_each_once(
    app, en, make_series, town, topic
):
    """Three series every day for four weeks: pages of 25 with a 'later' link that carries
    the filter, together exactly the schedule's sessions in order, none twice."""
    app.config["LIST_PAGE_SIZE"] = 25
    maarssen = town("Maarssen")
    made = [
        make_series(
            title=f"Spreekuur {n}",
            location=maarssen,
            weekdays=EVERY_DAY,
            start_date=clock.today() - timedelta(days=3),
            start_time=time(9 + n, 0),
            end_time=time(10 + n, 0),
            topics=[topic],
        )
        for n in range(3)
    ]
    # A cancelled date and a changed one: the list follows the schedule in both.
    series_service.add_exception(
        made[1],
        day=clock.today() + timedelta(days=5),
        kind=ExceptionKind.CANCELLED,
        reason="Studiedag",
    )
    series_service.add_exception(
        made[2],
        day=clock.today() + timedelta(days=6),
        kind=ExceptionKind.CHANGED,
        start_time=time(8, 0),
        end_time=time(8, 30),
        reason="Vroeger",
    )

    first = _html(en.get("/spreekuren?onderwerp=geldzaken"))
    assert len(_listed(first)) == 25
    assert "25 help sessions shown. Later sessions are on the next page." in first
    later = _later_link(first)
    assert later is not None and "onderwerp=geldzaken" in later and "na=" in later

    seen, pages = _all_pages(en, "/spreekuren?onderwerp=geldzaken")
    assert seen == _expected(made)
    assert len(set(seen)) == len(seen)
    assert pages == -(-len(seen) // 25)
    last_html = _html(en.get(later))
    assert "Back to the first help sessions" in last_html


def test_a_cursor_that_is_not_one_shows_the_first_page(en, make_series, town):
    make_series(location=town("Maarssen"), weekdays=EVERY_DAY, start_date=clock.today())
    first = _listed(_html(en.get("/spreekuren")))
    for bad in ("nonsense", "2026-13-01T10:00Z.1", "2026-12-01T10:00Z.x", "9" * 40):
        assert _listed(_html(en.get(f"/spreekuren?na={bad}"))) == first


def test_free_times_on_the_list_come_from_the_index(en, make_series, town):
    """A booking takes one of the two free times shown for tomorrow at once."""
    series = make_series(
        title="Hulp bij geldzaken",
        location=town("Maarssen"),
        weekdays=EVERY_DAY,
        start_date=clock.today(),
        start_time=time(14, 0),
        end_time=time(15, 0),
    )
    tomorrow = clock.today() + timedelta(days=1)

    def tomorrows_card():
        html = _html(en.get("/spreekuren"))
        day = re.search(rf'id="day-{tomorrow.isoformat()}".*?</ul>', html, re.S).group(0)
        return day

    assert "2 free appointment times" in tomorrows_card()
    slot = booking_service.available_slots([series], tomorrow, tomorrow)[0].slot
    booking_service.book(series, slot.start, ResidentDetails(name="Fatma", language="nl"))
    db.session.commit()
    assert "1 free appointment time" in tomorrows_card()


def test_a_page_costs_what_it_shows(app, en, make_series, town, make_org):
    """The list and the start page ask the database the same number of questions for 3
    series as for 30: nothing is loaded per session or per series while rendering."""
    from sqlalchemy import event

    def statements(path: str) -> int:
        count = 0

        def counted(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counted)
        try:
            _html(en.get(path))
        finally:
            event.remove(db.engine, "before_cursor_execute", counted)
        return count

    maarssen = town("Maarssen")

    def add(n: int):
        for _i in range(n):
            make_series(
                title="Spreekuur",
                provider=make_org(),
                location=maarssen,
                weekdays=EVERY_DAY,
                start_date=clock.today(),
            )

    add(3)
    small = {path: statements(path) for path in ("/", "/spreekuren", "/spreekuren?plaats=Maarssen")}
    add(27)
    large = {path: statements(path) for path in small}
    assert large == small


def test_the_start_page_asks_where_first_on_a_large_network(app, en, make_series, town):
    app.config["PLACES_AS_BUTTONS"] = 2
    for city in ("Maarssen", "Breukelen", "Maarn"):
        make_series(
            title=f"Spreekuur {city}",
            location=town(city),
            weekdays=EVERY_DAY,
            start_date=clock.today(),
            start_time=time(20, 0),
            end_time=time(21, 0),
        )
    html = _html(en.get("/"))
    assert "Where do you want help?" in html
    assert '<input id="plaats" name="plaats" type="text"' in html
    assert "Help in the coming days" not in html
    assert "Spreekuur Maarssen" not in html  # no sessions before a place is chosen
    assert 'href="/plaatsen"' in html

    # Typed in any case, with spaces: the coming days there, and the topics keep the place.
    there = _html(en.get("/?plaats=+maarssen+"))
    assert "Help in the coming days in Maarssen" in there
    assert "Spreekuur Maarssen" in there and "Spreekuur Breukelen" not in there
    assert 'value="Maarssen"' in there
    assert "/spreekuren?plaats=Maarssen" in there

    # The beginning of a name: the places it may mean; nothing known: say so.
    maybe = _html(en.get("/?plaats=Maar"))
    assert "Which place do you mean?" in maybe
    assert 'href="/?plaats=Maarn"' in maybe and 'href="/?plaats=Maarssen"' in maybe
    assert "Breukelen" not in maybe
    unknown = _html(en.get("/?plaats=Atlantis"))
    assert "We do not know a town called “Atlantis” with help sessions." in unknown

    # As you type (htmx): the matching places only.
    typed = _html(en.get("/plaatsen/suggesties?plaats=bre", headers={"HX-Request": "true"}))
    assert 'href="/?plaats=Breukelen"' in typed and "<html" not in typed
    # Opened as a page (no htmx): the start page with what was typed.
    opened = en.get("/plaatsen/suggesties?plaats=bre")
    assert opened.status_code == 302 and opened.headers["Location"] == "/?plaats=bre"

    # Or chosen from the index by letter.
    index = _html(en.get("/plaatsen"))
    assert 'href="/plaatsen?letter=B"' in index and 'href="/plaatsen?letter=M"' in index
    m = _html(en.get("/plaatsen?letter=M"))
    assert 'href="/?plaats=Maarn"' in m and 'href="/?plaats=Maarssen"' in m
    assert "Breukelen" not in m.split("<h2>", 1)[1]


def test_a_small_network_shows_places_as_buttons_and_the_coming_days(en, make_series, town):
    make_series(
        title="Spreekuur Maarssen",
        location=town("Maarssen"),
        weekdays=EVERY_DAY,
        start_date=clock.today(),
        start_time=time(20, 0),
        end_time=time(21, 0),
    )
    html = _html(en.get("/"))
    assert "Where do you want help?" not in html
    assert 'href="/spreekuren?plaats=Maarssen"' in html
    assert "Help in the coming days" in html and "Spreekuur Maarssen" in html
    # A town the network does not have: the page as it is, not an empty one.
    assert "Spreekuur Maarssen" in _html(en.get("/?plaats=Atlantis"))


def test_the_list_on_a_large_network_takes_a_typed_place(app, en, make_series, town):
    app.config["PLACES_AS_BUTTONS"] = 1
    for city in ("Maarssen", "Breukelen"):
        make_series(
            title=f"Spreekuur {city}",
            location=town(city),
            weekdays=EVERY_DAY,
            start_date=clock.today(),
        )
    html = _html(en.get("/spreekuren?plaats=breukelen"))
    assert '<input id="plaats" name="plaats" type="text" value="Breukelen"' in html
    assert "<h1" in html and "Help in Breukelen" in html
    assert "Spreekuur Breukelen" in html and "Spreekuur Maarssen" not in html
    unknown = _html(en.get("/spreekuren?plaats=Atlantis"))
    assert "We do not know a town called “Atlantis” with help sessions." in unknown


def test_filter_choices_come_from_the_directory(en, make_series, town, make_org):
    """Only organisations with published hours are offered, and with a place chosen only
    those holding hours there; a draft series offers nothing."""
    maarssen, breukelen = town("Maarssen"), town("Breukelen")
    make_series(provider=make_org(name="Geldpunt"), location=maarssen)
    make_series(provider=make_org(name="Vluchtelingenwerk"), location=breukelen)
    make_series(provider=make_org(name="Conceptclub"), location=maarssen, status=SeriesStatus.DRAFT)
    everywhere = _html(en.get("/spreekuren"))
    assert ">Geldpunt</option>" in everywhere and ">Vluchtelingenwerk</option>" in everywhere
    assert "Conceptclub" not in everywhere
    in_maarssen = _html(en.get("/spreekuren?plaats=Maarssen"))
    assert ">Geldpunt</option>" in in_maarssen and "Vluchtelingenwerk</option>" not in in_maarssen
    assert finder.places() == ["Breukelen", "Maarssen"]


def test_a_fully_booked_series_offers_the_same_help_in_town_first(
    en, make_series, town, make_topic
):
    """The alternatives: the first free time of up to six other public series on a topic in
    common, those in the same town first, then the soonest elsewhere (shown by time); never
    a draft, never a series on another topic."""
    money = make_topic(slug="geldzaken", name_en="Money matters")
    other = make_topic(slug="digid", name_en="DigiD")
    maarssen, breukelen = town("Maarssen"), town("Breukelen")
    full = make_series(
        title="Vol spreekuur",
        location=maarssen,
        topics=[money],
        weekdays=EVERY_DAY,
        start_date=clock.today(),
    )
    for item in booking_service.available_slots(
        [full], clock.today(), clock.today() + timedelta(days=60)
    ):
        booking_service.book(full, item.slot.start, ResidentDetails(name="R", language="nl"))
    db.session.commit()
    # Seven elsewhere, every day; one in town, once a week: the town's is shown, and six of
    # the seven elsewhere would not all fit.
    for n in range(7):
        make_series(
            title=f"Elders {n}",
            location=breukelen,
            topics=[money],
            weekdays=EVERY_DAY,
            start_date=clock.today(),
            start_time=time(9, n * 5),
            end_time=time(10, n * 5),
        )
    make_series(
        title="In de stad later",
        location=maarssen,
        topics=[money],
        weekdays=str((clock.today() + timedelta(days=3)).weekday()),
        start_date=clock.today(),
        start_time=time(15, 0),
        end_time=time(16, 0),
    )
    make_series(
        title="Ander onderwerp",
        location=maarssen,
        topics=[other],
        weekdays=EVERY_DAY,
        start_date=clock.today(),
    )
    make_series(
        title="Concept",
        location=maarssen,
        topics=[money],
        status=SeriesStatus.DRAFT,
        weekdays=EVERY_DAY,
        start_date=clock.today(),
    )
    html = _html(en.get(f"/spreekuren/{full.id}"))
    part = html.split("Help with the same questions elsewhere", 1)[1].split("</main>", 1)[0]
    assert "In de stad later" in part
    elsewhere = re.findall(r"Elders \d", part)
    assert len(elsewhere) == 5 and len(set(elsewhere)) == 5
    assert "Ander onderwerp" not in part and "Concept" not in part
    assert "Vol spreekuur" not in part
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Booking).where(Booking.series_id == full.id)
        )
        > 0
    )


def test_a_towns_readable_address_finds_it_whatever_its_signs(en, make_series, town):
    for city in ("Maarssen", "Alphen aan den Rijn", "'s-Hertogenbosch", "Sint-Oedenrode", "Zoë"):
        make_series(
            title=f"Spreekuur {city}",
            location=town(city),
            weekdays=EVERY_DAY,
            start_date=clock.today(),
        )
    for slug, city in (
        ("maarssen", "Maarssen"),
        ("alphen-aan-den-rijn", "Alphen aan den Rijn"),
        ("s-hertogenbosch", "'s-Hertogenbosch"),
        ("sint-oedenrode", "Sint-Oedenrode"),
        ("zoe", "Zoë"),
    ):
        html = _html(en.get(f"/spreekuren/plaats/{slug}"))
        assert f"Spreekuur {city}".replace("'", "&#39;") in html, slug
    assert en.get("/spreekuren/plaats/atlantis").status_code == 404


def test_a_list_on_a_database_never_indexed_says_so_in_the_log(en, make_series, town, caplog):
    """After an upgrade without 'flask index-occurrences --rebuild' the lists are empty: the
    log names the command to run."""
    from app.models import IndexedOccurrence, IndexedSlot, OccurrenceIndexWindow

    make_series(location=town("Maarssen"), weekdays=EVERY_DAY, start_date=clock.today())
    for table in (IndexedSlot, IndexedOccurrence, OccurrenceIndexWindow):
        db.session.execute(sa.delete(table))
    db.session.commit()
    with caplog.at_level("ERROR"):
        html = _html(en.get("/spreekuren"))
    assert "There are no help sessions in the coming four weeks" in html
    assert "flask index-occurrences --rebuild" in caplog.text
