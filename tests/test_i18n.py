"""Languages: Dutch by default, complete English, six more for residents with every
resident text translated, a switch that is remembered, staff screens in Dutch or English only."""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from app.config import Defaults
from app.i18n import COMPLETE_CATALOGUES, SOURCE_LANGUAGE
from app.models import Role

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
LANGUAGES = list(Defaults.LANGUAGES)
STAFF_LANGUAGES = list(Defaults.STAFF_LANGUAGES)
AWAITING_TRANSLATION = [code for code in LANGUAGES if code not in COMPLETE_CATALOGUES]


def test_dutch_is_the_default_language(client):
    """Without any preference the interface is Dutch."""
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in page


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("nl-NL", "nl"),
        ("ar, en;q=0.5", "ar"),
        ("tr-TR", "tr"),
        ("ti-ER", "ti"),
        ("de", "nl"),
    ],
)
def test_accept_language_is_respected_on_a_first_visit(client, accept, expected):
    """The browser's language is used when we support it; otherwise Dutch."""
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{expected}"' in page


def test_language_switch_is_remembered_over_accept_language(client):
    """Choosing English in the header keeps the site English, whatever the browser says."""
    response = client.post("/taal", data={"language": "en", "next": "/auth/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Staff login" in page

    client.post("/taal", data={"language": "nl", "next": "/"})
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl"' in page


def test_language_switch_never_redirects_to_another_site(client):
    """The switch only returns to pages of this site."""
    response = client.post("/taal", data={"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_unknown_language_is_ignored(client):
    """An unsupported language code changes nothing."""
    client.post("/taal", data={"language": "xx", "next": "/"})
    assert '<html lang="nl"' in client.get("/").get_data(as_text=True)


def test_every_page_offers_the_language_switch(client):
    """The switch is visible in the header, each language named in itself."""
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="en"' in page and ">English<" in page
    assert ">Nederlands<" in page


def test_residents_choose_from_eight_languages_each_named_in_itself(client):
    """Every resident-facing page offers the eight languages, each in its own script."""
    page = client.get("/spreekuren").get_data(as_text=True)
    for code, name in [
        ("nl", "Nederlands"),
        ("en", "English"),
        ("ar", "العربية"),
        ("fa", "دری / فارسی"),
        ("tr", "Türkçe"),
        ("pl", "Polski"),
        ("uk", "Українська"),
        ("ti", "ትግርኛ"),
    ]:
        assert re.search(
            rf'value="{code}" lang="{code}"[^>]*>{re.escape(name)}</button>', page, re.S
        )


@pytest.mark.parametrize(
    ("language", "direction"),
    [("ar", "rtl"), ("fa", "rtl"), ("tr", "ltr"), ("pl", "ltr"), ("uk", "ltr"), ("ti", "ltr")],
)
def test_a_chosen_language_sets_lang_and_direction_and_is_remembered(client, language, direction):
    """The choice is kept in a cookie; every resident page says its language and direction."""
    client.post("/taal", data={"language": language, "next": "/"})
    for path in ("/", "/spreekuren", "/afspraak", "/privacy", "/toegankelijkheid", "/agenda"):
        page = client.get(path).get_data(as_text=True)
        assert f'<html lang="{language}" dir="{direction}">' in page, path


def test_staff_screens_stay_dutch_or_english(client):
    """With Arabic chosen, the staff login is Dutch (or English, as the browser asks) and its
    switch offers only those two; the public pages stay Arabic."""
    client.post("/taal", data={"language": "ar", "next": "/"})
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in page
    assert ">English<" in page and "العربية" not in page
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_dates_follow_the_language(client, app):
    """Dates are written by CLDR in the page's language (Tigrinya included)."""
    from datetime import date

    from flask_babel import refresh

    from app.web.filters import format_day

    for language, weekday in (
        ("ar", "الخميس"),
        ("tr", "Perşembe"),
        ("ti", "ሓሙስ"),
        ("uk", "четвер"),
    ):
        with app.test_request_context(headers={"Cookie": f"spreekuur_lang={language}"}):
            refresh()
            assert format_day(date(2026, 12, 3)).startswith(weekday)


@pytest.mark.parametrize("language", LANGUAGES)
def test_babel_has_cldr_data_for_every_language(language):
    """Every language can be formatted by Babel (no silent fallback)."""
    assert Locale.parse(language).days["format"]["wide"][0]


def test_login_message_is_translated(client):
    """Flask-Login's message on a staff page asked without logging in is Dutch by default."""
    response = client.get("/portal/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Log in om deze pagina te openen." in page
    client.post("/taal", data={"language": "en", "next": "/"})
    page = client.get("/portal/", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to access this page." in page


def _catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


def test_message_template_is_up_to_date(tmp_path):
    """Every translatable text in the code and templates is in messages.pot."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    # The extraction itself must find the texts of code, templates and mail templates.
    assert {"Help with government websites", "Staff login", "You have an appointment."} <= extracted
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        committed = {m.id for m in read_po(fh) if m.id}
    assert extracted - committed == set(), "run: pybabel extract (see README, Translations)"


def test_every_language_is_complete_or_awaiting_translation():
    """One list says which catalogues are complete; every other language awaits translation,
    and every language has a catalogue."""
    assert set(COMPLETE_CATALOGUES) <= set(LANGUAGES)
    assert AWAITING_TRANSLATION == []
    for language in LANGUAGES:
        assert (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").exists(), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogues_cover_every_message(language):
    """Every catalogue, complete or awaiting translation, holds every message of the template."""
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    catalog = {m.id for m in _catalog(language) if m.id}
    assert template - catalog == set()


def _translated(message) -> bool:
    if message is None or message.fuzzy:
        return False
    return bool(message.string if isinstance(message.string, str) else all(message.string))


def _resident_messages() -> set:
    """The texts residents read, as ``babel-residents.cfg`` finds them."""
    with tempfile.TemporaryDirectory() as folder:
        found = Path(folder) / "residents.pot"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                "babel-residents.cfg",
                "-k",
                "_l",
                "-k",
                "lazy_gettext",
                "--no-location",
                "-o",
                str(found),
                ".",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        with found.open("rb") as fh:
            return {m.id for m in read_po(fh) if m.id}


def test_the_resident_texts_are_found():
    """The list of residents' sources finds the texts of their pages, messages and card, and
    none of the staff screens."""
    texts = _resident_messages()
    assert {"Help with government websites", "You have an appointment.", "Hello %(name)s,"} <= texts
    assert "Take the next one" not in texts


@pytest.mark.parametrize(
    "language", [code for code in COMPLETE_CATALOGUES if code != SOURCE_LANGUAGE]
)
def test_complete_catalogues_are_complete(language):
    """A complete catalogue has a translation, not marked fuzzy, for every message it is
    shown with: every message for a staff language (the source language, English, needs
    none), every resident text for a language offered to residents only."""
    catalog = _catalog(language)
    if language in STAFF_LANGUAGES:
        wanted = {m.id for m in catalog if m.id}
    else:
        wanted = _resident_messages()
    missing = sorted(str(i) for i in wanted if not _translated(catalog.get(i)))
    assert missing == []


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    """A translation has exactly the placeholders of its source text, in every form."""
    wrong = []
    for message in _catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in filter(None, strings):
            # A plural form for one may leave the number out ("one place" for %(n)s).
            have = set(PLACEHOLDER.findall(string))
            if not have <= wanted or (wanted - have) - {"n", "num", "count"}:
                wrong.append((ids[0], string))
    assert wrong == []


def test_portal_pages_are_dutch_or_english_for_a_staff_member_who_chose_arabic(
    client, make_user, login
):
    """The portal and its feed pages follow the staff languages; the residents' calendar
    page next to them follows the chosen one."""
    login(make_user(Role.STAFF))
    client.post("/taal", data={"language": "ar", "next": "/"})
    for path in ("/portal/", "/portal/feeds", "/portal/referrals/"):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="nl" dir="ltr">' in page, path
    assert '<html lang="ar" dir="rtl">' in client.get("/agenda").get_data(as_text=True)
