"""Personal data of bookings is erased 30 days after the appointment, of referrals 90 days
after they were closed or 180 days after their last change when they are never closed; counts
remain. Audit-log entries are deleted after two years, login sessions when they expire."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    ConsentScope,
    EnrolmentStatus,
    LoginSession,
    OrganisationKind,
    OutboxMessage,
    Referral,
    ReferralStatus,
    Role,
)
from app.services import audit, courses, mail, referrals, retention
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from app.services.courses import CourseData
from tests.referral_helpers import PHONE, RESIDENT, write_signpost, write_warm


def test_retention_erases_old_bookings_and_keeps_recent_ones(app, runner, make_series, monkeypatch):
    """The command erases name, phone, email and question of old appointments only."""
    series = make_series(start_date=date(2026, 1, 6), weekdays="1")
    old_slot = datetime(2026, 1, 13, 13, 0, tzinfo=UTC)
    new_slot = datetime(2026, 2, 10, 13, 0, tzinfo=UTC)
    before = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    details = ResidentDetails(
        name="Fatima",
        phone="0612345678",
        email="f@example.org",
        question="Toeslag",
        needs_wheelchair=True,
    )
    old, _ = booking_service.book(series, old_slot, details, now=before)
    recent, _ = booking_service.book(series, new_slot, details, now=before)
    mail.queue("f@example.org", "Uw afspraak", "Tot dan", booking=old)
    db.session.commit()

    monkeypatch.setattr("app.clock.now", lambda: datetime(2026, 2, 13, 12, 0, tzinfo=UTC))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Bookings erased: 1; messages erased: 1." in result.output

    db.session.expire_all()
    old, recent = db.session.get(Booking, old.id), db.session.get(Booking, recent.id)
    assert (old.name, old.phone, old.email, old.question) == ("", "", "", "")
    assert not old.needs_wheelchair and old.personal_data_erased_at is not None
    assert old.status is BookingStatus.BOOKED and old.slot_start == old_slot  # counts remain
    assert recent.name == "Fatima" and recent.personal_data_erased_at is None
    # The message stays for the figures, without its text or recipient.
    message = db.session.scalar(sa.select(OutboxMessage))
    assert (message.recipient, message.subject, message.body) == ("", "", "")

    again = runner.invoke(args=["retention"])
    assert "Bookings erased: 0" in again.output


def test_erased_booking_cannot_be_found_any_more(app, make_series, monkeypatch):
    """After erasure the code no longer opens the appointment."""
    series = make_series(start_date=date(2026, 1, 6), weekdays="1")
    slot = datetime(2026, 1, 13, 13, 0, tzinfo=UTC)
    booking, token = booking_service.book(
        series, slot, ResidentDetails(name="Fatima"), now=slot - timedelta(days=1)
    )
    db.session.commit()
    monkeypatch.setattr("app.clock.now", lambda: slot + timedelta(days=31))
    retention.run()
    assert booking_service.find_by_code(booking.code, "Fatima") is None


# Referrals -----------------------------------------------------------------------------------


@pytest.fixture
def referral_setup(make_org, make_user, make_topic):
    library = make_org(kind=OrganisationKind.LIBRARY)
    partner = make_org()
    return (
        make_user(Role.STAFF, library),
        make_user(Role.STAFF, partner),
        partner,
        make_topic(),
    )


def test_retention_erases_referrals_closed_more_than_90_days_ago(
    app, runner, referral_setup, monkeypatch
):
    """Name, contact, question and the receiver's notes go 90 days after closing; the
    referral itself stays for the counts; open ones and recent ones are kept."""
    sender, receiver, partner, topic = referral_setup
    old = write_warm(sender, partner, topic)
    recent = write_warm(sender, partner, topic)
    still_open = write_warm(sender, partner, topic)
    write_signpost(sender, partner, topic)
    referrals.update(old, receiver, ReferralStatus.DONE, "Afspraak gehad, schuldhulp gestart")
    db.session.commit()
    now = clock.now()
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=80))
    referrals.update(recent, receiver, ReferralStatus.DECLINED)
    db.session.commit()

    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=91))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Referrals erased: 1 closed, 0 open without change for too long." in result.output

    db.session.expire_all()
    old = db.session.get(Referral, old.id)
    assert (old.resident_name, old.phone, old.email, old.request) == ("", "", "", "")
    assert old.personal_data_erased_at is not None and old.notes[0].text == ""
    assert old.status is ReferralStatus.DONE and old.topic_id == topic.id  # counts remain
    assert db.session.get(Referral, recent.id).resident_name == RESIDENT
    assert db.session.get(Referral, still_open.id).resident_name == RESIDENT
    erased = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ERASE)
    ).all()
    assert [(e.referral_id, e.user_id) for e in erased] == [(old.id, None)]

    assert "Referrals erased: 0 closed, 0 open" in runner.invoke(args=["retention"]).output


def test_the_referral_retention_period_is_configurable(app, referral_setup, monkeypatch):
    """REFERRAL_RETENTION_DAYS sets the period."""
    sender, receiver, partner, topic = referral_setup
    referral = write_warm(sender, partner, topic)
    referrals.update(referral, receiver, ReferralStatus.NOT_REACHED)
    db.session.commit()
    app.config["REFERRAL_RETENTION_DAYS"] = 10
    now = clock.now()
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=9))
    assert retention.run().referrals_erased == 0
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=11))
    assert retention.run().referrals_erased == 1
    assert db.session.get(Referral, referral.id).resident_name == ""


# Referrals that are never closed -------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def set_clock(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr("app.clock.now", lambda: moment)


def erase_entries() -> list[tuple[int, int | None, str]]:
    return [
        (e.referral_id, e.user_id, e.detail)
        for e in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == AuditAction.ERASE)
            .order_by(AuditEntry.id)
        )
    ]


def test_an_open_referral_loses_its_data_180_days_after_the_last_change(
    app, runner, referral_setup, monkeypatch
):
    """A warm handover the receiver never closes: a minute before 180 days after its last
    change it keeps everything, a minute after the details and notes are gone; the status
    stays, the system's erasure is in the audit log and the command counts it."""
    sender, receiver, partner, topic = referral_setup
    set_clock(monkeypatch, T0)
    referral = write_warm(sender, partner, topic, email="fatima@example.org")
    referrals.update(referral, receiver, ReferralStatus.IN_CONTACT, "Voicemail ingesproken")
    db.session.commit()

    set_clock(monkeypatch, T0 + timedelta(days=180) - timedelta(minutes=1))
    result = runner.invoke(args=["retention"])
    assert "Referrals erased: 0 closed, 0 open without change for too long." in result.output
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).resident_name == RESIDENT

    erased_at = T0 + timedelta(days=180, minutes=1)
    set_clock(monkeypatch, erased_at)
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Referrals erased: 0 closed, 1 open without change for too long." in result.output

    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert (referral.resident_name, referral.phone, referral.email, referral.request) == (
        "",
        "",
        "",
        "",
    )
    assert referral.personal_data_erased_at == erased_at
    assert [note.text for note in referral.notes] == [""]
    # Only the receiver knows how it ended: the status is theirs to set, and still can be.
    assert referral.status is ReferralStatus.IN_CONTACT and referral.closed_at is None
    assert referral.consent.may_share and referral.topic_id == topic.id  # counts remain
    [(referral_id, user_id, detail)] = erase_entries()
    assert (referral_id, user_id) == (referral.id, None)
    assert "open" in detail and "180 days" in detail

    again = runner.invoke(args=["retention"]).output
    assert "Referrals erased: 0 closed, 0 open" in again
    assert len(erase_entries()) == 1


