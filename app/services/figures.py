"""The figures: counts of contacts, questions, referrals, appointments and courses for an
organisation, a location or the whole network, over a period of local dates.

Every count is a ``GROUP BY`` in the database over indexed columns: questions and
registrations carry their organisation, location and local day, so a period is a range scan
of ``(organisation_id, day)`` or ``(location_id, day)``. Weeks and months are folded from the
counts per day in Python, which costs one row per day of the period, never one per
registration, and works alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models import (
    Attendance,
    Booking,
    BookingStatus,
    Channel,
    ConsultationHours,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    HowHelped,
    Location,
    MessageChannel,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    OutsideBody,
    Referral,
    ReferralNote,
    ReferralStatus,
    RegisteredQuestion,
    Registration,
    Topic,
)

PERIOD_KINDS = ("month", "quarter", "year", "range")
# The longest from–to period: ten years of days folded into weeks is still cheap.
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class Scope:
    """Whose figures: an organisation's own, a location's (every hours held there), or the
    network's (``kind == "network"``, no id)."""

    kind: str
    id: int | None = None
    name: str = ""

    @classmethod
    def of(cls, obj: Organisation | Location | None) -> Scope:
        if obj is None:
            return cls("network")
        kind = "organisation" if isinstance(obj, Organisation) else "location"
        return cls(kind, obj.id, obj.name)


