"""Referrals: writing one (with consent first), the receiver's status loop, withdrawal,
a warm handover into a slot of the receiver's hours, and what the sender may know.

Every view and change of a referral is written to the audit log here, in the same
transaction. Which referrals a user may see is decided in ``app.permissions``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.i18n import interface_language
from app.models import (
    AuditAction,
    BookedVia,
    Booking,
    BookingStatus,
    Consent,
    ConsentMethod,
    ConsentScope,
    ConsultationHours,
    ContactMethod,
    Course,
    Mode,
    Organisation,
    OutboxMessage,
    Referral,
    ReferralKind,
    ReferralNote,
    ReferralProfile,
    ReferralStatus,
    Role,
    Topic,
    Urgency,
    User,
)
from app.models.referral import OPEN_STATUSES
from app.permissions import Action, can, visible_referrals
from app.services import DomainError, audit, courses, finder, outbox
from app.services import booking as booking_service
from app.services.booking import PHONE, ResidentDetails, contains_bsn

# Words that announce a secret, followed by something that looks like one: a value with a
# digit in it, or a word that is not plain lower-case text after ":" or "=". "Forgot her
# DigiD password" is a question and passes; "wachtwoord: Zomer2024" and "pincode 4821" do not.
_SECRET_WORDS = (
    r"wachtwoord|password|passwort|paswoord|inlogcode|inloggegevens|login\s?code|"
    r"digid[\s-]?code|activeringscode|activation\s?code|sms[\s-]?code|verificatiecode|"
    r"controlecode|pin[\s-]?code|pin"
)
_SECRET = re.compile(
    rf"\b(?:{_SECRET_WORDS})\b\s*(?P<sep>[:=]|\b(?:is|was|luidt)\b)?\s*(?P<value>\S+)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ALLOWED_STATUS_CHANGES: dict[ReferralStatus, list[ReferralStatus]] = {
    ReferralStatus.RECEIVED: [
        ReferralStatus.IN_CONTACT,
        ReferralStatus.DONE,
        ReferralStatus.NOT_REACHED,
        ReferralStatus.DECLINED,
    ],
    ReferralStatus.IN_CONTACT: [
        ReferralStatus.DONE,
        ReferralStatus.NOT_REACHED,
        ReferralStatus.DECLINED,
    ],
}
# A course place is given back when the resident will not come.
RELEASES_COURSE_PLACE = {ReferralStatus.NOT_REACHED, ReferralStatus.DECLINED}
HOURS_DAYS = 28


class ConsentMissing(DomainError):
    """A warm handover without the resident's two yes's."""


class RefusedText(DomainError):
    """Free text holding something that must never be in a referral."""


class NotPossible(DomainError):
    """The referral is not in a state that allows this."""


# Checks on free text -----------------------------------------------------------------------


def contains_credentials(text: str) -> bool:
    """Whether a text seems to hold a password, PIN, DigiD or SMS code."""
    for match in _SECRET.finditer(text or ""):
        value = match.group("value").strip(".,;!?\"'()")
        if len(value) < 4:
            continue
        if any(c.isdigit() for c in value):
            return True
        # "password=..." is always a value; after "password:" a word is suspect when it
        # does not look like plain text ("wachtwoord: vergeten" passes).
        if match.group("sep") == "=":
            return True
        if match.group("sep") == ":" and not (value.isalpha() and value[1:].islower()):
            return True
    return False


def check_text(text: str, field: str) -> None:
    """Refuse a BSN-like number or credentials in free text, saying why."""
    if contains_bsn(text):
        raise RefusedText(
            _(
                "This text contains a number of nine digits, like a BSN (citizen service "
                "number). A referral must never contain a BSN: the other organisation does not "
                "need it. Remove the number and try again."
            ),
            field,
        )
    if contains_credentials(text):
        raise RefusedText(
            _(
                "This text seems to contain a password, PIN, DigiD code or SMS code. Never "
                "write these down or pass them on: nobody else may use them. Remove it and "
                "try again."
            ),
            field,
        )


# Writing a referral ------------------------------------------------------------------------


@dataclass
class ConsentAnswers:
    """What the resident answered to the consent script, as the staff member recorded it."""

    may_share: bool | None
    may_receive: bool | None
    method: ConsentMethod | None
    scope: ConsentScope
    script_language: str = "nl"

    @property
    def given(self) -> bool:
        return bool(self.may_share and self.may_receive and self.method)


@dataclass
class ReferralDraft:
    to_organisation: Organisation
    kind: ReferralKind
    topic: Topic | None
    urgency: Urgency = Urgency.NORMAL
    language: str = "nl"
    contact_method: ContactMethod | None = None
    resident_name: str = ""
    phone: str = ""
    email: str = ""
    request: str = ""
    course: Course | None = None


def script_language(language: str) -> str:
    """The language the consent script and slip can be shown in: the resident's, or Dutch."""
    return interface_language(language)