def test_a_note_or_a_new_status_is_a_change_a_view_is_not(app, referral_setup, monkeypatch):
    """The 180 days count from the newest status or note of the receiver; reading the
    referral (the inbox, the page) does not keep the details."""
    sender, receiver, partner, topic = referral_setup
    set_clock(monkeypatch, T0)
    noted = write_warm(sender, partner, topic)
    moved = write_warm(sender, partner, topic)
    viewed = write_warm(sender, partner, topic)
    set_clock(monkeypatch, T0 + timedelta(days=100))
    referrals.update(noted, receiver, note="Nog niet bereikt, probeer volgende week")
    referrals.update(moved, receiver, ReferralStatus.IN_CONTACT)
    referrals.record_view(viewed, receiver)
    db.session.commit()

    set_clock(monkeypatch, T0 + timedelta(days=181))
    report = retention.run()
    assert report.open_referrals_erased == 1 and report.referrals_erased == 0
    db.session.expire_all()
    assert db.session.get(Referral, viewed.id).resident_name == ""
    assert db.session.get(Referral, noted.id).resident_name == RESIDENT
    assert db.session.get(Referral, moved.id).resident_name == RESIDENT

    set_clock(monkeypatch, T0 + timedelta(days=281))
    assert retention.run().open_referrals_erased == 2
    db.session.expire_all()
    assert db.session.get(Referral, noted.id).notes[0].text == ""
    assert db.session.get(Referral, moved.id).resident_name == ""