@dataclass(frozen=True)
class Period:
    """Local dates from ``first`` to ``last``, both included."""

    kind: str
    first: date
    last: date

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The instants where the period's first day starts and the day after it ends."""
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        start = datetime.combine(self.first, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_for(kind: str, anchor: date, last: date | None = None) -> Period:
    """The month, quarter or year that holds ``anchor``, or the range ``anchor``–``last``."""
    if kind == "quarter":
        first_month = 3 * ((anchor.month - 1) // 3) + 1
        first = anchor.replace(month=first_month, day=1)
        end_month = first_month + 2
        return Period(
            kind, first, first.replace(month=end_month, day=_month_days(first.year, end_month))
        )
    if kind == "year":
        return Period(kind, anchor.replace(month=1, day=1), anchor.replace(month=12, day=31))
    if kind == "range" and last is not None:
        first, last = sorted((anchor, last))
        return Period(kind, first, min(last, first + timedelta(days=MAX_PERIOD_DAYS - 1)))
    first = anchor.replace(day=1)
    return Period("month", first, first.replace(day=_month_days(first.year, first.month)))


def _month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass
class Row:
    """One line of a table: what is counted, and how many."""

    key: str
    label: str
    count: int


@dataclass
class TimeRow:
    start: date  # the Monday of the week, or the first of the month
    contacts: int
    questions: int


@dataclass
class LoopRow:
    """Referrals of one organisation with one other, by status (the closed loop)."""

    organisation: str
    total: int
    by_status: dict[ReferralStatus, int]


@dataclass
class Referrals:
    sent: list[LoopRow]
    received: list[LoopRow]
    sent_total: int
    received_total: int
    # Days from a referral received to its first contact (mean), or None without contacts.
    days_to_first_contact: float | None
    contacted: int


@dataclass
class AppointmentRow:
    label: str
    booked: int
    attended: int
    no_show: int

    @property
    def no_show_rate(self) -> float | None:
        """The share of the appointments marked at the desk where the resident did not come,
        in percent (one decimal); None while none was marked. It only counts: nobody is
        ever refused an appointment for not coming."""
        marked = self.attended + self.no_show
        return round(100 * self.no_show / marked, 1) if marked else None


@dataclass
class CourseRow:
    """A course with a session in the period: its participants and waiting list now, the
    period's sessions held (not cancelled, up to today) and the attendance marked at them."""

    title: str
    participants: int
    waiting: int
    organisation: str = ""
    sessions_held: int = 0
    present: int = 0
    absent: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """The share of marks that were "came"; None when nobody was marked."""
        marked = self.present + self.absent
        return self.present / marked if marked else None


@dataclass
class CourseOrganisationRow(CourseRow):
    """The courses of one organisation added up (``title`` is the organisation)."""

    courses: int = 0

    @property
    def label(self) -> str:
        return self.title


@dataclass
class MessageRow:
    """Messages to residents written in the period, per channel, by how they went."""

    channel: MessageChannel
    sent: int
    retrying: int
    given_up: int


@dataclass
class Figures:
    scope: Scope
    period: Period
    contacts: int
    questions: int
    weeks: list[TimeRow]
    months: list[TimeRow]
    categories: list[Row]
    channels: list[Row]
    locations: list[Row]
    how_helped: list[Row]
    referred_to: list[Row]
    referrals: Referrals | None
    appointments_by_series: list[AppointmentRow]
    appointments_by_provider: list[AppointmentRow]
    courses: list[CourseRow] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    course_organisations: list[CourseOrganisationRow] = field(default_factory=list)


def _in_scope(model, scope: Scope):
    """The scope's condition on a model with ``organisation_id``, ``location_id`` and ``day``."""
    if scope.kind == "organisation":
        return model.organisation_id == scope.id
    if scope.kind == "location":
        return model.location_id == scope.id
    # The network: every location, so that the (location_id, day) index serves the range of
    # days here too (there is no index on the day alone, and none is needed).
    return model.location_id.in_(_all_locations())


def _all_locations() -> list[int]:
    return list(db.session.scalars(sa.select(Location.id)))


def _in_period(model, period: Period):
    return model.day.between(period.first, period.last)


def per_day(scope: Scope, period: Period) -> dict[date, tuple[int, int]]:
    """Contacts and questions per local day of the period (days without any left out)."""
    contacts = db.session.execute(
        sa.select(Registration.day, sa.func.count())
        .where(_in_scope(Registration, scope), _in_period(Registration, period))
        .group_by(Registration.day)
    ).all()
    questions = db.session.execute(
        sa.select(RegisteredQuestion.day, sa.func.count())
        .where(_in_scope(RegisteredQuestion, scope), _in_period(RegisteredQuestion, period))
        .group_by(RegisteredQuestion.day)
    ).all()
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, count in contacts:
        days[day][0] = count
    for day, count in questions:
        days[day][1] = count
    return {day: (c, q) for day, (c, q) in days.items()}


def time_unit(period: Period) -> str:
    """Weeks for a period up to a quarter, months for a longer one."""
    return "month" if period.days > 92 else "week"


def fold(days: dict[date, tuple[int, int]], period: Period, unit: str) -> list[TimeRow]:
    """Days folded into weeks (starting Monday) or months, every one of the period listed."""

    def start_of(day: date) -> date:
        if unit == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    rows: dict[date, TimeRow] = {}
    day = start_of(period.first)
    while day <= period.last:
        rows[day] = TimeRow(day, 0, 0)
        if unit == "week":
            day += timedelta(days=7)
        else:
            day = (day + timedelta(days=32)).replace(day=1)
    for day, (contacts, questions) in days.items():
        row = rows[start_of(day)]
        row.contacts += contacts
        row.questions += questions
    return list(rows.values())


def _counted(query) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(query).all()]


def by_category(scope: Scope, period: Period, language: str) -> list[Row]:
    """Questions per category (topic), most asked first."""
    counts = _counted(
        sa.select(RegisteredQuestion.topic_id, sa.func.count())
        .where(_in_scope(RegisteredQuestion, scope), _in_period(RegisteredQuestion, period))
        .group_by(RegisteredQuestion.topic_id)
    )
    topics = {
        t.id: t
        for t in db.session.scalars(sa.select(Topic).where(Topic.id.in_([c[0] for c in counts])))
    }
    rows = [Row(str(tid), topics[tid].name(language), n) for tid, n in counts]
    return sorted(rows, key=lambda r: (-r.count, r.label))


def by_channel(scope: Scope, period: Period) -> list[Row]:
    """Contacts per channel, in the registration form's order (every channel listed)."""
    counts = dict(
        _counted(
            sa.select(Registration.channel, sa.func.count())
            .where(_in_scope(Registration, scope), _in_period(Registration, period))
            .group_by(Registration.channel)
        )
    )
    return [Row(c.value, c.value, counts.get(c, 0)) for c in Channel]


def by_how_helped(scope: Scope, period: Period) -> list[Row]:
    """Questions per way the resident was helped (every way listed)."""
    counts = dict(
        _counted(
            sa.select(RegisteredQuestion.how_helped, sa.func.count())
            .where(_in_scope(RegisteredQuestion, scope), _in_period(RegisteredQuestion, period))
            .group_by(RegisteredQuestion.how_helped)
        )
    )
    return [Row(h.value, h.value, counts.get(h, 0)) for h in HowHelped]


def by_location(scope: Scope, period: Period) -> list[Row]:
    """Questions per location where they were asked."""
    counts = _counted(
        sa.select(RegisteredQuestion.location_id, sa.func.count())
        .where(_in_scope(RegisteredQuestion, scope), _in_period(RegisteredQuestion, period))
        .group_by(RegisteredQuestion.location_id)
    )
    names = dict(
        _counted(
            sa.select(Location.id, Location.name).where(Location.id.in_([c[0] for c in counts]))
        )
    )
    return sorted(
        (Row(str(lid), names[lid], n) for lid, n in counts), key=lambda r: (-r.count, r.label)
    )


def referred_to(scope: Scope, period: Period) -> list[Row]:
    """Questions referred, per receiver: an organisation of the network or an outside body."""
    counts = _counted(
        sa.select(
            RegisteredQuestion.referred_organisation_id,
            RegisteredQuestion.outside_body_id,
            sa.func.count(),
        )
        .where(
            _in_scope(RegisteredQuestion, scope),
            _in_period(RegisteredQuestion, period),
            RegisteredQuestion.how_helped == HowHelped.REFERRED,
        )
        .group_by(RegisteredQuestion.referred_organisation_id, RegisteredQuestion.outside_body_id)
    )
    organisations = dict(
        _counted(
            sa.select(Organisation.id, Organisation.name).where(
                Organisation.id.in_([c[0] for c in counts if c[0]])
            )
        )
    )
    bodies = dict(
        _counted(
            sa.select(OutsideBody.id, OutsideBody.name).where(
                OutsideBody.id.in_([c[1] for c in counts if c[1]])
            )
        )
    )
    rows = [
        Row(f"o{org}" if org else f"b{body}", organisations.get(org) or bodies.get(body, ""), n)
        for org, body, n in counts
    ]
    return sorted(rows, key=lambda r: (-r.count, r.label))


def _days_between(start, end):
    """Days from one instant column to another, as the database computes it."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(end) - sa.func.julianday(start)
    return sa.extract("epoch", end - start) / 86400.0


def referrals(scope: Scope, period: Period) -> Referrals | None:
    """Referrals written in the period, sent and received, by the other organisation and by
    status; and the mean days from received to first contact. Referrals belong to
    organisations, not locations: a location's figures have none."""
    if scope.kind == "location":
        return None
    start, end = period.utc_bounds()
    in_period = Referral.created_at >= start, Referral.created_at < end

    def loop(own_column, other_column) -> tuple[list[LoopRow], int]:
        query = sa.select(other_column, Referral.status, sa.func.count()).where(*in_period)
        if scope.kind == "organisation":
            query = query.where(own_column == scope.id)
        counts = _counted(query.group_by(other_column, Referral.status))
        names = dict(
            _counted(
                sa.select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_({c[0] for c in counts})
                )
            )
        )
        rows: dict[int, LoopRow] = {}
        for other, status, n in counts:
            row = rows.setdefault(other, LoopRow(names[other], 0, {}))
            row.total += n
            row.by_status[status] = row.by_status.get(status, 0) + n
        ordered = sorted(rows.values(), key=lambda r: (-r.total, r.organisation))
        return ordered, sum(r.total for r in ordered)

    sent, sent_total = loop(Referral.from_organisation_id, Referral.to_organisation_id)
    received, received_total = loop(Referral.to_organisation_id, Referral.from_organisation_id)
    of_period = sa.select(Referral.id).where(*in_period)
    if scope.kind == "organisation":
        of_period = of_period.where(Referral.to_organisation_id == scope.id)
    first_contact = (
        sa.select(ReferralNote.referral_id, sa.func.min(ReferralNote.created_at).label("at"))
        .where(
            ReferralNote.referral_id.in_(of_period),  # the period's notes only, not history
            ReferralNote.status.in_([ReferralStatus.IN_CONTACT, ReferralStatus.DONE]),
        )
        .group_by(ReferralNote.referral_id)
        .subquery()
    )
    query = (
        sa.select(
            sa.func.count(), sa.func.avg(_days_between(Referral.created_at, first_contact.c.at))
        )
        .join(first_contact, first_contact.c.referral_id == Referral.id)
        .where(*in_period)
    )
    if scope.kind == "organisation":
        query = query.where(Referral.to_organisation_id == scope.id)
    contacted, mean_days = db.session.execute(query).one()
    return Referrals(
        sent,
        received,
        sent_total,
        received_total,
        float(mean_days) if mean_days is not None else None,
        contacted,
    )