def scope_for(course: Course | None, with_appointment: bool) -> ConsentScope:
    if course is not None:
        return ConsentScope.COURSE
    return ConsentScope.APPOINTMENT if with_appointment else ConsentScope.CONTACT


def check_receiver(to: Organisation, by: User, course: Course | None) -> None:
    """The receiving organisation takes referrals (and the course, if any, is theirs)."""
    if not to.active:
        raise NotPossible(_("This organisation takes no referrals at the moment."))
    if course is not None:
        if course.organisation_id != to.id:
            raise NotPossible(_("This course is not offered by this organisation."))
        if not course.open_for_referrals:
            raise courses.CourseClosed(_("This course takes no new residents."))
    elif to.id == by.organisation_id:
        raise NotPossible(_("You cannot refer a resident to your own organisation."))


def check_consent(answers: ConsentAnswers | None) -> None:
    """A warm handover needs both yes's and how they were given."""
    if answers is None or not (answers.may_share and answers.may_receive):
        raise ConsentMissing(
            _(
                "Without the resident's consent to both questions nothing may be passed on. "
                "You can still signpost: give the resident the address to contact them "
                "themselves."
            )
        )
    if answers.method is None:
        raise ConsentMissing(_("Please say how the resident gave consent."), "method")


def _check_details(draft: ReferralDraft) -> None:
    if not draft.resident_name.strip():
        raise DomainError(_("Please fill in the resident's first name or initials."), "name")
    phone, email = draft.phone.strip(), draft.email.strip()
    if phone and not PHONE.match(phone):
        raise DomainError(_("This phone number is not correct."), "phone")
    if email and not _EMAIL.match(email):
        raise DomainError(_("This email address is not correct."), "email")
    if not (phone or email):
        raise DomainError(
            _(
                "Please give a phone number or an email address, so that they can reach the "
                "resident."
            ),
            "phone",
        )
    if draft.contact_method in (ContactMethod.PHONE, ContactMethod.TEXT_MESSAGE) and not phone:
        raise DomainError(_("Please give the phone number to call or text."), "phone")
    if draft.contact_method is ContactMethod.EMAIL and not email:
        raise DomainError(_("Please give the email address to write to."), "email")
    for field, text in (("request", draft.request), ("name", draft.resident_name)):
        check_text(text, field)


def create(draft: ReferralDraft, by: User, consent: ConsentAnswers | None = None) -> Referral:
    """Write a referral: a warm handover only with consent, signposting with nothing personal.

    A referral to a course puts a warm-handover resident on its participant or waiting list.
    """
    return booking_service.retry_on_lock(lambda: _create(draft, by, consent))


def _create(draft: ReferralDraft, by: User, consent: ConsentAnswers | None) -> Referral:
    check_receiver(draft.to_organisation, by, draft.course)
    if draft.topic is None or not draft.topic.active:
        raise DomainError(_("Please choose a topic."), "topic")
    if draft.course is not None and draft.kind is ReferralKind.WARM:
        # The course's row lock first, before the referral row's key-share lock on it:
        # taking both the other way round deadlocks two referrals to one course.
        courses.lock(draft.course)
    now = clock.now()
    referral = Referral(
        kind=draft.kind,
        from_organisation_id=by.organisation_id,
        to_organisation=draft.to_organisation,
        created_by=by,
        topic=draft.topic,
        course=draft.course,
        urgency=draft.urgency,
        language=draft.language or "nl",
        status_changed_at=now,
    )
    if draft.kind is ReferralKind.WARM:
        check_consent(consent)
        expected = scope_for(draft.course, consent.scope is ConsentScope.APPOINTMENT)
        if consent.scope is not expected:
            raise ConsentMissing(_("The consent does not cover this referral."), "scope")
        _check_details(draft)
        referral.status = ReferralStatus.RECEIVED
        referral.contact_method = draft.contact_method or (
            ContactMethod.PHONE if draft.phone.strip() else ContactMethod.EMAIL
        )
        referral.resident_name = draft.resident_name.strip()
        referral.phone = draft.phone.strip()
        referral.email = draft.email.strip()
        referral.request = draft.request.strip()
        referral.consent = Consent(
            receiving_organisation=draft.to_organisation,
            asked_by=by,
            asked_at=now,
            method=consent.method,
            scope=consent.scope,
            script_language=consent.script_language,
            may_share=True,
            may_receive=True,
        )
    else:
        # Signposting passes nothing on, so nothing personal is kept (the database agrees).
        referral.status = ReferralStatus.SIGNPOSTED
        referral.closed_at = now
    db.session.add(referral)
    db.session.flush()
    audit.record(by, AuditAction.CREATE, referral, referral.kind.value)
    if draft.course is not None and draft.kind is ReferralKind.WARM:
        enrolment = courses.enrol(draft.course, referral)
        audit.record(by, AuditAction.ENROL, referral, enrolment.status.value)
    db.session.flush()
    return referral


