"""The layout for every language and for the phone, as the server writes it: styles that
mirror by themselves, times kept left to right, the staff menu that marks the current page,
the favicon, and words instead of internal codes."""

import re
from pathlib import Path

from app.models import Role

CSS = Path(__file__).resolve().parent.parent / "app" / "static" / "css"
# Physical directions: a right-to-left page would not mirror them.
PHYSICAL = re.compile(
    r"(?<![\w-])(?:margin|padding|border|inset)-(?:left|right)\b"
    r"|(?<![\w-])(?:left|right)\s*:"
    r"|(?:text-align|float|clear)\s*:\s*(?:left|right)\b"
)
# A four-value margin or padding gives left and right apart (top right bottom left).
FOUR_SIDES = re.compile(
    r"(?<![\w-])(?:margin|padding)\s*:\s*([^\s;}]+)\s+([^\s;}]+)\s+([^\s;}]+)\s+([^\s;}]+)"
)


def _without_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_styles_use_logical_properties_only():
    """No left or right in the styles: the layout mirrors by itself in Arabic and Dari."""
    found = []
    for path in sorted(CSS.glob("*.css")):
        for number, line in enumerate(_without_comments(path.read_text()).splitlines(), 1):
            if PHYSICAL.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
            for match in FOUR_SIDES.finditer(line):
                if match.group(2) != match.group(4):
                    found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


def test_the_style_check_finds_physical_properties():
    """The check above is able to fail."""
    for bad in ("a { margin-left: 1rem }", "b { left: 0; }", "c { text-align: right }"):
        assert PHYSICAL.search(bad), bad
    assert FOUR_SIDES.search("d { padding: 0 1rem 0 0; }")
    assert not PHYSICAL.search("e { margin-inline-start: 1rem; inset-inline-start: 0 }")


def test_pointing_icons_are_mirrored_in_right_to_left_pages():
    """An arrow points forward in either direction."""
    css = (CSS / "app.css").read_text()
    assert '[dir="rtl"] .icon-pointing { transform: scaleX(-1); }' in css


def test_times_and_codes_stay_left_to_right_in_arabic(client, make_series, make_location):
    """In a right-to-left page a time range is an isolated left-to-right run."""
    from datetime import time, timedelta

    from app import clock
    from app.models import SeriesStatus

    today = clock.today()
    series = make_series(
        status=SeriesStatus.PUBLISHED,
        weekdays=str((today + timedelta(days=1)).weekday()),
        start_date=today,
        start_time=time(14, 0),
        end_time=time(16, 0),
    )
    client.post("/taal", data={"language": "ar", "next": "/"})
    page = client.get("/spreekuren").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert '<bdi dir="ltr">14:00–16:00</bdi>' in page
    page = client.get(f"/spreekuren/{series.id}").get_data(as_text=True)
    assert '<bdi dir="ltr">14:00–14:30</bdi>' in page


def test_the_favicon_is_served(client):
    """Every page names the icon; the files are served, also at /favicon.ico."""
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in page
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.data.startswith(b"<svg")
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"
    with client.get("/static/apple-touch-icon.png") as png:
        assert png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_staff_menu_marks_the_current_page(client, make_user, login):
    """The page shown is marked aria-current="page" in the menu (both its wide and its
    folded form), no other page is."""
    login(make_user(Role.STAFF))
    page = client.get("/portal/locations").get_data(as_text=True)
    assert page.count('href="/portal/locations" aria-current="page"') == 2
    assert page.count('aria-current="page"') == 2
    assert '<details class="wrap staff-menu">' in page


def test_topic_icons_are_chosen_by_words(client, make_user, login):
    """The coordinator chooses a topic's icon by what it shows, not by an internal name."""
    login(make_user(Role.COORDINATOR))
    client.post("/taal", data={"language": "en", "next": "/"})
    form = client.get("/admin/topics/new").get_data(as_text=True)
    assert '<option value="id-card">Identity card</option>' in form
    assert ">id-card<" not in form and ">town-hall<" not in form