def appointments(scope: Scope, period: Period) -> tuple[list[AppointmentRow], list[AppointmentRow]]:
    """Appointments in the period (not cancelled) per series and per provider: booked,
    attended and not attended (and so the rate of not attended). A location counts every
    hours held there."""
    start, end = period.utc_bounds()
    query = (
        sa.select(
            ConsultationHours.id,
            ConsultationHours.title,
            Organisation.name,
            Booking.status,
            sa.func.count(),
        )
        .join(Booking.series)
        .join(Organisation, Organisation.id == ConsultationHours.provider_id)
        .where(
            Booking.slot_start >= start,
            Booking.slot_start < end,
            # Appointments only: not cancelled ones, nor seats held for the waiting list.
            Booking.status.in_(
                [BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW]
            ),
        )
        .group_by(ConsultationHours.id, ConsultationHours.title, Organisation.name, Booking.status)
    )
    if scope.kind == "organisation":
        query = query.where(ConsultationHours.provider_id == scope.id)
    elif scope.kind == "location":
        query = query.where(ConsultationHours.location_id == scope.id)
    series: dict[int, AppointmentRow] = {}
    providers: dict[str, AppointmentRow] = {}
    for series_id, title, provider, status, n in _counted(query):
        for row in (
            series.setdefault(series_id, AppointmentRow(f"{title} ({provider})", 0, 0, 0)),
            providers.setdefault(provider, AppointmentRow(provider, 0, 0, 0)),
        ):
            row.booked += n
            row.attended += n if status is BookingStatus.ATTENDED else 0
            row.no_show += n if status is BookingStatus.NO_SHOW else 0

    def ordered(rows) -> list[AppointmentRow]:
        return sorted(rows, key=lambda r: (-r.booked, r.label))

    return ordered(series.values()), ordered(providers.values())


