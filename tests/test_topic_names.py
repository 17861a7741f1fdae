"""A topic has a name in every language residents can choose: residents read it in their own
language (English where it has none in theirs, Dutch where it has no English name either),
the coordinator fills the names in, and the migration carries the English names over."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import clock, dispose_engines
from app.extensions import db
from app.models import Role, SeriesStatus, Topic, TopicName

NAMES = {
    "nl": "Toeslagen",
    "en": "Toeslagen (benefits)",
    "ar": "الإعانات (Toeslagen)",
    "tr": "Yardım ödemeleri (Toeslagen)",
}


@pytest.fixture
def benefits(make_topic, make_series):
    """A topic named in Dutch, English, Arabic and Turkish, with a session tomorrow."""
    topic = make_topic(slug="toeslagen", name_nl=NAMES["nl"], name_en=NAMES["en"])
    topic.set_name("ar", NAMES["ar"])
    topic.set_name("tr", NAMES["tr"])
    db.session.commit()
    tomorrow = clock.today() + timedelta(days=1)
    make_series(
        status=SeriesStatus.PUBLISHED,
        weekdays=str(tomorrow.weekday()),
        start_date=clock.today(),
        topics=[topic],
    )
    return topic


def _page(client, language: str, path: str) -> str:
    client.post("/taal", data={"language": language, "next": "/"})
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["ar", "tr"])
def test_residents_read_the_topic_in_their_language(client, benefits, language):
    """The start page's topic buttons, the list's topic filter and the heading of the list
    of one topic name it in the page's language, not in English or Dutch."""
    name = NAMES[language]
    home = _page(client, language, "/")
    assert f"<span>{name}</span>" in home
    assert NAMES["en"] not in home

    listed = _page(client, language, "/spreekuren?onderwerp=toeslagen")
    assert f">{name}</option>" in listed
    assert NAMES["en"] not in listed
    heading = {"ar": f"مساعدة في {name}", "tr": f"{name} konusunda yardım"}[language]
    assert heading in listed

    own_address = _page(client, language, "/spreekuren/onderwerp/toeslagen")
    assert heading in own_address


def test_a_language_without_a_name_shows_english_then_dutch(client, benefits, make_topic):
    """Polish has no name of its own: English. A topic with only a Dutch name: Dutch."""
    make_topic(slug="taal", name_nl="Nederlandse taal", name_en=None)
    home = _page(client, "pl", "/")
    assert f"<span>{NAMES['en']}</span>" in home
    assert "<span>Nederlandse taal</span>" in home
    dutch = _page(client, "nl", "/")
    assert f"<span>{NAMES['nl']}</span>" in dutch
    assert NAMES["en"] not in dutch


def test_the_name_for_a_language_code(benefits):
    """Region and Dari codes find their language's name; an unknown language gets English."""
    assert benefits.name("ar_SA") == NAMES["ar"]
    assert benefits.name("tr-TR") == NAMES["tr"]
    assert benefits.name("uk") == NAMES["en"]
    assert benefits.name("nl") == NAMES["nl"]
    assert benefits.name() == NAMES["nl"]
    benefits.set_name("fa", "کمک‌های مالی (Toeslagen)")
    assert benefits.name("prs") == "کمک‌های مالی (Toeslagen)"


