"""Who is waiting at a location today: walk-ins and appointments that came, each with a
ticket number, taken one by one by the staff of the organisation whose desk it is.

Two guarantees are the database's: a ticket number is unique per location and day (a
second arrival at the same moment gets the next number), and "take next" is one conditional
UPDATE, so two staff members pressing it at once never get the same visitor (on PostgreSQL
the row is chosen ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at a time).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    Location,
    Mode,
    Registration,
    SeriesStatus,
    Topic,
    User,
    Visit,
    VisitStatus,
)
from app.services import DomainError
from app.services.schedule import occurrences

OPEN_STATUSES = (VisitStatus.WAITING, VisitStatus.BEING_HELPED)
NUMBER_ATTEMPTS = 50


class VisitChanged(DomainError):
    """Someone else took, finished or closed this visit a moment ago."""


def hours_today(location: Location, *, walk_in: bool = False) -> list[ConsultationHours]:
    """Published hours held at the location today (only those one may walk in to)."""
    query = sa.select(ConsultationHours).where(
        ConsultationHours.location_id == location.id,
        ConsultationHours.status == SeriesStatus.PUBLISHED,
    )
    if walk_in:
        query = query.where(ConsultationHours.mode != Mode.APPOINTMENT)
    today = clock.today()
    held = occurrences(db.session.scalars(query).all(), today, today)
    return list({o.series.id: o.series for o in held}.values())


def locations_today(organisation_id: int) -> list[Location]:
    """Locations where the organisation holds or hosts hours today."""
    today = clock.today()
    series = db.session.scalars(
        sa.select(ConsultationHours)
        .join(ConsultationHours.location)
        .where(
            ConsultationHours.status == SeriesStatus.PUBLISHED,
            Location.active.is_(True),
            sa.or_(
                ConsultationHours.provider_id == organisation_id,
                Location.organisation_id == organisation_id,
            ),
        )
    ).all()
    places = {o.series.location.id: o.series.location for o in occurrences(series, today, today)}
    return sorted(places.values(), key=lambda place: place.name)


def _next_number(location_id: int, day) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(Visit.number)).where(
            Visit.location_id == location_id, Visit.day == day
        )
    )
    return (highest or 0) + 1


def _add(visit: Visit) -> Visit:
    """Give the visit the next ticket number of its location and day, and save it.

    Each attempt is an INSERT in a savepoint; the unique constraint makes it fail when
    someone else got that number first, also a millisecond ago, and the next one is tried.
    """
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            with db.session.begin_nested():
                visit.number = _next_number(visit.location_id, visit.day)
                db.session.add(visit)
                db.session.flush()
            return visit
        except sa.exc.IntegrityError:
            continue
    raise DomainError(_("Too many people arrived at once. Please try again."))


def add_walk_in(
    series: ConsultationHours,
    *,
    initials: str = "",
    topic: Topic | None = None,
    now: datetime | None = None,
) -> Visit:
    """Someone came in for the walk-in hours held today: they wait with the next number."""
    if series.id not in {s.id for s in hours_today(series.location, walk_in=True)}:
        raise DomainError(_("These hours are not held here today."), "series")
    now = now or clock.now()
    visit = Visit(
        location_id=series.location_id,
        organisation_id=series.provider_id,
        series_id=series.id,
        initials=initials.strip()[:8],
        topic_id=topic.id if topic else None,
        day=clock.today(),
        status=VisitStatus.WAITING,
        arrived_at=now,
    )
    return _add(visit)


def _local_day(booking: Booking):
    return booking.slot_start.astimezone(ZoneInfo(booking.series.location.timezone)).date()


def appointment_attended(booking: Booking, *, now: datetime | None = None) -> Visit | None:
    """An appointment marked "came" joins the flow: today it waits in the queue; on an
    earlier day it is over, so it only waits to be registered."""
    existing = db.session.scalar(sa.select(Visit).where(Visit.booking_id == booking.id))
    if existing is not None:
        return existing
    day = _local_day(booking)
    if day > clock.today():
        return None
    series = booking.series
    visit = Visit(
        location_id=series.location_id,
        organisation_id=series.provider_id,
        series_id=series.id,
        booking_id=booking.id,
        day=day,
    )
    if day == clock.today():
        visit.status, visit.arrived_at = VisitStatus.WAITING, now or clock.now()
    else:
        visit.status = VisitStatus.FINISHED
        visit.arrived_at = visit.called_at = booking.slot_start
        visit.finished_at = booking.slot_end
    return _add(visit)


def appointment_not_attended(booking: Booking) -> None:
    """Marked "came" by mistake: the visit leaves the queue unless it was registered."""
    visit = db.session.scalar(sa.select(Visit).where(Visit.booking_id == booking.id))
    if visit is None or visit.status is not VisitStatus.WAITING:
        return
    if db.session.scalar(sa.select(Registration.id).where(Registration.visit_id == visit.id)):
        return
    db.session.delete(visit)
    db.session.flush()


def attendance_changed(booking: Booking) -> None:
    """Keep the queue in step with the day list's "came" / "did not come"."""
    if booking.status is BookingStatus.ATTENDED:
        appointment_attended(booking)
    else:
        appointment_not_attended(booking)