def test_an_appointment_or_a_course_made_from_it_keeps_an_open_referral_until_after_it(
    app, client, login, referral_setup, make_series, make_location, monkeypatch
):
    """The details are needed until the appointment or the course made from the referral is
    over: the 180 days count from then. After that the course place stays (the course list
    shows the name as erased) and the appointment's details are gone by its own rule."""
    sender, receiver, partner, topic = referral_setup
    set_clock(monkeypatch, T0)
    hours = make_series(provider=partner, start_date=date(2026, 2, 3), weekdays="1")
    appointment = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # Tuesday 14:00 in Amsterdam
    booked = write_warm(sender, partner, topic, scope=ConsentScope.APPOINTMENT)
    booking, _token = referrals.book_slot(booked, hours, appointment, sender)
    course = courses.create_course(
        partner,
        CourseData(
            title="Digisterker",
            location=make_location(organisation=partner),
            capacity=8,
            first_date=date(2026, 3, 9),
            start_time=time(10, 0),
            end_time=time(12, 0),
            sessions=4,  # the last one on 30 March
        ),
        None,
    )
    db.session.commit()
    on_course = write_warm(sender, partner, topic, course=course)

    set_clock(monkeypatch, appointment + timedelta(days=179))
    assert retention.run().open_referrals_erased == 0
    set_clock(monkeypatch, appointment + timedelta(days=181))
    assert retention.run().open_referrals_erased == 1
    db.session.expire_all()
    assert db.session.get(Referral, booked.id).resident_name == ""
    booking = db.session.get(Booking, booking.id)
    assert booking.name == "" and booking.personal_data_erased_at is not None
    assert db.session.get(Referral, on_course.id).resident_name == RESIDENT

    set_clock(monkeypatch, datetime(2026, 9, 26, 12, 0, tzinfo=UTC))  # 180 days after 30 March
    assert retention.run().open_referrals_erased == 0
    set_clock(monkeypatch, datetime(2026, 9, 27, 12, 0, tzinfo=UTC))
    assert retention.run().open_referrals_erased == 1
    db.session.expire_all()
    on_course = db.session.get(Referral, on_course.id)
    assert on_course.resident_name == "" and on_course.enrolment.seat == 1
    assert on_course.enrolment.status is EnrolmentStatus.PARTICIPANT
    login(receiver)
    page = client.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert RESIDENT not in page and "Gewist" in page


