"""The accessibility statement and the privacy page say what is true, in every language:
the eight languages and what was built for them; each number of days in its right plural."""

import pytest

LANGUAGES = ["nl", "en", "ar", "fa", "ti", "tr", "pl", "uk"]


def _page(client, language: str, path: str) -> str:
    client.post("/taal", data={"language": language, "next": "/"})
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_accessibility_statement_names_every_language(app, client, language):
    """Each language residents can choose is listed, named in itself, in its direction."""
    page = _page(client, language, "/toegankelijkheid")
    for code, name in app.config["LANGUAGES"].items():
        direction = "rtl" if code in ("ar", "fa") else "ltr"
        assert f'<li><span lang="{code}" dir="{direction}">{name}</span></li>' in page


def test_the_accessibility_statement_says_what_was_built(client):
    """Right to left, 320 pixels, no JavaScript needed, translations awaiting review; no
    longer that only Dutch and English are there."""
    page = _page(client, "en", "/toegankelijkheid")
    assert "In Arabic and Dari the pages go from right to left." in page
    assert "a phone screen 320 pixels wide" in page
    assert "make an appointment, and change or cancel it without JavaScript" in page
    assert "A native speaker has not checked all of them yet." in page
    assert "Dutch and English" not in page
    dutch = _page(client, "nl", "/toegankelijkheid")
    assert "van rechts naar links" in dutch
    arabic = _page(client, "ar", "/toegankelijkheid")
    assert "من اليمين إلى اليسار" in arabic


# Polish and Ukrainian each have three forms: one (1; Ukrainian also 21), few (2-4, 22-24)
# and many (5-21, 25-...; Polish also 21).
PLURALS = {
    "pl": {
        1: "1 dzień po wizycie",
        3: "3 dni po wizycie",
        22: "22 dni po wizycie",
        25: "25 dni po wizycie",
    },
    "uk": {
        1: "Через 1 день після",
        21: "Через 21 день після",
        3: "Через 3 дні після",
        22: "Через 22 дні після",
        25: "Через 25 днів після",
        11: "Через 11 днів після",
    },
    "nl": {1: "1 dag na uw afspraak", 22: "22 dagen na uw afspraak"},
    "ar": {1: "بعد 1 يوم من موعدك", 3: "بعد 3 أيام من موعدك", 30: "بعد 30 يومًا من موعدك"},
}


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [(lang, days, text) for lang, forms in PLURALS.items() for days, text in forms.items()],
)
def test_the_privacy_page_counts_days_in_the_right_plural(app, client, language, days, expected):
    """The booking's retention period in the form the number asks for."""
    app.config["BOOKING_RETENTION_DAYS"] = days
    assert expected in _page(client, language, "/privacy")


@pytest.mark.parametrize("days", [2, 5])
def test_every_period_on_the_privacy_page_uses_the_plural(app, client, days):
    """Every period of days on the page: Polish 'po N dniach' and Ukrainian 'N дні' (2) or
    'N днів' (5), none left in a form for another number."""
    for name in (
        "BOOKING_RETENTION_DAYS",
        "REFERRAL_RETENTION_DAYS",
        "REFERRAL_OPEN_RETENTION_DAYS",
        "COURSE_SIGNUP_RETENTION_DAYS",
        "WAITING_LIST_RETENTION_DAYS",
    ):
        app.config[name] = days
    app.config["AUDIT_RETENTION_DAYS"] = days
    word = {2: "дні", 5: "днів"}[days]
    ukrainian = _page(client, "uk", "/privacy")
    assert ukrainian.count(f"{days} {word}") == 6
    polish = _page(client, "pl", "/privacy")
    assert polish.count(f"{days} dni ") == 4
    assert polish.lower().count(f"po {days} dniach") == 2
    assert "dzień" not in polish and "dniu" not in polish


@pytest.fixture
def course(make_org, make_location):
    from datetime import time, timedelta

    from app import clock
    from app.extensions import db
    from app.models import Device, OrganisationKind
    from app.services import courses

    library = make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Vechtdal")
    data = courses.CourseData(
        title="Digisterker",
        location=make_location(organisation=library),
        capacity=8,
        first_date=clock.today() + timedelta(days=7),
        start_time=time(10, 0),
        end_time=time(12, 0),
        sessions=4,
        description="",
        device=Device.EITHER,
    )
    made = courses.create_course(library, data, None)
    db.session.commit()
    return made


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [
        ("uk", 22, "через 22 дні."),
        ("uk", 25, "через 25 днів."),
        ("pl", 1, "po 1 dniu."),
        ("pl", 3, "po 3 dniach."),
    ],
)
def test_the_waiting_list_form_counts_days_in_the_right_plural(
    app, client, make_series, language, days, expected
):
    """What the waiting-list form says about keeping the details, for each number."""
    from tests.waiting_helpers import full_series

    series = full_series(make_series)
    app.config["WAITING_LIST_RETENTION_DAYS"] = days
    assert expected in _page(client, language, f"/spreekuren/{series.id}/wachtlijst")


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [
        ("uk", 21, "Через 21 день після"),
        ("uk", 3, "Через 3 дні після"),
        ("uk", 30, "Через 30 днів після"),
        ("pl", 1, "Usuwamy je 1 dzień po"),
        ("pl", 24, "Usuwamy je 24 dni po"),
    ],
)
def test_the_course_sign_up_form_counts_days_in_the_right_plural(
    app, client, course, language, days, expected
):
    """What the course sign-up form says about keeping the details, for each number."""
    app.config["COURSE_SIGNUP_RETENTION_DAYS"] = days
    assert expected in _page(client, language, f"/cursussen/{course.id}/aanmelden")
