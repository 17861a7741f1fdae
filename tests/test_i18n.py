"""Languages: Dutch by default, complete English, a switch that is remembered."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"


def test_dutch_is_the_default_language(client):
    """Without any preference the interface is Dutch."""
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in page


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-GB,en;q=0.9", "en"), ("nl-NL", "nl"), ("ar, en;q=0.5", "en"), ("de", "nl")],
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


@pytest.mark.parametrize("language", ["nl", "en"])
def test_catalogues_cover_every_message(language):
    """Both catalogues hold every message of the template."""
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    catalog = {m.id for m in _catalog(language) if m.id}
    assert template - catalog == set()


def test_dutch_catalogue_is_complete():
    """Every message has a Dutch translation that is not marked fuzzy."""
    missing = [
        m.id
        for m in _catalog("nl")
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]
    assert missing == []
