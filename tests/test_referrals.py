"""Referrals between organisations: consent first, nothing that must not be shared, a warm
handover into a slot, the receiver's status loop as both sides see it, and the audit log."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    BookedVia,
    Booking,
    BookingStatus,
    Consent,
    ConsentMethod,
    ConsentScope,
    ContactMethod,
    OrganisationKind,
    Referral,
    ReferralKind,
    ReferralNote,
    ReferralStatus,
    Role,
)
from app.services import DomainError, referrals
from app.services.referrals import ConsentAnswers, ConsentMissing, NotPossible, RefusedText
from tests.referral_helpers import (
    PHONE,
    REQUEST,
    RESIDENT,
    at,
    consent,
    slot_param,
    warm_draft,
    write_signpost,
    write_warm,
)


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client_for(app, login):
    """A browser of its own (English) for each user: the login form keeps whoever is in."""

    def make(user):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(user, test_client=client)
        return client

    return make


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Vechtdal")


@pytest.fixture
def partner(make_org):
    return make_org(
        name="Geldpunt Vechtdal",
        description="Hulp bij rekeningen en schulden.",
        phone="0346 123 456",
    )


@pytest.fixture
def topic(make_topic):
    return make_topic(slug="geldzaken", name_nl="Geldzaken", name_en="Money matters")


@pytest.fixture
def librarian(make_user, library):
    return make_user(Role.STAFF, library, name="Chris Balie")


@pytest.fixture
def partner_staff(make_user, partner):
    return make_user(Role.STAFF, partner, name="Gijs Geldpunt")


@pytest.fixture
def partner_hours(make_series, make_location, library, partner):
    """The partner's appointment hours in the library, every day 9:00-17:00."""
    return make_series(
        title="Geldpunt spreekuur",
        provider=partner,
        location=make_location(organisation=library, name="Bibliotheek Maarssen"),
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        what_to_bring="Uw bankafschriften",
    )


def entries(referral) -> list[tuple[AuditAction, int | None]]:
    db.session.expire_all()
    return [
        (e.action, e.user_id)
        for e in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.referral_id == referral.id)
            .order_by(AuditEntry.id)
        )
    ]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# Consent -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        None,
        ConsentAnswers(False, True, ConsentMethod.SPOKEN, ConsentScope.CONTACT),
        ConsentAnswers(True, False, ConsentMethod.SPOKEN, ConsentScope.CONTACT),
        ConsentAnswers(True, None, ConsentMethod.SPOKEN, ConsentScope.CONTACT),
    ],
    ids=["no-consent", "may-not-share", "may-not-receive", "not-asked"],
)
def test_without_two_yeses_a_warm_handover_is_refused_and_nothing_stored(
    librarian, partner, topic, answers
):
    """No consent (or one no) means no warm handover: nothing at all is written."""
    with pytest.raises(ConsentMissing):
        referrals.create(warm_draft(partner, topic), librarian, answers)
    db.session.rollback()
    assert count(Referral) == 0 and count(Consent) == 0 and count(AuditEntry) == 0


def test_without_consent_only_signposting_and_it_keeps_nothing_personal(librarian, partner, topic):
    """Signposting is possible without consent; it stores no name, contact or question."""
    referral = referrals.create(
        warm_draft(partner, topic, kind=ReferralKind.SIGNPOST), librarian, None
    )
    db.session.commit()
    assert referral.kind is ReferralKind.SIGNPOST
    assert referral.status is ReferralStatus.SIGNPOSTED and referral.closed_at is not None
    assert (referral.resident_name, referral.phone, referral.email, referral.request) == (
        "",
        "",
        "",
        "",
    )
    assert referral.consent is None