def _course_scope(query, scope: Scope):
    if scope.kind == "organisation":
        return query.where(Course.organisation_id == scope.id)
    if scope.kind == "location":
        return query.where(Course.location_id == scope.id)
    return query


def courses(scope: Scope, period: Period) -> list[CourseRow]:
    """Courses with a (not cancelled) session in the period: participants and waiting list,
    sessions held and attendance marked in the period.

    Three ``GROUP BY`` queries over the period's sessions (indexed by date): the lists per
    course, the sessions held per course, and the attendance marks per course.
    """
    in_period = sa.and_(
        CourseSession.date.between(period.first, period.last),
        CourseSession.cancelled_at.is_(None),
    )
    given = sa.exists().where(CourseSession.course_id == Course.id, in_period)
    lists = _course_scope(
        sa.select(
            Course.id,
            Course.title,
            Organisation.name,
            Enrolment.status,
            sa.func.count(Enrolment.id),
        )
        .join(Organisation, Organisation.id == Course.organisation_id)
        .outerjoin(Enrolment, Enrolment.course_id == Course.id)
        .where(given)
        .group_by(Course.id, Course.title, Organisation.name, Enrolment.status),
        scope,
    )
    rows: dict[int, CourseRow] = {}
    for course_id, title, organisation, status, n in _counted(lists):
        row = rows.setdefault(course_id, CourseRow(title, 0, 0, organisation))
        row.participants += n if status is EnrolmentStatus.PARTICIPANT else 0
        row.waiting += n if status is EnrolmentStatus.WAITING else 0
    held = _course_scope(
        sa.select(CourseSession.course_id, sa.func.count())
        .join(Course, Course.id == CourseSession.course_id)
        .where(in_period, CourseSession.date <= clock.today())
        .group_by(CourseSession.course_id),
        scope,
    )
    for course_id, n in _counted(held):
        if course_id in rows:
            rows[course_id].sessions_held = n
    marks = _course_scope(
        sa.select(CourseSession.course_id, Attendance.present, sa.func.count())
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(in_period)
        .group_by(CourseSession.course_id, Attendance.present),
        scope,
    )
    for course_id, present, n in _counted(marks):
        if course_id in rows:
            if present:
                rows[course_id].present += n
            else:
                rows[course_id].absent += n
    return sorted(rows.values(), key=lambda r: (r.organisation, r.title))