# Reading -----------------------------------------------------------------------------------


def get_visible(user: User, referral_id: int) -> Referral | None:
    """The referral if the user may see it (through the one visibility rule), else None."""
    return db.session.scalar(visible_referrals(user).where(Referral.id == referral_id))


def record_view(referral: Referral, user: User, detail: str = "") -> None:
    """Showing a referral's personal data (its page, a course list) is written to the log."""
    audit.record(user, AuditAction.VIEW, referral, detail)


def record_print(referral: Referral, user: User, what: str) -> None:
    audit.record(user, AuditAction.PRINT, referral, what)


def may_read_notes(user: User, referral: Referral) -> bool:
    """Internal notes are the receiver's: never shown to the sender."""
    return can(user, Action.HANDLE_REFERRAL, referral)


def status_history(referral: Referral) -> list[tuple[ReferralStatus, datetime]]:
    """The statuses and when they were set: what the sender may know of the receiver's work."""
    history = [
        (
            ReferralStatus.SIGNPOSTED
            if referral.kind is ReferralKind.SIGNPOST
            else ReferralStatus.RECEIVED,
            referral.created_at,
        )
    ]
    history += [(n.status, n.created_at) for n in referral.notes if n.status is not None]
    return history


INBOX_FILTERS = ("open", "received", "in_contact", "closed", "signposted", "all")


def inbox(user: User, status: str = "open", topic: Topic | None = None) -> sa.Select:
    """Referrals sent to the user's organisation (through the one visibility rule)."""
    query = visible_referrals(user).where(Referral.to_organisation_id == user.organisation_id)
    query = _filter(query, status, topic)
    return query.order_by(_urgency_order(), Referral.created_at.desc())


def sent(user: User, status: str = "all", topic: Topic | None = None) -> sa.Select:
    """Referrals the user's organisation sent (a volunteer's: those they wrote)."""
    query = visible_referrals(user).where(Referral.from_organisation_id == user.organisation_id)
    return _filter(query, status, topic).order_by(Referral.created_at.desc())


def _filter(query: sa.Select, status: str, topic: Topic | None) -> sa.Select:
    match status:
        case "open":
            query = query.where(Referral.status.in_(OPEN_STATUSES))
        case "closed":
            query = query.where(
                Referral.status.in_(
                    [
                        ReferralStatus.DONE,
                        ReferralStatus.NOT_REACHED,
                        ReferralStatus.DECLINED,
                        ReferralStatus.WITHDRAWN,
                    ]
                )
            )
        case "all":
            pass
        case _:
            query = query.where(Referral.status == ReferralStatus(status))
    if topic is not None:
        query = query.where(Referral.topic_id == topic.id)
    return query


def _urgency_order():
    return sa.case(
        (Referral.urgency == Urgency.URGENT, 0), (Referral.urgency == Urgency.SOON, 1), else_=2
    )


def inbox_count(user: User) -> int:
    """New referrals waiting for the user's organisation (for those who handle them)."""
    if user.role not in (Role.ORG_ADMIN, Role.STAFF):
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(
            visible_referrals(user)
            .where(
                Referral.to_organisation_id == user.organisation_id,
                Referral.status == ReferralStatus.RECEIVED,
            )
            .subquery()
        )
    )