def test_the_database_refuses_personal_data_in_a_signposting_referral(librarian, partner, topic):
    """Even code that bypasses the service cannot store a name with signposting."""
    referral = write_signpost(librarian, partner, topic)
    referral.resident_name = "Fatima"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_consent_record_keeps_who_when_how_scope_and_receiver(librarian, partner, topic):
    """The consent is provable: who asked, when, how, in which language, scope, to whom."""
    before = clock.now()
    referral = referrals.create(
        warm_draft(partner, topic, language="ar"),
        librarian,
        consent(ConsentScope.APPOINTMENT, ConsentMethod.ON_SCREEN, language="nl"),
    )
    db.session.commit()
    record = referral.consent
    assert record.asked_by_id == librarian.id and record.asked_at >= before
    assert record.method is ConsentMethod.ON_SCREEN
    assert record.scope is ConsentScope.APPOINTMENT
    assert record.script_language == "nl" and referral.language == "ar"
    assert record.receiving_organisation_id == partner.id
    assert record.may_share and record.may_receive and record.withdrawn_at is None
    assert referral.status is ReferralStatus.RECEIVED and referral.closed_at is None


def test_the_scope_must_match_the_referral(librarian, partner, topic):
    """Consent for a course does not cover a referral to an organisation's hours."""
    with pytest.raises(ConsentMissing):
        referrals.create(warm_draft(partner, topic), librarian, consent(ConsentScope.COURSE))


def test_withdrawal_erases_the_personal_data_at_once(librarian, partner_staff, partner, topic):
    """Withdrawn consent: name, contact, question and the receiver's notes are gone; the
    receiver sees that consent was withdrawn; nothing more can be done with it."""
    referral = write_warm(librarian, partner, topic, email="fatima@example.org")
    referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT, "Gebeld, terugbellen")
    db.session.commit()

    referrals.withdraw_consent(referral, librarian)
    db.session.commit()
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert (referral.resident_name, referral.phone, referral.email, referral.request) == (
        "",
        "",
        "",
        "",
    )
    assert referral.personal_data_erased_at is not None
    assert referral.status is ReferralStatus.WITHDRAWN and referral.closed_at is not None
    assert referral.consent.withdrawn_at is not None
    assert referral.consent.withdrawn_by_id == librarian.id
    assert all(note.text == "" for note in referral.notes)
    with pytest.raises(NotPossible):
        referrals.update(referral, partner_staff, None, "Nog een notitie")
    with pytest.raises(NotPossible):
        referrals.withdraw_consent(referral, librarian)


def test_withdrawal_cancels_and_erases_the_appointment_made_with_it(
    librarian, partner, topic, partner_hours
):
    """The appointment made from the referral goes too: seat freed, details erased."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.APPOINTMENT)
    booking, _token = referrals.book_slot(referral, partner_hours, at(2, 10), librarian)
    db.session.commit()
    referrals.withdraw_consent(referral, librarian)
    db.session.commit()
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status is BookingStatus.CANCELLED and booking.seat is None
    assert (booking.name, booking.phone, booking.question) == ("", "", "")
    assert booking.personal_data_erased_at is not None


# What must not be shared -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "explains"),
    [
        ("request", "Haar BSN is 123456782, wil toeslag", "BSN"),
        ("request", "bsn 1234.56.782 graag bellen", "BSN"),
        ("request", "DigiD wachtwoord: Zomer2024!", "password"),
        ("request", "Haar DigiD-code is 482913", "DigiD code"),
        ("request", "sms-code 4829 ontvangen", "SMS code"),
        ("request", "pincode 1234", "PIN"),
        ("request", "password=geheim", "password"),
        ("name", "Fatima 123456782", "BSN"),
    ],
)
def test_bsn_and_credentials_are_refused_with_an_explanation(
    librarian, partner, topic, field, text, explains
):
    """A BSN-like number or something like a password or code is refused, saying why."""
    overrides = {"request": text} if field == "request" else {"resident_name": text}
    with pytest.raises(RefusedText) as refused, force_locale("en"):
        referrals.create(warm_draft(partner, topic, **overrides), librarian, consent())
    assert refused.value.field == field
    assert explains in refused.value.message
    db.session.rollback()
    assert count(Referral) == 0


@pytest.mark.parametrize(
    "text",
    [
        "Is haar DigiD wachtwoord vergeten en wil een nieuw aanvragen",
        "Bellen op 06 12345678 na 14 uur",
        "Heeft een brief over de pincode van de bank",
        "Wil 2 keer per maand hulp, 1500 euro schuld",
    ],
)
def test_ordinary_questions_about_passwords_and_phone_numbers_pass(librarian, partner, topic, text):
    """Questions about a forgotten password or a phone number are not refused."""
    referral = write_warm(librarian, partner, topic, request=text)
    assert referral.request == text


def test_a_status_note_with_a_bsn_is_refused(librarian, partner_staff, partner, topic):
    """The receiver's notes are checked too."""
    referral = write_warm(librarian, partner, topic)
    with pytest.raises(RefusedText):
        referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT, "BSN 123456782")
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status is ReferralStatus.RECEIVED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"resident_name": " "}, "name"),
        ({"phone": "", "email": ""}, "phone"),
        ({"contact_method": ContactMethod.EMAIL}, "email"),
        ({"phone": "bel mij"}, "phone"),
        ({"email": "geen-adres"}, "email"),
    ],
)
def test_a_warm_handover_needs_a_name_and_a_way_to_reach_the_resident(
    librarian, partner, topic, overrides, field
):
    """Name or initials, and a phone number or email that fits the contact method."""
    with pytest.raises(DomainError) as refused:
        referrals.create(warm_draft(partner, topic, **overrides), librarian, consent())
    assert refused.value.field == field