def course_organisations(rows: list[CourseRow]) -> list[CourseOrganisationRow]:
    """The period's courses added up per organisation that gave them."""
    totals: dict[str, CourseOrganisationRow] = {}
    for row in rows:
        total = totals.setdefault(
            row.organisation, CourseOrganisationRow(row.organisation, 0, 0, row.organisation)
        )
        total.courses += 1
        total.participants += row.participants
        total.waiting += row.waiting
        total.sessions_held += row.sessions_held
        total.present += row.present
        total.absent += row.absent
    return sorted(totals.values(), key=lambda r: r.title)


def messages(scope: Scope, period: Period) -> list[MessageRow]:
    """Messages to residents written in the period per channel: sent, failed and waiting
    for another try, given up. An organisation's are those about its hours and courses; a
    location's those about the hours and courses held there."""
    start, end = period.utc_bounds()
    tried = sa.case((OutboxMessage.attempts > 0, 1), else_=0).label("tried")
    query = (
        sa.select(OutboxMessage.channel, OutboxMessage.status, tried, sa.func.count())
        .where(OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
        .group_by(OutboxMessage.channel, OutboxMessage.status, tried)
    )
    if scope.kind in ("organisation", "location"):
        hours = (
            ConsultationHours.provider_id
            if scope.kind == "organisation"
            else (ConsultationHours.location_id)
        )
        course = Course.organisation_id if scope.kind == "organisation" else Course.location_id
        bookings = sa.select(Booking.id).join(Booking.series).where(hours == scope.id)
        enrolments = (
            sa.select(Enrolment.id)
            .join(Course, Enrolment.course_id == Course.id)
            .where(course == scope.id)
        )
        query = query.where(
            sa.or_(
                OutboxMessage.booking_id.in_(bookings),
                OutboxMessage.enrolment_id.in_(enrolments),
            )
        )
    rows: dict[MessageChannel, MessageRow] = {}
    for channel, status, tried, n in _counted(query):
        row = rows.setdefault(channel, MessageRow(channel, 0, 0, 0))
        if status is OutboxStatus.SENT:
            row.sent += n
        elif status is OutboxStatus.FAILED:
            row.given_up += n
        elif tried:
            row.retrying += n
    return [rows[c] for c in MessageChannel if c in rows]


def figures(scope: Scope, period: Period, language: str) -> Figures:
    """Everything the figures page and the report show."""
    days = per_day(scope, period)
    by_series, by_provider = appointments(scope, period)
    course_rows = courses(scope, period)
    return Figures(
        scope=scope,
        period=period,
        contacts=sum(c for c, _q in days.values()),
        questions=sum(q for _c, q in days.values()),
        weeks=fold(days, period, "week"),
        months=fold(days, period, "month"),
        categories=by_category(scope, period, language),
        channels=by_channel(scope, period),
        locations=by_location(scope, period),
        how_helped=by_how_helped(scope, period),
        referred_to=referred_to(scope, period),
        referrals=referrals(scope, period),
        appointments_by_series=by_series,
        appointments_by_provider=by_provider,
        courses=course_rows,
        course_organisations=course_organisations(course_rows),
        messages=messages(scope, period),
    )


@dataclass
class Export:
    """The counts for the national registration: per location, category, channel and how
    helped, with the period's totals."""

    contacts: int
    questions: int
    locations: list[Row]
    categories: list[Row]
    channels: list[Row]
    how_helped: list[Row]


def export(scope: Scope, period: Period, language: str) -> Export:
    """What the CSV and XLSX downloads hold: counts only."""
    contacts, questions = db.session.execute(
        sa.select(
            sa.select(sa.func.count())
            .where(_in_scope(Registration, scope), _in_period(Registration, period))
            .scalar_subquery(),
            sa.select(sa.func.count())
            .where(_in_scope(RegisteredQuestion, scope), _in_period(RegisteredQuestion, period))
            .scalar_subquery(),
        )
    ).one()
    # The national form lists every category, also those without questions.
    asked = {r.key: r for r in by_category(scope, period, language)}
    topics = db.session.scalars(sa.select(Topic).order_by(Topic.sort_order, Topic.id)).all()
    categories = [asked.get(str(t.id)) or Row(str(t.id), t.name(language), 0) for t in topics]
    return Export(
        contacts,
        questions,
        by_location(scope, period),
        categories,
        by_channel(scope, period),
        by_how_helped(scope, period),
    )