def test_both_sides_see_that_the_details_of_an_open_referral_were_erased(
    app, client, login, referral_setup, monkeypatch
):
    """The referral stays in the receiver's open list; its page says the details were
    erased and shows none; the receiver can still set the status, but write no new note
    about the resident and book no time for them."""
    sender, receiver, partner, topic = referral_setup
    set_clock(monkeypatch, T0)
    referral = write_warm(sender, partner, topic, scope=ConsentScope.APPOINTMENT)
    set_clock(monkeypatch, T0 + timedelta(days=181))
    retention.run()
    notice = "De gegevens van de inwoner zijn gewist na de bewaartermijn."
    url = f"/portal/referrals/{referral.id}"

    login(receiver)
    assert url in client.get("/portal/referrals/").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert notice in page and RESIDENT not in page and PHONE not in page
    assert 'name="note"' not in page and 'value="not_reached"' in page
    assert f"{url}/book" not in page
    with pytest.raises(referrals.NotPossible):
        referrals.update(referral, receiver, note="Mevrouw El Amrani belde terug")
    with pytest.raises(referrals.NotPossible):
        referrals.check_can_book(referral)
    db.session.rollback()
    response = client.post(f"{url}/update", data={"status": "not_reached"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is ReferralStatus.NOT_REACHED

    login(sender)
    page = client.get(url).get_data(as_text=True)
    assert notice in page and RESIDENT not in page


def test_a_closed_referral_follows_the_rule_for_closed_ones_only(app, referral_setup, monkeypatch):
    """Even with a shorter period for open referrals, a closed one keeps its details until
    REFERRAL_RETENTION_DAYS after closing, and is counted as closed."""
    sender, receiver, partner, topic = referral_setup
    app.config["REFERRAL_OPEN_RETENTION_DAYS"] = 30
    set_clock(monkeypatch, T0)
    referral = write_warm(sender, partner, topic)
    referrals.update(referral, receiver, ReferralStatus.DONE)
    db.session.commit()

    set_clock(monkeypatch, T0 + timedelta(days=89))
    report = retention.run()
    assert (report.referrals_erased, report.open_referrals_erased) == (0, 0)
    assert db.session.get(Referral, referral.id).resident_name == RESIDENT
    set_clock(monkeypatch, T0 + timedelta(days=91))
    report = retention.run()
    assert (report.referrals_erased, report.open_referrals_erased) == (1, 0)
    assert erase_entries() == [(referral.id, None, "retention 90 days")]


def test_the_open_referral_retention_period_is_configurable(app, referral_setup, monkeypatch):
    """REFERRAL_OPEN_RETENTION_DAYS sets the period for referrals that stay open."""
    sender, _receiver, partner, topic = referral_setup
    app.config["REFERRAL_OPEN_RETENTION_DAYS"] = 10
    set_clock(monkeypatch, T0)
    referral = write_warm(sender, partner, topic)
    set_clock(monkeypatch, T0 + timedelta(days=9))
    assert retention.run().open_referrals_erased == 0
    set_clock(monkeypatch, T0 + timedelta(days=11))
    assert retention.run().open_referrals_erased == 1
    assert db.session.get(Referral, referral.id).resident_name == ""


# The audit log -------------------------------------------------------------------------------


def test_audit_entries_are_deleted_two_years_after_they_were_written(
    app, runner, referral_setup, monkeypatch
):
    """Entries older than AUDIT_RETENTION_DAYS (730) go, newer ones stay; the referral they
    were about stays; the command says how many it deleted."""
    sender, receiver, partner, topic = referral_setup
    set_clock(monkeypatch, T0)
    referral = write_warm(sender, partner, topic)  # logged: written
    set_clock(monkeypatch, T0 + timedelta(days=2))
    referrals.update(referral, receiver, ReferralStatus.DONE)  # logged: status changed
    db.session.commit()

    set_clock(monkeypatch, T0 + timedelta(days=730) - timedelta(minutes=1))
    assert "Audit entries deleted: 0." in runner.invoke(args=["retention"]).output
    set_clock(monkeypatch, T0 + timedelta(days=731))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Audit entries deleted: 1." in result.output

    db.session.expire_all()
    left = [(e.action, e.user_id) for e in audit.entries_for(referral)]
    # The status change and the erasure of 90 days after it (both newer) stay.
    assert left == [(AuditAction.STATUS, receiver.id), (AuditAction.ERASE, None)]
    assert db.session.get(Referral, referral.id).status is ReferralStatus.DONE


def test_the_audit_retention_period_is_configurable(app, referral_setup, monkeypatch):
    """AUDIT_RETENTION_DAYS sets the period."""
    sender, _receiver, partner, topic = referral_setup
    app.config["AUDIT_RETENTION_DAYS"] = 10
    set_clock(monkeypatch, T0)
    write_warm(sender, partner, topic)
    set_clock(monkeypatch, T0 + timedelta(days=9))
    assert retention.run().audit_entries_deleted == 0
    set_clock(monkeypatch, T0 + timedelta(days=11))
    assert retention.run().audit_entries_deleted == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_retention_deletes_expired_login_sessions(
    app, runner, client, make_user, login, monkeypatch
):
    """The daily job deletes the login sessions that have expired on the server; one that
    still works is kept and goes on working."""
    user = make_user()
    set_clock(monkeypatch, T0)
    login(user)  # not used again: it ends after the session lifetime (14 hours)
    set_clock(monkeypatch, T0 + timedelta(hours=10))
    desk = app.test_client()
    login(user, test_client=desk)

    set_clock(monkeypatch, T0 + timedelta(hours=15))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Expired login sessions deleted: 1." in result.output
    kept = db.session.scalars(sa.select(LoginSession.created_at)).all()
    assert kept == [T0 + timedelta(hours=10)]
    assert desk.get("/portal/").status_code == 200

    assert "Expired login sessions deleted: 0." in runner.invoke(args=["retention"]).output


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {},
            [
                "30 dagen na uw afspraak wissen we",
                "90 dagen nadat die organisatie klaar is",
                "180 dagen nadat er voor het laatst iets is gebeurd",
                "Dit wissen we na 2 jaar.",
                "Die wissen we dezelfde nacht.",  # the desk's initials
            ],
        ),
        (
            {
                "BOOKING_RETENTION_DAYS": 14,
                "REFERRAL_RETENTION_DAYS": 60,
                "REFERRAL_OPEN_RETENTION_DAYS": 120,
                "AUDIT_RETENTION_DAYS": 400,
            },
            [
                "14 dagen na uw afspraak",
                "60 dagen nadat die organisatie",
                "120 dagen nadat er voor het laatst",
                "Dit wissen we na 400 dagen.",
            ],
        ),
    ],
)
def test_the_privacy_page_states_the_periods_that_are_applied(app, client, settings, expected):
    """Residents read the retention periods the retention job really uses."""
    app.config.update(settings)
    page = client.get("/privacy").get_data(as_text=True)
    for text in expected:
        assert text in page