def test_no_referral_to_ones_own_organisation_or_an_inactive_one(
    librarian, library, partner, topic
):
    """A referral goes to another organisation that takes referrals."""
    with pytest.raises(NotPossible):
        referrals.create(warm_draft(library, topic), librarian, consent())
    partner.active = False
    db.session.commit()
    with pytest.raises(NotPossible):
        referrals.create(warm_draft(partner, topic), librarian, consent())


# Warm handover into a slot -----------------------------------------------------------------


def test_warm_handover_books_a_slot_of_the_receiver_linked_to_the_referral(
    librarian, partner, topic, partner_hours
):
    """A booking on the resident's behalf, made via the referral, in the receiver's hours."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.APPOINTMENT)
    booking, _token = referrals.book_slot(referral, partner_hours, at(1, 10), librarian)
    db.session.commit()
    assert referral.booking_id == booking.id
    assert booking.booked_via is BookedVia.REFERRAL and booking.created_by_id == librarian.id
    assert (booking.name, booking.phone, booking.question) == (RESIDENT, PHONE.strip(), REQUEST)
    with pytest.raises(NotPossible):
        referrals.book_slot(referral, partner_hours, at(1, 11), librarian)


def test_booking_needs_consent_to_an_appointment(librarian, partner, topic, partner_hours):
    """Consent to be contacted does not cover making an appointment."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.CONTACT)
    with pytest.raises(NotPossible):
        referrals.book_slot(referral, partner_hours, at(1, 10), librarian)