def network_counts() -> list[dict]:
    """Counts per receiving organisation and status: no contents (for the coordinator)."""
    rows = db.session.execute(
        sa.select(
            Referral.to_organisation_id, Referral.kind, Referral.status, sa.func.count()
        ).group_by(Referral.to_organisation_id, Referral.kind, Referral.status)
    ).all()
    orgs = {o.id: o for o in db.session.scalars(sa.select(Organisation))}
    table: dict[int, dict] = {}
    for org_id, kind, status, count in rows:
        row = table.setdefault(
            org_id, {"organisation": orgs[org_id], "total": 0, "warm": 0, "statuses": {}}
        )
        row["total"] += count
        if kind is ReferralKind.WARM:
            row["warm"] += count
        row["statuses"][status] = row["statuses"].get(status, 0) + count
    return sorted(table.values(), key=lambda r: r["organisation"].name)


def topic_counts() -> list[tuple[Topic, int]]:
    rows = db.session.execute(
        sa.select(Topic, sa.func.count(Referral.id))
        .join(Referral, Referral.topic_id == Topic.id)
        .group_by(Topic.id)
        .order_by(Topic.sort_order, Topic.name_nl)
    ).all()
    return [(topic, count) for topic, count in rows]


# The receiver's loop -----------------------------------------------------------------------


def update(
    referral: Referral, by: User, status: ReferralStatus | None = None, note: str = ""
) -> ReferralNote:
    """Move the referral on (received → in contact → done / not reached / declined) and/or
    keep a short internal note. The sender sees the status, never the note."""
    note = (note or "").strip()
    if referral.status is ReferralStatus.WITHDRAWN:
        raise NotPossible(_("The resident withdrew consent. Nothing more can be added."))
    if referral.kind is ReferralKind.SIGNPOST:
        raise NotPossible(_("The resident was only given your address: there is nothing to do."))
    if status is None and not note:
        raise DomainError(_("Please choose a new status or write a note."), "note")
    if note and referral.is_erased:
        # A note is about the resident, and nothing erases an erased referral again: after
        # the retention period only the status can still be set. (No field: the page shows
        # no note field then.)
        raise NotPossible(_("The resident's details were erased after the retention period."))
    check_text(note, "note")
    now = clock.now()
    if status is not None:
        if status not in ALLOWED_STATUS_CHANGES.get(referral.status, []):
            raise NotPossible(_("This change of status is not possible."), "status")
        old = referral.status
        referral.status = status
        referral.status_changed_at = now
        if status not in OPEN_STATUSES:
            referral.closed_at = now
        if status in RELEASES_COURSE_PLACE and referral.enrolment is not None:
            courses.remove(referral.enrolment)
        audit.record(by, AuditAction.STATUS, referral, f"{old.value} > {status.value}")
    # On the same clock as the status: the retention of open referrals counts from both.
    entry = ReferralNote(referral=referral, author=by, status=status, text=note, created_at=now)
    db.session.add(entry)
    if status is None:
        audit.record(by, AuditAction.NOTE, referral)
    db.session.flush()
    return entry


def withdraw_consent(referral: Referral, by: User) -> None:
    """The resident withdrew consent: erase their data at once, here and in what was made
    with it (a future appointment is cancelled, a course place given back). The receiver
    sees that consent was withdrawn."""
    if not referral.consent_active:
        raise NotPossible(_("There is no consent to withdraw."))
    now = clock.now()
    referral.consent.withdrawn_at = now
    referral.consent.withdrawn_by = by
    booking = referral.booking
    if booking is not None:
        if booking.status is BookingStatus.BOOKED and booking.slot_start > now:
            booking_service.cancel(booking, version=None, by=by)
        _erase_booking(booking, now)
    if referral.enrolment is not None:
        courses.remove(referral.enrolment)
    erase_personal_data(referral, now)
    referral.status = ReferralStatus.WITHDRAWN
    referral.status_changed_at = now
    referral.closed_at = referral.closed_at or now
    db.session.add(ReferralNote(referral=referral, author=by, status=ReferralStatus.WITHDRAWN))
    audit.record(by, AuditAction.WITHDRAW, referral)
    db.session.flush()