def test_the_coordinator_names_a_topic_in_each_language(client, make_org, make_user, login):
    """The form has a field per language, labelled in that language; only Dutch is needed.
    Saved names are shown to residents; a name emptied again is removed."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_user(Role.COORDINATOR, make_org()))
    form = client.get("/admin/topics/new").get_data(as_text=True)
    assert '<span lang="ar" dir="rtl">العربية</span> (optional)' in form
    assert '<span lang="ti" dir="ltr">ትግርኛ</span> (optional)' in form
    assert '<span lang="nl" dir="ltr">Nederlands</span></label>' in form

    fields = {"slug": "toeslagen", "icon": "benefits", "sort_order": "10", "active": "y"}
    fields["public"] = "y"
    refused = client.post("/admin/topics/new", data={**fields, "name_ar": NAMES["ar"]})
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 0

    names = {f"name_{code}": name for code, name in NAMES.items()}
    response = client.post("/admin/topics/new", data={**fields, **names})
    assert response.status_code == 303
    topic = db.session.scalar(sa.select(Topic))
    assert {code: topic.own_name(code) for code in NAMES} == NAMES
    assert topic.own_name("pl") is None

    edit = client.get(f"/admin/topics/{topic.id}/edit").get_data(as_text=True)
    assert f'value="{NAMES["tr"]}"' in edit
    listing = client.get("/admin/topics").get_data(as_text=True)
    arabic, turkish = (
        '<span lang="ar" dir="rtl">العربية</span>',
        '<span lang="tr" dir="ltr">Türkçe</span>',
    )
    assert f"{arabic}, {turkish}" in listing

    changed = {**names, "name_tr": "", "name_uk": "Допомоги (Toeslagen)"}
    response = client.post(f"/admin/topics/{topic.id}/edit", data={**fields, **changed})
    assert response.status_code == 303
    db.session.expire_all()
    assert topic.own_name("tr") is None
    assert topic.own_name("uk") == "Допомоги (Toeslagen)"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(TopicName).where(TopicName.language == "tr")
        )
        == 0
    )
    assert _page(client, "uk", "/").count("<span>Допомоги (Toeslagen)</span>") == 1


def test_the_default_topics_are_named_in_every_language(app):
    """The standard topics get a name in each of the eight languages; the field's words stay;
    a name staff gave is kept when the defaults are added again."""
    from app.demo import ensure_default_topics

    topics = {t.slug: t for t in ensure_default_topics()}
    languages = app.config["LANGUAGES"]
    for topic in topics.values():
        assert all(topic.own_name(code) for code in languages), topic.slug
    assert topics["uwv"].name("ar") == "العمل والإعانات (UWV)"
    assert topics["toeslagen"].name("ti").endswith("(Toeslagen)")
    assert topics["digid"].name("uk") == "DigiD"

    topics["geldzaken"].set_name("pl", "Pieniądze")
    topics["geldzaken"].set_name("tr", "")
    db.session.commit()
    topics = {t.slug: t for t in ensure_default_topics()}
    assert topics["geldzaken"].name("pl") == "Pieniądze"
    assert topics["geldzaken"].name("tr") == "Para işleri"


def test_the_migration_carries_the_english_names_over_and_back(app):
    """Upgrading moves the English name into the names table; downgrading puts it back in
    the topic row (the Dutch name where there is no English one)."""
    db.session.remove()
    try:
        downgrade(revision="0016")
        dispose_engines()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO topic (id, slug, name_nl, name_en, icon, sort_order, active, "
                    "public) VALUES (1, 'uwv', 'UWV', 'UWV (work and benefits)', 'work', 10, "
                    ":yes, :yes), (2, 'taal', 'Nederlandse taal', 'Dutch language', 'help', "
                    "20, :yes, :yes)"
                ),
                {"yes": True},
            )
        upgrade(revision="0017")
        dispose_engines()
        with db.engine.begin() as conn:
            rows = conn.execute(
                sa.text("SELECT topic_id, language, name FROM topic_name ORDER BY topic_id")
            ).all()
            assert [tuple(row) for row in rows] == [
                (1, "en", "UWV (work and benefits)"),
                (2, "en", "Dutch language"),
            ]
            conn.execute(sa.text("DELETE FROM topic_name WHERE topic_id = 2"))
            conn.execute(
                sa.text("INSERT INTO topic_name (topic_id, language, name) VALUES (1, 'ar', 'x')")
            )
        downgrade(revision="0016")
        dispose_engines()
        with db.engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT id, name_en FROM topic ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [
                (1, "UWV (work and benefits)"),
                (2, "Nederlandse taal"),
            ]
            assert "topic_name" not in sa.inspect(conn).get_table_names()
            conn.execute(sa.text("DELETE FROM topic"))
    finally:
        db.session.remove()
        upgrade()
        dispose_engines()


def test_the_topic_calendar_is_named_in_its_language(client, benefits):
    """A public topic calendar's name uses the topic's name in the calendar's language (in
    English where it has none of its own); the /agenda page lists it in the page's language."""
    from icalendar import Calendar

    def name(query: str) -> str:
        response = client.get(f"/agenda/onderwerp/toeslagen.ics{query}")
        assert response.status_code == 200
        return str(Calendar.from_ical(response.data)["X-WR-CALNAME"])

    assert NAMES["ar"] in name("?taal=ar")
    assert NAMES["tr"] in name("?taal=tr")
    assert NAMES["en"] in name("?taal=pl")
    assert name("").endswith(NAMES["nl"])
    assert f"<h3>{NAMES['tr']}</h3>" in _page(client, "tr", "/agenda")


def test_the_api_gives_every_name(client, benefits):
    """/api/v1/topics: the Dutch and English names as before, and a name for every language
    (the fallback where a language has none of its own)."""
    (topic,) = client.get("/api/v1/topics").get_json()["items"]
    assert topic["name_nl"] == NAMES["nl"] and topic["name_en"] == NAMES["en"]
    assert topic["names"] == {
        "nl": NAMES["nl"],
        "en": NAMES["en"],
        "ar": NAMES["ar"],
        "fa": NAMES["en"],
        "ti": NAMES["en"],
        "tr": NAMES["tr"],
        "pl": NAMES["en"],
        "uk": NAMES["en"],
    }


def test_the_topic_form_answers_htmx_with_the_form_alone(client, make_org, make_user, login):
    """A refused save through htmx gets the form again (with every language's field), not
    the whole page."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(make_user(Role.COORDINATOR, make_org()))
    response = client.post(
        "/admin/topics/new",
        data={"slug": "toeslagen", "icon": "benefits", "sort_order": "10", "name_uk": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<form method="post"')
    assert 'name="name_uk"' in fragment and 'value="x"' in fragment
    assert "<html" not in fragment