def test_booking_only_in_the_receivers_own_hours(librarian, partner, topic, make_series, make_org):
    """The slot must be in hours the receiving organisation holds."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.APPOINTMENT)
    other = make_series(
        provider=make_org(),
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today(),
        start_time=time(9, 0),
        end_time=time(17, 0),
    )
    with pytest.raises(NotPossible):
        referrals.book_slot(referral, other, at(1, 10), librarian)


# The status loop ---------------------------------------------------------------------------


def test_status_loop_received_in_contact_done(librarian, partner_staff, partner, topic):
    """The receiver moves a referral on; closing sets closed_at; a closed one stays closed."""
    referral = write_warm(librarian, partner, topic)
    referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT, "Voicemail ingesproken")
    referrals.update(referral, partner_staff, ReferralStatus.DONE)
    db.session.commit()
    assert referral.status is ReferralStatus.DONE and referral.closed_at is not None
    assert [s for s, _at in referrals.status_history(referral)] == [
        ReferralStatus.RECEIVED,
        ReferralStatus.IN_CONTACT,
        ReferralStatus.DONE,
    ]
    with pytest.raises(NotPossible):
        referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT)
    with pytest.raises(DomainError):
        referrals.update(referral, partner_staff, None, "  ")


@pytest.mark.parametrize(
    "end", [ReferralStatus.NOT_REACHED, ReferralStatus.DECLINED, ReferralStatus.DONE]
)
def test_every_closing_status_is_reachable_from_received(
    librarian, partner_staff, partner, topic, end
):
    referral = write_warm(librarian, partner, topic)
    referrals.update(referral, partner_staff, end)
    assert referral.status is end and not referral.is_open


def test_signposting_has_no_loop(librarian, partner_staff, partner, topic):
    """Nothing was passed on, so the receiver has nothing to move on."""
    referral = write_signpost(librarian, partner, topic)
    with pytest.raises(NotPossible):
        referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT)


# Audit -------------------------------------------------------------------------------------


def test_every_change_and_view_is_in_the_audit_log_without_personal_data(
    librarian, partner_staff, partner, topic, partner_hours
):
    """Create, view, book, status, note and withdrawal: who, when, what; no resident data."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.APPOINTMENT)
    referrals.record_view(referral, partner_staff)
    referrals.book_slot(referral, partner_hours, at(1, 10), librarian)
    referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT, "Gebeld met Fatima")
    referrals.update(referral, partner_staff, None, "Komt dinsdag")
    referrals.withdraw_consent(referral, librarian)
    db.session.commit()
    assert entries(referral) == [
        (AuditAction.CREATE, librarian.id),
        (AuditAction.VIEW, partner_staff.id),
        (AuditAction.BOOK, librarian.id),
        (AuditAction.STATUS, partner_staff.id),
        (AuditAction.NOTE, partner_staff.id),
        (AuditAction.WITHDRAW, librarian.id),
    ]
    details = " ".join(db.session.scalars(sa.select(AuditEntry.detail)))
    assert "Fatima" not in details and "06" not in details and "dinsdag" not in details
    assert "received > in_contact" in details
    assert all(e.at is not None for e in db.session.scalars(sa.select(AuditEntry)))


def test_internal_notes_are_kept_with_the_status(librarian, partner_staff, partner, topic):
    """Each status change and note is an entry of the receiver's own log."""
    referral = write_warm(librarian, partner, topic)
    referrals.update(referral, partner_staff, ReferralStatus.IN_CONTACT, "Tweede keer gebeld")
    db.session.commit()
    note = db.session.scalar(sa.select(ReferralNote))
    assert (note.status, note.text, note.author_id) == (
        ReferralStatus.IN_CONTACT,
        "Tweede keer gebeld",
        partner_staff.id,
    )


# Views -------------------------------------------------------------------------------------


def _form(**values) -> dict:
    data = {
        "topic": "",
        "urgency": "soon",
        "language": "nl",
        "contact_method": "phone",
        "name": "Fatima",
        "phone": "0612345678",
        "email": "",
        "request": "Wil hulp met een betalingsregeling",
    }
    data.update(values)
    return data


def _consent_params(scope="contact", method="spoken", language="nl") -> str:
    return f"kind=warm&language={language}&method={method}&scope={scope}&share=yes&receive=yes"