def erase_personal_data(referral: Referral, now: datetime) -> None:
    """Blank the resident's details and the receiver's notes about them, and delete the mail
    about the course place made from the referral (sent or not: it has the name in it);
    counts remain."""
    if referral.enrolment is not None:
        # What was sent about the course place goes at once too; the counts stay.
        outbox.erase(OutboxMessage.enrolment_id == referral.enrolment.id)
    referral.resident_name = ""
    referral.phone = ""
    referral.email = ""
    referral.request = ""
    referral.personal_data_erased_at = now
    for note in referral.notes:
        note.text = ""


def _erase_booking(booking: Booking, now: datetime) -> None:
    booking.name = ""
    booking.phone = ""
    booking.email = ""
    booking.question = ""
    booking.needs_interpreter = False
    booking.needs_wheelchair = False
    booking.personal_data_erased_at = now
    booking.version += 1


# Warm handover into a slot -----------------------------------------------------------------


def bookable_series(referral: Referral) -> list[ConsultationHours]:
    """The receiver's published appointment hours."""
    return list(
        db.session.scalars(
            finder.public_series_query()
            .where(
                ConsultationHours.provider_id == referral.to_organisation_id,
                ConsultationHours.mode != Mode.WALK_IN,
            )
            .order_by(ConsultationHours.title)
        )
    )


def check_can_book(referral: Referral) -> None:
    """A time may be booked for an open warm handover whose consent covers an appointment."""
    if referral.kind is not ReferralKind.WARM or not referral.consent_active:
        raise NotPossible(_("Only a warm handover with consent can be booked into a time."))
    if referral.consent.scope is not ConsentScope.APPOINTMENT:
        raise NotPossible(_("The resident did not consent to an appointment being made for them."))
    if not referral.is_open:
        raise NotPossible(_("This referral is closed."))
    if referral.is_erased:
        raise NotPossible(_("The resident's details were erased after the retention period."))
    if referral.booking is not None and referral.booking.is_active:
        raise NotPossible(_("An appointment has already been made for this referral."))


def free_times(referral: Referral):
    """Free slots of the receiver's hours in the coming four weeks."""
    today = clock.today()
    return booking_service.available_slots(
        bookable_series(referral), today, today + timedelta(days=HOURS_DAYS), staff=True
    )


def book_slot(
    referral: Referral, series: ConsultationHours, slot_start: datetime, by: User
) -> tuple[Booking, str]:
    """Book the resident into a free slot of the receiver's hours, on their behalf."""
    check_can_book(referral)
    if series.provider_id != referral.to_organisation_id or not finder.is_public(series):
        raise NotPossible(_("These hours are not held by the receiving organisation."))
    details = ResidentDetails(
        name=referral.resident_name,
        phone=referral.phone,
        email=referral.email,
        language=referral.language,
        question=referral.request,
    )
    booking, token = booking_service.book(
        series, slot_start, details, by=by, via=BookedVia.REFERRAL
    )
    referral.booking = booking
    audit.record(by, AuditAction.BOOK, referral, booking.slot_start.isoformat(timespec="minutes"))
    db.session.flush()
    return booking, token


# What residents and referring staff need to know about an organisation ----------------------


def profile(organisation: Organisation) -> ReferralProfile:
    """The organisation's referral profile (an empty one when it has none yet)."""
    found = db.session.get(ReferralProfile, organisation.id)
    return found or ReferralProfile(
        organisation_id=organisation.id, not_offered="", how_to_contact="", what_to_bring=""
    )


def save_profile(
    organisation: Organisation, not_offered: str, how_to_contact: str, what_to_bring: str
) -> ReferralProfile:
    """Keep what the organisation does not do, how residents reach it, and what to bring."""
    found = db.session.get(ReferralProfile, organisation.id)
    if found is None:
        found = ReferralProfile(organisation_id=organisation.id)
        db.session.add(found)
    found.not_offered = not_offered.strip()
    found.how_to_contact = how_to_contact.strip()
    found.what_to_bring = what_to_bring.strip()
    db.session.flush()
    return found


def public_hours(organisation: Organisation) -> list[ConsultationHours]:
    """The hours the organisation holds that residents can see."""
    return list(
        db.session.scalars(
            finder.public_series_query()
            .where(ConsultationHours.provider_id == organisation.id)
            .order_by(ConsultationHours.title)
        )
    )


def receiving_organisations(by: User) -> list[Organisation]:
    """Organisations a referral can go to: every active one but the user's own."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.active, Organisation.id != by.organisation_id)
            .order_by(Organisation.name)
        )
    )