def _claim(candidates: sa.Select, by: User, now: datetime) -> Visit | None:
    """Move the first waiting visit of ``candidates`` to "being helped".

    The candidate is chosen and locked first (on PostgreSQL ``FOR UPDATE SKIP LOCKED``: a
    visitor another staff member is taking at this moment is passed over), then changed only
    if it is still waiting: on SQLite the database's single write lock orders two takers, and
    the second finds the visitor no longer waiting.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    chosen = db.session.scalar(candidates)
    if chosen is None:
        return None
    taken = db.session.scalar(
        sa.update(Visit)
        .where(Visit.id == chosen, Visit.status == VisitStatus.WAITING)
        .values(status=VisitStatus.BEING_HELPED, called_at=now, helped_by_id=by.id)
        .returning(Visit.id)
        .execution_options(synchronize_session=False)
    )
    if taken is None:
        return None
    visit = db.session.get(Visit, taken)
    db.session.refresh(visit)
    return visit


def take_next(location: Location, by: User, *, now: datetime | None = None) -> Visit | None:
    """The longest-waiting visitor of the user's organisation here today; None if nobody."""
    now = now or clock.now()
    waiting = (
        sa.select(Visit.id)
        .where(
            Visit.location_id == location.id,
            Visit.day == clock.today(),
            Visit.organisation_id == by.organisation_id,
            Visit.status == VisitStatus.WAITING,
        )
        .order_by(Visit.number)
        .limit(1)
    )
    for _attempt in range(5):
        visit = _claim(waiting, by, now)
        if visit is not None:
            return visit
        if not db.session.scalar(sa.select(waiting.exists())):
            return None
    return None


def take(visit: Visit, by: User, *, now: datetime | None = None) -> Visit:
    """Take this visitor, unless someone else already did."""
    taken = _claim(sa.select(Visit.id).where(Visit.id == visit.id), by, now or clock.now())
    if taken is None:
        db.session.refresh(visit)
        raise VisitChanged(_("Number %(n)s is no longer waiting.", n=visit.number))
    return taken


def finish(visit: Visit, by: User, *, now: datetime | None = None) -> Visit:
    """The visitor has been helped."""
    if visit.status not in OPEN_STATUSES:
        raise VisitChanged(_("Number %(n)s has already left the queue.", n=visit.number))
    now = now or clock.now()
    visit.status = VisitStatus.FINISHED
    visit.called_at = visit.called_at or now
    visit.helped_by_id = visit.helped_by_id or by.id
    visit.finished_at = now
    db.session.flush()
    return visit


def mark_left(visit: Visit, *, now: datetime | None = None) -> Visit:
    """The visitor left without help."""
    if visit.status not in OPEN_STATUSES:
        raise VisitChanged(_("Number %(n)s has already left the queue.", n=visit.number))
    visit.status = VisitStatus.LEFT
    visit.finished_at = now or clock.now()
    db.session.flush()
    return visit


def today_at(location: Location, visible: sa.Select) -> list[Visit]:
    """Today's visits at the location among ``visible``, in order of their numbers."""
    return list(
        db.session.scalars(
            visible.where(Visit.location_id == location.id, Visit.day == clock.today()).order_by(
                Visit.number
            )
        )
    )


def waiting_count(location: Location) -> int:
    """How many wait at the location now, for any desk (a count, never who)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Visit.location_id == location.id,
            Visit.day == clock.today(),
            Visit.status == VisitStatus.WAITING,
        )
    )


def minutes_waited(visit: Visit, now: datetime | None = None) -> int:
    """Whole minutes since arrival (until being called, once called)."""
    end = visit.called_at or now or clock.now()
    return max(0, int((end - visit.arrived_at).total_seconds() // 60))


def all_visits() -> sa.Select:
    """Every visit: for numbers only (the display page), never for who they are."""
    return sa.select(Visit)