def test_writing_a_warm_handover_step_by_step(en, login, librarian, partner, topic):
    """Choose the organisation, warm handover, the consent script, then the details."""
    login(librarian)
    page = en.get("/portal/referrals/new").get_data(as_text=True)
    assert partner.name in page and "Hulp bij rekeningen en schulden." in page

    response = en.get(f"/portal/referrals/new/{partner.id}")
    assert response.status_code == 200
    response = en.post(
        f"/portal/referrals/new/{partner.id}", data={"kind": "warm", "language": "en"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/portal/referrals/new/{partner.id}/consent?language=en"

    script = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "May I pass on your details and your question?" in script
    assert f"May {partner.name} receive them?" in script
    assert "checked" not in script  # never pre-ticked

    response = en.post(
        f"/portal/referrals/new/{partner.id}/consent?language=en",
        data={"share": "yes", "receive": "yes", "method": "spoken", "scope": "contact"},
    )
    assert response.status_code == 303
    details_url = response.headers["Location"]
    assert "share=yes" in details_url and "receive=yes" in details_url
    assert count(Referral) == 0  # nothing stored before the details are sent

    response = en.post(details_url, data=_form(topic=str(topic.id)))
    assert response.status_code == 303, response.get_data(as_text=True)
    referral = db.session.scalar(sa.select(Referral))
    assert referral.kind is ReferralKind.WARM and referral.resident_name == "Fatima"
    assert referral.consent.script_language == "en" and referral.consent.asked_by_id == librarian.id
    assert response.headers["Location"] == f"/portal/referrals/{referral.id}"


def test_a_no_in_the_consent_step_leads_to_signposting_only(en, login, librarian, partner, topic):
    """A no to either question: the page says only signposting is possible."""
    login(librarian)
    response = en.post(
        f"/portal/referrals/new/{partner.id}/consent?language=nl",
        data={"share": "yes", "receive": "no", "method": "spoken", "scope": "contact"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "only signpost" in page
    assert f"/portal/referrals/new/{partner.id}/details?kind=signpost" in page
    # The details page refuses a warm handover without the two yes's.
    response = en.get(f"/portal/referrals/new/{partner.id}/details?kind=warm&language=nl")
    assert response.status_code == 303
    assert "/consent" in response.headers["Location"]


def test_the_consent_script_is_in_the_residents_language(en, login, librarian, partner):
    """English for an English-speaking resident, Arabic for an Arabic-speaking one and Dari
    for a Dari-speaking one, each with no interpreter note."""
    login(librarian)
    english = en.get(f"/portal/referrals/new/{partner.id}/consent?language=en")
    assert '<div class="consent-script" lang="en"' in english.get_data(as_text=True)
    for language, script in (("ar", "ar"), ("prs", "fa")):
        page = en.get(f"/portal/referrals/new/{partner.id}/consent?language={language}")
        html = page.get_data(as_text=True)
        assert f'<div class="consent-script" lang="{script}"' in html, language
        assert "Read the Dutch text with an interpreter" not in html


def test_signposting_form_asks_no_personal_data(en, login, librarian, partner, topic):
    """Signposting: topic and language only; the slip follows."""
    login(librarian)
    url = f"/portal/referrals/new/{partner.id}/details?kind=signpost&language=en"
    page = en.get(url).get_data(as_text=True)
    assert 'name="phone"' not in page and 'name="name"' not in page
    response = en.post(url, data={"topic": topic.id, "urgency": "normal", "language": "en"})
    assert response.status_code == 303
    referral = db.session.scalar(sa.select(Referral))
    assert referral.kind is ReferralKind.SIGNPOST
    slip = en.get(f"/portal/referrals/{referral.id}/slip")
    assert slip.status_code == 200
    html = slip.get_data(as_text=True)
    assert partner.name in html and "0346 123 456" in html and '<html lang="en"' in html


def test_bsn_in_the_form_is_refused_with_422_and_an_explanation(
    en, login, librarian, partner, topic
):
    """The form comes back with the reason at the field; nothing is stored."""
    login(librarian)
    url = f"/portal/referrals/new/{partner.id}/details?{_consent_params()}"
    response = en.post(url, data=_form(topic=str(topic.id), request="BSN 123456782 toeslag"))
    assert response.status_code == 422
    assert "must never contain a BSN" in response.get_data(as_text=True)
    assert count(Referral) == 0
    fragment = en.post(
        url,
        data=_form(topic=str(topic.id), request="wachtwoord: Zomer2024"),
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 422
    html = fragment.get_data(as_text=True)
    assert "password" in html and "<html" not in html


def test_warm_handover_into_a_slot_and_the_card(
    en, login, librarian, partner, topic, partner_hours
):
    """From the referral: the receiver's free times, book one, print the card."""
    referral = write_warm(librarian, partner, topic, scope=ConsentScope.APPOINTMENT)
    login(librarian)
    page = en.get(f"/portal/referrals/{referral.id}/book").get_data(as_text=True)
    moment = at(2, 10)
    assert slot_param(moment) in page
    response = en.post(
        f"/portal/referrals/{referral.id}/book",
        data={"series": partner_hours.id, "tijd": slot_param(moment)},
    )
    assert response.status_code == 303
    booking = db.session.scalar(sa.select(Booking))
    assert booking.booked_via is BookedVia.REFERRAL
    card = en.get(f"/portal/referrals/{referral.id}/card").get_data(as_text=True)
    assert booking.display_code in card and "10:00" in card
    assert (AuditAction.PRINT, librarian.id) in entries(referral)


def test_status_loop_as_seen_by_both_sides(
    en, login, client_for, make_user, librarian, partner, topic
):
    """The receiver moves it on with a note; the sender sees the status, not the note."""
    referral = write_warm(librarian, partner, topic)
    receiver_client = client_for(make_user(Role.STAFF, partner))
    inbox = receiver_client.get("/portal/referrals/").get_data(as_text=True)
    assert f"/portal/referrals/{referral.id}" in inbox
    response = receiver_client.post(
        f"/portal/referrals/{referral.id}/update",
        data={"status": "in_contact", "note": "Mevrouw belt maandag terug"},
    )
    assert response.status_code == 303
    receiver_client.post(
        f"/portal/referrals/{referral.id}/update", data={"status": "done", "note": ""}
    )
    own = receiver_client.get(f"/portal/referrals/{referral.id}").get_data(as_text=True)
    assert "Mevrouw belt maandag terug" in own and "Done" in own

    login(librarian)
    sent = en.get("/portal/referrals/sent").get_data(as_text=True)
    assert "Done" in sent
    page = en.get(f"/portal/referrals/{referral.id}").get_data(as_text=True)
    assert "Done" in page and "In contact" in page
    assert "Mevrouw belt maandag terug" not in page
    # The sender cannot move the receiver's loop.
    assert en.post(f"/portal/referrals/{referral.id}/update", data={"note": "x"}).status_code == 403


def test_inbox_filters_by_status_and_topic_with_htmx_and_without(
    en, login, librarian, partner, partner_staff, topic, make_topic
):
    """Filters work as a plain GET form; with htmx only the results are swapped."""
    other_topic = make_topic(slug="digid", name_en="DigiD", name_nl="DigiD")
    first = write_warm(librarian, partner, topic)
    second = write_warm(librarian, partner, other_topic)
    referrals.update(second, partner_staff, ReferralStatus.DONE)
    db.session.commit()
    login(partner_staff)
    open_page = en.get("/portal/referrals/").get_data(as_text=True)
    assert f'/portal/referrals/{first.id}"' in open_page
    assert f'/portal/referrals/{second.id}"' not in open_page
    closed = en.get("/portal/referrals/?status=closed").get_data(as_text=True)
    assert f'/portal/referrals/{second.id}"' in closed
    by_topic = en.get(f"/portal/referrals/?status=all&topic={other_topic.slug}")
    html = by_topic.get_data(as_text=True)
    assert f'/portal/referrals/{second.id}"' in html
    assert f'/portal/referrals/{first.id}"' not in html
    fragment = en.get("/portal/referrals/?status=all", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert fragment.lstrip().startswith('<section id="referral-results"')


def test_the_staff_menu_shows_the_inbox_count(client_for, librarian, partner, partner_staff, topic):
    """New referrals are counted in the menu for the receiving organisation's staff."""
    write_warm(librarian, partner, topic)
    write_warm(librarian, partner, topic)
    page = client_for(partner_staff).get("/portal/").get_data(as_text=True)
    assert "2 new" in page
    assert "new</span>" not in client_for(librarian).get("/portal/").get_data(as_text=True)


def test_an_empty_update_is_refused_in_place_with_htmx(
    client_for, librarian, partner_staff, partner, topic
):
    """Neither a status nor a note: 422, and with htmx only the loop section comes back."""
    referral = write_warm(librarian, partner, topic)
    receiver = client_for(partner_staff)
    url = f"/portal/referrals/{referral.id}/update"
    page = receiver.post(url, data={"status": "", "note": ""})
    assert page.status_code == 422 and "Please choose a new status or write a note." in (
        page.get_data(as_text=True)
    )
    fragment = receiver.post(url, data={"status": "", "note": ""}, headers={"HX-Request": "true"})
    assert fragment.status_code == 422
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="referral-loop"')


def test_withdrawing_consent_in_the_view(client_for, librarian, partner, partner_staff, topic):
    """The sender records the withdrawal; the receiver sees it, without the details."""
    referral = write_warm(librarian, partner, topic)
    sender = client_for(librarian)
    response = sender.post(f"/portal/referrals/{referral.id}/withdraw", data={"confirm": "y"})
    assert response.status_code == 303
    page = client_for(partner_staff).get(f"/portal/referrals/{referral.id}").get_data(as_text=True)
    assert "Consent withdrawn" in page and RESIDENT not in page and REQUEST not in page


def test_org_admin_reads_the_audit_log_of_their_organisation(
    client_for, make_user, librarian, library, partner, topic
):
    """Who viewed and changed which referral, for the organisation's admin only."""
    referral = write_warm(librarian, partner, topic)
    staff = client_for(librarian)
    staff.get(f"/portal/referrals/{referral.id}")
    assert staff.get("/portal/referrals/audit").status_code == 403
    log = client_for(make_user(Role.ORG_ADMIN, library)).get("/portal/referrals/audit")
    log = log.get_data(as_text=True)
    assert librarian.name in log and "Viewed" in log and "Written" in log
    assert RESIDENT not in log


def test_coordinator_sees_counts_not_contents(
    en, login, make_user, library, librarian, partner, topic
):
    """The coordinator sees how many referrals went where, never a resident."""
    referral = write_warm(librarian, partner, topic)
    coordinator = make_user(Role.COORDINATOR, library)
    login(coordinator)
    counts = en.get("/portal/referrals/counts").get_data(as_text=True)
    assert partner.name in counts and RESIDENT not in counts
    assert en.get(f"/portal/referrals/{referral.id}").status_code == 404


def test_the_audit_log_speaks_in_words_and_links_only_to_what_the_reader_may_open(
    client_for, make_user, librarian, library, partner, topic
):
    """Details are words (a status change names both statuses; a print names what was
    printed), and a referral is a link only for a reader who may open it: the coordinator,
    who reads the log but sees no referral's contents, gets no link that would lead to 404."""
    from app.services import referrals as referral_service

    referral = write_warm(librarian, partner, topic)
    referral_service.record_print(referral, librarian, "slip")
    db.session.commit()
    link = f'href="/portal/referrals/{referral.id}"'

    admin = client_for(make_user(Role.ORG_ADMIN, library))
    admin.post("/taal", data={"language": "en", "next": "/"})
    log = admin.get("/portal/referrals/audit").get_data(as_text=True)
    assert link in log
    assert "Warm handover" in log and "Signposting slip" in log
    assert ">warm<" not in log and ">slip<" not in log

    coordinator = client_for(make_user(Role.COORDINATOR, library))
    response = coordinator.get("/portal/referrals/audit")
    assert response.status_code == 200
    log = response.get_data(as_text=True)
    assert f"{referral.id}" in log and link not in log
    assert coordinator.get(f"/portal/referrals/{referral.id}").status_code == 404
