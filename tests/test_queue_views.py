"""The queue and the registration form as staff see them: full pages and htmx fragments,
Post/Redirect/Get, invalid forms with 422, and who sees which visitor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Channel,
    Duration,
    HowHelped,
    OrganisationKind,
    OutsideBody,
    RegisteredQuestion,
    Registration,
    Role,
    Visit,
    VisitStatus,
)
from app.services import retention, visits
from tests.desk_helpers import walk_in_hours

HX = {"HX-Request": "true"}


def checked(page: str, name: str, value) -> bool:
    """Whether the page's radio button ``name`` = ``value`` is chosen."""
    return re.search(rf'<input checked[^>]*name="{name}"[^>]*value="{value}"', page) is not None


@pytest.fixture
def scene(client, make_series, make_org, make_location, make_user, make_topic):
    """A library's walk-in hours at its own branch, a volunteer of the library, a partner
    holding walk-in hours there too, and an unrelated organisation. The browser asks for
    English, the source language of the texts checked here."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    library = make_org(name="Bibliotheek Vecht", kind=OrganisationKind.LIBRARY)
    branch = make_location(organisation=library, name="Vestiging Maarssen")
    hours = walk_in_hours(make_series, make_org, make_location, provider=library, location=branch)
    partner = make_org(name="Geldpunt")
    guest = walk_in_hours(
        make_series, make_org, make_location, provider=partner, location=branch, title="Geld"
    )

    class Scene:
        pass

    s = Scene()
    s.library, s.branch, s.hours, s.partner, s.guest = library, branch, hours, partner, guest
    s.topic = make_topic(name_en="Toeslagen", name_nl="Toeslagen")
    s.volunteer = make_user(Role.VOLUNTEER, organisation=library)
    s.partner_staff = make_user(Role.STAFF, organisation=partner)
    s.unrelated = make_user(Role.STAFF, organisation=make_org(name="Taalhuis"))
    return s


def _queue(scene) -> str:
    return f"/portal/queue/{scene.branch.id}"


def test_someone_came_in_with_one_tap_and_waits_with_a_number(client, login, scene):
    """The queue page offers one's own hours first; "someone came in" with nothing filled in
    adds number 1 (303 back to the queue), shown with how long they wait."""
    login(scene.volunteer)
    page = client.get(_queue(scene)).get_data(as_text=True)
    assert "Someone came in" in page and "Nobody is waiting." in page

    response = client.post(f"{_queue(scene)}/visits", data={"series": scene.hours.id})
    assert response.status_code == 303 and response.headers["Location"] == _queue(scene)
    page = client.get(_queue(scene)).get_data(as_text=True)
    assert "Number 1 is waiting." in page and "Waiting 0 min" in page
    visit = db.session.scalars(sa.select(Visit)).one()
    assert (visit.number, visit.initials, visit.organisation_id) == (1, "", scene.library.id)


def test_queue_fragment_for_htmx_polling(client, login, scene):
    """With HX-Request the queue answers only its lists (polled every 20 s); without, the
    whole page; both vary on HX-Request."""
    visits.add_walk_in(scene.hours, initials="JV")
    login(scene.volunteer)

    fragment = client.get(_queue(scene), headers=HX)
    page = client.get(_queue(scene))

    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="queue-lists"') and "<html" not in body
    assert 'hx-trigger="every 20s"' in body and "JV" in body
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_initials_longer_than_eight_characters_are_refused(client, login, scene):
    """An invalid walk-in form is shown again with 422 and adds nobody."""
    login(scene.volunteer)
    response = client.post(
        f"{_queue(scene)}/visits", data={"series": scene.hours.id, "initials": "ABCDEFGHIJ"}
    )
    assert response.status_code == 422
    assert "Use at most 8 characters." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Visit)).all() == []


def test_take_next_finish_and_register_in_three_choices(client, login, scene):
    """Take next, finish: the registration form comes with the arrival topic, the channel
    and the measured duration chosen; choosing how helped and saving registers the contact,
    which leaves the still-to-register list."""
    visits.add_walk_in(scene.hours, topic=scene.topic)
    login(scene.volunteer)

    assert client.post(f"{_queue(scene)}/next").status_code == 303
    visit = db.session.scalars(sa.select(Visit)).one()
    assert visit.status is VisitStatus.BEING_HELPED and visit.helped_by_id == scene.volunteer.id
    response = client.post(f"/portal/visits/{visit.id}/finish")
    assert response.status_code == 303
    form_url = response.headers["Location"]
    assert form_url == f"/portal/registrations/new?visit={visit.id}"

    page = client.get(form_url).get_data(as_text=True)
    assert checked(page, "questions-0-topic", scene.topic.id)
    assert checked(page, "channel", "desk") and checked(page, "duration", "under_10")
    assert "Still to register" in page  # the menu says one is waiting to be registered

    response = client.post(
        form_url,
        data={
            "channel": "desk",
            "duration": "under_10",
            "questions-0-topic": scene.topic.id,
            "questions-0-how_helped": "shown_how",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == _queue(scene)
    registration = db.session.scalars(sa.select(Registration)).one()
    assert (registration.visit_id, registration.channel, registration.duration) == (
        visit.id,
        Channel.DESK,
        Duration.UNDER_10,
    )
    assert registration.organisation_id == scene.library.id
    question = registration.questions[0]
    assert (question.topic_id, question.how_helped) == (scene.topic.id, HowHelped.SHOWN_HOW)
    assert (question.organisation_id, question.location_id) == (scene.library.id, scene.branch.id)
    page = client.get("/portal/registrations/to-register").get_data(as_text=True)
    assert "Everything has been registered." in page


def test_a_second_save_registers_nothing_more(client, login, scene):
    """Saving the same visit twice (or by two staff) gives one registration; the second is
    told it is registered already."""
    visit = visits.add_walk_in(scene.hours)
    db.session.commit()
    login(scene.volunteer)
    data = {
        "channel": "desk",
        "duration": "10_to_20",
        "questions-0-topic": scene.topic.id,
        "questions-0-how_helped": "information",
    }
    url = f"/portal/registrations/new?visit={visit.id}"
    assert client.post(url, data=data).status_code == 303
    second = client.post(url, data=data)
    assert second.status_code == 303
    assert second.headers["Location"] == "/portal/registrations/to-register"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_add_another_question_without_javascript_and_with_htmx(client, login, scene):
    """ "Add another question" re-renders the form with one more question, keeping what was
    chosen, without saving; with htmx the form alone comes back."""
    login(scene.volunteer)
    data = {"channel": "phone", "questions-0-topic": scene.topic.id, "add_question": "1"}

    page = client.post("/portal/registrations/new", data=data)
    fragment = client.post("/portal/registrations/new", data=data, headers=HX)

    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Question 2" in body
    assert 'name="questions-1-topic"' in body and checked(body, "channel", "phone")
    assert checked(body, "questions-0-topic", scene.topic.id)
    assert fragment.get_data(as_text=True).lstrip().startswith('<form method="post"')
    assert "Question 2" in fragment.get_data(as_text=True)
    assert db.session.scalars(sa.select(Registration)).all() == []


def test_two_questions_one_referred_to_an_outside_body(client, login, scene):
    """A contact by phone with two questions, one referred to an outside body with a course
    recommended; the channel and location are remembered for the rest of the day."""
    body = OutsideBody(name="Juridisch Loket")
    db.session.add(body)
    db.session.commit()
    login(scene.partner_staff)
    data = {
        "channel": "phone",
        "location": scene.branch.id,
        "duration": "20_to_30",
        "questions-0-topic": scene.topic.id,
        "questions-0-how_helped": "information",
        "questions-1-topic": scene.topic.id,
        "questions-1-how_helped": "referred",
        "questions-1-outside_body": body.id,
        "questions-1-course_recommended": "y",
    }

    response = client.post("/portal/registrations/new", data=data)

    assert response.status_code == 303
    registration = db.session.scalars(sa.select(Registration)).one()
    assert registration.organisation_id == scene.partner.id
    assert (registration.location_id, registration.day) == (scene.branch.id, clock.today())
    first, second = registration.questions
    assert first.outside_body_id is None and not first.course_recommended
    assert (second.how_helped, second.outside_body_id) == (HowHelped.REFERRED, body.id)
    assert second.course_recommended
    page = client.get("/portal/registrations/new").get_data(as_text=True)
    assert checked(page, "channel", "phone")
    assert f'<option selected value="{scene.branch.id}">' in page


def test_a_question_referred_to_an_organisation_is_linked_to_todays_referral(client, login, scene):
    """A referral the staff member wrote today to the organisation is linked to the question
    referred there (once); a second question referred there has no referral to link."""
    from tests.referral_helpers import write_signpost

    staff = scene.partner_staff
    older = write_signpost(staff, scene.library, scene.topic)
    older.created_at = older.created_at - timedelta(days=1)
    db.session.commit()
    written = write_signpost(staff, scene.library, scene.topic)
    login(staff)
    referred = {"how_helped": "referred", "referred_organisation": scene.library.id}
    data = {"channel": "phone", "location": scene.branch.id, "duration": "under_10"}
    for index in (0, 1):
        data[f"questions-{index}-topic"] = scene.topic.id
        data.update({f"questions-{index}-{key}": value for key, value in referred.items()})

    assert client.post("/portal/registrations/new", data=data).status_code == 303

    first, second = db.session.scalars(sa.select(Registration)).one().questions
    assert first.referral_id == written.id
    assert second.referral_id is None
    assert second.referred_organisation_id == scene.library.id


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"questions-0-how_helped": "referred"}, "Choose where the resident was referred to."),
        ({"questions-0-how_helped": ""}, "Choose how the resident was helped."),
    ],
)
def test_an_incomplete_registration_is_shown_again(client, login, scene, extra, message):
    """Referred without saying where, or without how helped: 422, the error in the summary,
    nothing saved."""
    login(scene.volunteer)
    data = {
        "channel": "desk",
        "location": scene.branch.id,
        "duration": "under_10",
        "questions-0-topic": scene.topic.id,
        **extra,
    }
    response = client.post("/portal/registrations/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Please check the form" in body and message in body
    assert db.session.scalars(sa.select(RegisteredQuestion)).all() == []


def test_who_sees_which_visitor(client, login, scene):
    """The partner sees its own visitor and only a count of the library's; the library, as
    host, sees both; an unrelated organisation sees counts only."""
    visits.add_walk_in(scene.hours, initials="LIB")
    visits.add_walk_in(scene.guest, initials="GLD")
    db.session.commit()

    def page_for(user) -> str:
        client.post("/auth/logout")
        login(user)
        return client.get(_queue(scene)).get_data(as_text=True)

    host = page_for(scene.volunteer)
    assert "LIB" in host and "GLD" in host
    assert "Help number 1" in host and "Help number 2" not in host  # only its own to take
    partner = page_for(scene.partner_staff)
    assert "GLD" in partner and "LIB" not in partner
    assert "Also waiting here, for other organisations: 1" in partner
    unrelated = page_for(scene.unrelated)
    assert "GLD" not in unrelated and "LIB" not in unrelated
    assert "Also waiting here, for other organisations: 2" in unrelated
    assert "Someone came in" not in unrelated and "Take the next one" not in unrelated


def test_display_page_shows_numbers_only(client, login, scene):
    """The screen for the waiting area shows numbers, never initials or topics."""
    visits.add_walk_in(scene.hours, initials="JV", topic=scene.topic)
    db.session.commit()
    login(scene.unrelated)
    page = client.get(f"{_queue(scene)}/display").get_data(as_text=True)
    assert ">1</li>" in page and "JV" not in page and "Toeslagen" not in page


def test_queue_choice_goes_straight_to_the_only_location(client, login, scene):
    """With hours at one location today, "Queue" in the menu opens that location's queue."""
    login(scene.volunteer)
    response = client.get("/portal/queue")
    assert response.status_code == 303 and response.headers["Location"] == _queue(scene)


def test_retention_erases_initials_once_the_day_is_over(app, scene, monkeypatch):
    """Initials are kept for the day only; the rest of the visit stays for the counts."""
    today_visit = visits.add_walk_in(scene.hours, initials="JV")
    old_visit = visits.add_walk_in(scene.hours, initials="AB")
    old_visit.day = clock.today() - timedelta(days=1)
    db.session.commit()

    report = retention.run()

    assert report.visit_initials_erased == 1
    db.session.expire_all()
    assert db.session.get(Visit, old_visit.id).initials == ""
    assert db.session.get(Visit, old_visit.id).number == old_visit.number
    assert db.session.get(Visit, today_visit.id).initials == "JV"


def test_registration_only_categories_stay_off_residents_pages(client, login, scene, runner):
    """``flask default-topics`` adds the national registration's categories (CJIB,
    MijnOverheid, ...) as registering-only: the form offers them, the start page and the
    hours finder do not."""
    assert runner.invoke(args=["default-topics"]).exit_code == 0
    home = client.get("/").get_data(as_text=True)
    finder = client.get("/spreekuren").get_data(as_text=True)
    assert "DigiD" in home and "CJIB" not in home and "CJIB" not in finder
    login(scene.volunteer)
    form = client.get("/portal/registrations/new").get_data(as_text=True)
    assert "CJIB (fines)" in form and "MijnOverheid" in form and "DigiD" in form


@pytest.mark.parametrize("value", ["99999999999", "abc", "0"])
def test_a_visit_that_cannot_exist_is_not_found(client, login, scene, value):
    """A visit id that is no number, or that no integer column holds, answers 404."""
    login(scene.volunteer)
    assert client.get(f"/portal/registrations/new?visit={value}").status_code == 404
    response = client.post(f"/portal/queue/{scene.branch.id}/visits", data={"series": value})
    assert response.status_code == 404
