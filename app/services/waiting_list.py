"""The waiting list of full consultation hours: joining, offering freed seats, taking them.

A resident joins the list of a bookable series that has no free time within its booking
horizon. Whenever a seat frees up (a cancel, a move away, more seats, an extra date, a new
date entering the horizon) it is offered to the first resident waiting, for a hold period
counted in the daytime only. While offered, the seat is held by a booking row in the state
``offered``: it occupies a numbered seat under the same unique constraint as every
appointment, so nobody else can book it and it is never held twice. Taking the offer turns
that row into the resident's appointment; an offer not taken passes the same row on to the
next resident, or deletes it when nobody is waiting any more.

Order and one-at-a-time are decided by the database: offers of one series are made while
holding a lock on the series row (PostgreSQL; SQLite's writers hold the database's single
write lock), every change of an offer or an entry is a guarded ``UPDATE … WHERE status = …``
whose row count says who won, and partial unique indexes allow one open offer per held seat
and per resident.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.i18n import interface_language
from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    OfferStatus,
    OutboxMessage,
    OutboxStatus,
    SeatOffer,
    SeriesStatus,
    User,
    WaitingEntry,
    WaitingStatus,
)
from app.services import DomainError, mail, occurrence_index, sms
from app.services import booking as booking_service
from app.transactions import writing

# An offer that would run out sooner than this (a time soon after the seat freed) is not
# made: the time stays free for anyone to book.
MIN_OFFER = timedelta(minutes=30)


class OfferGone(DomainError):
    """The offer was taken, passed on, or withdrawn: it can no longer be taken."""


@dataclass
class WaitingDetails:
    name: str
    phone: str = ""
    email: str = ""
    language: str = "nl"


@dataclass
class RunReport:
    passed: int = 0  # offers not taken in time, passed on or released
    withdrawn: int = 0  # offers whose time no longer exists
    offered: int = 0  # new offers made


# Hold period ---------------------------------------------------------------------------------


def _clock_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def hold_until(start: datetime, hours: float | None = None) -> datetime:
    """The end of an offer made at ``start``: ``hours`` counted in the daytime only.

    With 4 hours and a day of 08:00-20:00 (Europe/Amsterdam), an offer made at 19:00 runs
    until 11:00 the next day, and one made at 22:00 until 12:00 the next day.
    """
    config = current_app.config
    hours = config["WAITING_LIST_HOLD_HOURS"] if hours is None else hours
    zone = ZoneInfo(config["TIMEZONE"])
    day_start = _clock_time(config["WAITING_LIST_DAY_START"])
    day_end = _clock_time(config["WAITING_LIST_DAY_END"])
    if day_end <= day_start:
        raise RuntimeError("WAITING_LIST_DAY_END must be later than WAITING_LIST_DAY_START.")
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(zone).date()
    while True:
        opens = datetime.combine(day, day_start, zone).astimezone(UTC)
        closes = datetime.combine(day, day_end, zone).astimezone(UTC)
        cursor = max(cursor, opens)
        if cursor < closes:
            if cursor + remaining <= closes:
                return cursor + remaining
            remaining -= closes - cursor
        day += timedelta(days=1)


def _offer_ends(series: ConsultationHours, slot_start: datetime, now: datetime) -> datetime:
    """The hold period, but never past the moment the time can still be booked."""
    latest = slot_start.astimezone(UTC) - timedelta(hours=series.min_notice_hours)
    return min(hold_until(now), latest)


# Locks and look-ups --------------------------------------------------------------------------


def _lock_series(series_id: int) -> None:
    """Take the series' waiting-list lock until the transaction ends (PostgreSQL).

    ``FOR NO KEY UPDATE`` does not stop bookings (their foreign key takes only a key-share
    lock). On SQLite a writing transaction holds the database's write lock from its start.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(ConsultationHours.id)
            .where(ConsultationHours.id == series_id)
            .with_for_update(key_share=True)
        )


def seats_will_free(series: ConsultationHours) -> None:
    """Called before a change that frees a seat (cancel, move): take the waiting-list lock
    first, as offering does, so the two wait for each other in one order (the other way
    round, each could wait for the seat or the lock the other holds)."""
    _lock_series(series.id)


def _has_waiting(series_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(WaitingEntry.id)
            .where(
                WaitingEntry.series_id == series_id,
                WaitingEntry.status == WaitingStatus.WAITING,
            )
            .limit(1)
        )
    )


def _first_waiting(series_id: int, skip: Iterable[int] = ()) -> WaitingEntry | None:
    return db.session.scalar(
        sa.select(WaitingEntry)
        .where(
            WaitingEntry.series_id == series_id,
            WaitingEntry.status == WaitingStatus.WAITING,
            WaitingEntry.id.not_in(list(skip)),
        )
        .order_by(WaitingEntry.joined_at, WaitingEntry.id)
        .limit(1)
    )


def _set_status(model, obj_id: int, old, new, **values) -> bool:
    """Move one row from status ``old`` to ``new``; whether this transaction did it."""
    extra = {"status_changed_at": clock.now()} if model is WaitingEntry else {}
    result = db.session.execute(
        sa.update(model)
        .where(model.id == obj_id, model.status == old)
        .values(status=new, **extra, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _find_by_token(model, token: str):
    if not token or len(token) > 64:
        return None
    digest = booking_service.hash_token(token)
    found = db.session.scalar(sa.select(model).where(model.token_hash == digest))
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        return None
    return found


def find_entry(token: str) -> WaitingEntry | None:
    """The place on a waiting list a secret link points at."""
    return _find_by_token(WaitingEntry, token)


def find_offer(token: str) -> SeatOffer | None:
    """The offer a secret link points at."""
    return _find_by_token(SeatOffer, token)


def open_offer(entry: WaitingEntry) -> SeatOffer | None:
    return db.session.scalar(
        sa.select(SeatOffer).where(
            SeatOffer.entry_id == entry.id, SeatOffer.status == OfferStatus.OPEN
        )
    )


def position(entry: WaitingEntry) -> int:
    """The resident's place in the queue (1 = next to be offered a time)."""
    ahead = db.session.scalar(
        sa.select(sa.func.count()).where(
            WaitingEntry.series_id == entry.series_id,
            WaitingEntry.status == WaitingStatus.WAITING,
            sa.or_(
                WaitingEntry.joined_at < entry.joined_at,
                sa.and_(WaitingEntry.joined_at == entry.joined_at, WaitingEntry.id < entry.id),
            ),
        )
    )
    return ahead + 1


# Joining and leaving -------------------------------------------------------------------------


def has_free_time(series: ConsultationHours, now: datetime | None = None) -> bool:
    """Whether residents can book a time of the series now (then there is no waiting list)."""
    today = clock.today()
    return bool(
        booking_service.available_slots(
            [series], today, today + timedelta(days=series.book_ahead_days), now=now
        )
    )


def may_join(series: ConsultationHours) -> bool:
    """Published bookable hours whose every time within the horizon is taken."""
    return (
        series.status is SeriesStatus.PUBLISHED
        and series.is_bookable_mode
        and not has_free_time(series)
    )


def _contact_key(details: WaitingDetails) -> str:
    if details.email.strip():
        return details.email.strip().casefold()
    return booking_service.normalise_phone(details.phone)


def check_details(details: WaitingDetails) -> None:
    """Refuse details the list must not hold, with a reason the resident understands."""
    booking_service.check_details(
        booking_service.ResidentDetails(name=details.name, phone=details.phone, email=details.email)
    )
    if not details.phone.strip() and not details.email.strip():
        raise DomainError(
            _("Please fill in a phone number or an e-mail address, so we can tell you."),
            "phone",
        )


def join(series: ConsultationHours, details: WaitingDetails) -> tuple[WaitingEntry, str]:
    """Put a resident on the waiting list; return the entry and its secret link's token."""
    return booking_service.retry_on_lock(lambda: _join(series, details))


def _join(series: ConsultationHours, details: WaitingDetails) -> tuple[WaitingEntry, str]:
    check_details(details)
    if not may_join(series):
        raise DomainError(_("There are free times: you can book one now."))
    token = secrets.token_urlsafe(24)
    entry = WaitingEntry(
        series=series,
        joined_at=clock.now(),
        token_hash=booking_service.hash_token(token),
        name=details.name.strip(),
        phone=details.phone.strip(),
        email=details.email.strip(),
        language=details.language,
        contact_key=_contact_key(details),
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DomainError(
            _("You are already on the waiting list for these hours."), "phone"
        ) from None
    return entry, token


def _erase(entry: WaitingEntry) -> None:
    entry.name = entry.phone = entry.email = entry.contact_key = ""
    entry.personal_data_erased_at = clock.now()


def leave(entry: WaitingEntry) -> None:
    """The resident leaves the list; a time held for them goes to the next one."""
    _take_off(entry, WaitingStatus.LEFT)


def remove(entry: WaitingEntry, by: User) -> None:
    """Staff take a resident off the list; a time held for them goes to the next one."""
    _take_off(entry, WaitingStatus.REMOVED)


def take_off_after_retention(entry: WaitingEntry) -> None:
    """The retention period since joining is over: off the list, details erased."""
    _take_off(entry, WaitingStatus.LAPSED)


def _take_off(entry: WaitingEntry, status: WaitingStatus) -> None:
    _lock_series(entry.series_id)
    db.session.refresh(entry)
    if not entry.on_the_list:
        raise DomainError(_("This resident is no longer on the waiting list."))
    offer = open_offer(entry)
    if offer is not None and _set_status(
        SeatOffer, offer.id, OfferStatus.OPEN, OfferStatus.WITHDRAWN, closed_at=clock.now()
    ):
        _set_status(WaitingEntry, entry.id, WaitingStatus.OFFERED, status)
        _pass_on(offer, clock.now())
    else:
        _set_status(WaitingEntry, entry.id, WaitingStatus.WAITING, status)
    db.session.refresh(entry)
    _erase(entry)
    db.session.flush()


# Offering ------------------------------------------------------------------------------------


def seat_freed(series: ConsultationHours) -> list[SeatOffer]:
    """Called after a seat of the series was freed: offer it to whoever waits."""
    return offer_free_seats(series)


def offer_free_seats(series: ConsultationHours, now: datetime | None = None) -> list[SeatOffer]:
    """Offer every free seat of the series within its horizon to the residents waiting, in
    the order they joined, one seat each (the caller commits)."""
    if not _has_waiting(series.id):
        return []
    now = now or clock.now()
    _lock_series(series.id)
    if series.status is not SeriesStatus.PUBLISHED or not series.is_bookable_mode:
        return []
    today = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    free = booking_service.available_slots(
        [series], today, today + timedelta(days=series.book_ahead_days), now=now
    )
    offers: list[SeatOffer] = []
    tried: set[int] = set()
    for item in free:
        if _offer_ends(series, item.slot.start_utc, now) - now < MIN_OFFER:
            continue
        seats = item.seats_left
        while seats > 0:
            entry = _first_waiting(series.id, skip=tried)
            if entry is None:
                return offers
            try:
                offer = _offer(series, entry, item.slot.start_utc, now)
            except (booking_service.SlotTaken, booking_service.SlotUnavailable):
                break  # booked a moment ago: the same resident, the next free time
            if offer is None:
                tried.add(entry.id)  # no longer waiting: the next one in line
                continue
            offers.append(offer)
            seats -= 1
    return offers


def offer_by_hand(entry: WaitingEntry, by: User, now: datetime | None = None) -> SeatOffer:
    """Staff offer the first free time to this resident, out of the list's order."""
    now = now or clock.now()
    series = entry.series
    _lock_series(series.id)
    db.session.refresh(entry)
    if entry.status is not WaitingStatus.WAITING:
        raise DomainError(_("This resident is not waiting for a time now."))
    today = clock.today()
    free = booking_service.available_slots(
        [series], today, today + timedelta(days=series.book_ahead_days), now=now
    )
    for item in free:
        if _offer_ends(series, item.slot.start_utc, now) - now < MIN_OFFER:
            continue
        try:
            offer = _offer(series, entry, item.slot.start_utc, now, by=by)
        except (booking_service.SlotTaken, booking_service.SlotUnavailable):
            continue  # booked a moment ago: the next free time
        if offer is None:
            break
        return offer
    raise DomainError(_("There is no free time to offer now."))


def _offer(
    series: ConsultationHours,
    entry: WaitingEntry,
    slot_start: datetime,
    now: datetime,
    *,
    by: User | None = None,
) -> SeatOffer | None:
    """Hold a seat of the slot for the resident and tell them; None when the resident is
    no longer waiting, SlotTaken when someone booked the seat a moment ago (either way
    nothing is left half-done)."""
    with db.session.begin_nested():
        if not _set_status(WaitingEntry, entry.id, WaitingStatus.WAITING, WaitingStatus.OFFERED):
            return None
        _occurrence, slot = booking_service.find_slot(series, slot_start)
        hold = Booking(
            series=series,
            status=BookingStatus.OFFERED,
            code=_free_code(),
            token_hash=booking_service.hash_token(secrets.token_urlsafe(24)),
            language=entry.language,
        )
        booking_service.claim_seat(hold, series, slot)
        offer, token = _new_offer(entry, hold, now, by=by)
    db.session.refresh(entry)
    send_offer(offer, token)
    return offer


def _free_code() -> str:
    for _attempt in range(5):
        code = booking_service.new_code()
        if not db.session.scalar(sa.select(Booking.id).where(Booking.code == code)):
            return code
    return code


def _new_offer(
    entry: WaitingEntry, hold: Booking, now: datetime, *, by: User | None = None
) -> tuple[SeatOffer, str]:
    token = secrets.token_urlsafe(24)
    offer = SeatOffer(
        entry_id=entry.id,
        series_id=hold.series_id,
        booking_id=hold.id,
        slot_start=hold.slot_start,
        slot_end=hold.slot_end,
        token_hash=booking_service.hash_token(token),
        offered_at=now,
        expires_at=_offer_ends(hold.series, hold.slot_start, now),
        offered_by_id=by.id if by else None,
    )
    db.session.add(offer)
    db.session.flush()
    return offer, token


def _pass_on(offer: SeatOffer, now: datetime) -> SeatOffer | None:
    """Offer the seat an offer held to the next resident waiting, or release it."""
    hold = db.session.get(Booking, offer.booking_id) if offer.booking_id else None
    if hold is None or hold.status is not BookingStatus.OFFERED:
        return None
    series = hold.series
    slot_ok = _slot_still_offerable(hold, now)
    tried: set[int] = set()
    while slot_ok:
        entry = _first_waiting(series.id, skip=tried)
        if entry is None:
            break
        if not _set_status(WaitingEntry, entry.id, WaitingStatus.WAITING, WaitingStatus.OFFERED):
            tried.add(entry.id)
            continue
        hold.language = entry.language
        new_offer, token = _new_offer(entry, hold, now)
        db.session.refresh(entry)
        send_offer(new_offer, token)
        return new_offer
    _release(hold)
    return None


def _slot_still_offerable(hold: Booking, now: datetime) -> bool:
    series = hold.series
    try:
        _occurrence, slot = booking_service.find_slot(series, hold.slot_start)
        booking_service.check_bookable(series, slot, now, staff=False)
    except DomainError:
        return False
    return _offer_ends(series, hold.slot_start, now) - now >= MIN_OFFER


def _release(hold: Booking) -> None:
    """Give the held seat back: the time is free for anyone to book."""
    db.session.execute(
        sa.update(SeatOffer)
        .where(SeatOffer.booking_id == hold.id)
        .values(booking_id=None)
        .execution_options(synchronize_session=False)
    )
    # What was sent about the held seat has done its work; a message still waiting goes.
    db.session.execute(
        sa.delete(OutboxMessage)
        .where(OutboxMessage.booking_id == hold.id, OutboxMessage.status != OutboxStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    series_id, held = hold.series_id, hold.slot_start if hold.seat is not None else None
    db.session.delete(hold)
    db.session.flush()
    if held is not None:
        occurrence_index.seats_changed(series_id, given_back=held)


def expire_offers(now: datetime | None = None) -> RunReport:
    """Pass on every offer whose hold period is over (the caller commits)."""
    now = now or clock.now()
    report = RunReport()
    due = db.session.execute(
        sa.select(SeatOffer.id, SeatOffer.series_id, SeatOffer.entry_id)
        .where(SeatOffer.status == OfferStatus.OPEN, SeatOffer.expires_at <= now)
        .order_by(SeatOffer.expires_at, SeatOffer.id)
    ).all()
    for offer_id, series_id, entry_id in due:
        _lock_series(series_id)
        if not _set_status(
            SeatOffer, offer_id, OfferStatus.OPEN, OfferStatus.PASSED, closed_at=now
        ):
            continue  # taken or passed on by someone else a moment ago
        _set_status(WaitingEntry, entry_id, WaitingStatus.OFFERED, WaitingStatus.PASSED)
        entry = db.session.get(WaitingEntry, entry_id)
        db.session.refresh(entry)
        _erase(entry)
        _pass_on(db.session.get(SeatOffer, offer_id), now)
        report.passed += 1
    return report


def withdraw_gone_offers(now: datetime | None = None) -> int:
    """Withdraw open offers whose time no longer exists (a cancelled date, a closure, a
    pause): the resident waits again in their place, the seat is released."""
    now = now or clock.now()
    withdrawn = 0
    for offer in db.session.scalars(
        sa.select(SeatOffer).where(SeatOffer.status == OfferStatus.OPEN)
    ).all():
        hold = offer.booking
        if hold is not None and _slot_exists(hold, now):
            continue
        _lock_series(offer.series_id)
        if _withdraw(offer, now):
            withdrawn += 1
    return withdrawn


def _slot_exists(hold: Booking, now: datetime) -> bool:
    try:
        _occurrence, slot = booking_service.find_slot(hold.series, hold.slot_start)
        booking_service.check_bookable(hold.series, slot, now, staff=True)
    except DomainError:
        return False
    return True


def _withdraw(offer: SeatOffer, now: datetime) -> bool:
    """Withdraw an offer through no fault of the resident: they wait again in their place."""
    if not _set_status(SeatOffer, offer.id, OfferStatus.OPEN, OfferStatus.WITHDRAWN, closed_at=now):
        return False
    _set_status(WaitingEntry, offer.entry_id, WaitingStatus.OFFERED, WaitingStatus.WAITING)
    hold = db.session.get(Booking, offer.booking_id) if offer.booking_id else None
    if hold is not None and hold.status is BookingStatus.OFFERED:
        _release(hold)
    return True


def run(now: datetime | None = None) -> RunReport:
    """The periodic work: pass on offers not taken in time, withdraw offers whose time is
    gone, and offer free seats (new dates in the horizon, more seats) to who waits.

    Each series is one short transaction of its own, so runs side by side wait for each
    other per series only.
    """
    now = now or clock.now()
    db.session.commit()
    with writing():
        report = booking_service.retry_on_lock(lambda: _expire_and_commit(now))
        series_ids = db.session.scalars(
            sa.select(WaitingEntry.series_id)
            .where(WaitingEntry.status == WaitingStatus.WAITING)
            .distinct()
        ).all()
        db.session.commit()
        for series_id in series_ids:
            report.offered += booking_service.retry_on_lock(
                lambda series_id=series_id: _offer_and_commit(series_id, now)
            )
    return report


def _expire_and_commit(now: datetime) -> RunReport:
    report = expire_offers(now)
    report.withdrawn = withdraw_gone_offers(now)
    db.session.commit()
    return report


def _offer_and_commit(series_id: int, now: datetime) -> int:
    series = db.session.get(ConsultationHours, series_id)
    offers = offer_free_seats(series, now) if series is not None else []
    db.session.commit()
    return len(offers)


# Taking an offer -----------------------------------------------------------------------------


def take(offer: SeatOffer, now: datetime | None = None) -> tuple[Booking, str]:
    """Turn the held seat into the resident's appointment; return it and its link's token.

    Refused with OfferGone when the hold period is over or the offer was passed on or
    withdrawn meanwhile (also a moment ago, by a run at the same time).
    """
    now = now or clock.now()
    if (
        not _set_status(
            SeatOffer,
            offer.id,
            OfferStatus.OPEN,
            OfferStatus.TAKEN,
            closed_at=now,
        )
        or offer.expires_at <= now
    ):
        db.session.rollback()
        raise OfferGone(gone_message(offer, now))
    hold = db.session.get(Booking, offer.booking_id) if offer.booking_id else None
    if hold is None or hold.status is not BookingStatus.OFFERED or not _slot_exists(hold, now):
        db.session.rollback()
        _withdraw(db.session.get(SeatOffer, offer.id), now)
        db.session.commit()
        raise OfferGone(
            _("Sorry, this time can no longer take place. You stay on the waiting list.")
        )
    entry = db.session.get(WaitingEntry, offer.entry_id)
    token = secrets.token_urlsafe(24)
    hold.status = BookingStatus.BOOKED
    hold.name, hold.phone, hold.email = entry.name, entry.phone, entry.email
    hold.language = entry.language
    hold.token_hash = booking_service.hash_token(token)
    hold.version += 1
    hold.created_at = now  # the appointment is made now (the seat was only held before)
    _set_status(
        WaitingEntry, entry.id, WaitingStatus.OFFERED, WaitingStatus.BOOKED, booking_id=hold.id
    )
    db.session.refresh(entry)
    _erase(entry)  # the appointment holds what is needed now
    db.session.flush()
    return hold, token


def gone_message(offer: SeatOffer, now: datetime) -> str:
    """Why an offer can no longer be taken, kindly."""
    db.session.refresh(offer)
    if offer.status is OfferStatus.TAKEN and offer.closed_at and offer.closed_at < now:
        return _("You have already taken this time. Look up your appointment with its code.")
    if offer.status is OfferStatus.WITHDRAWN:
        return _("Sorry, this offer was withdrawn.")
    return _(
        "Sorry, this offer has passed: the time was held for you until %(until)s and has "
        "now been offered to the next person on the waiting list. You can put your name on "
        "the waiting list again.",
        until=format_moment(offer.expires_at),
    )


def format_moment(moment: datetime) -> str:
    from flask_babel import format_datetime

    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return format_datetime(moment.astimezone(zone), "EEEE d MMMM, HH:mm")


# Messages ------------------------------------------------------------------------------------


def offer_channel(entry: WaitingEntry) -> str:
    """How an offer reaches the resident: "mail", "sms", or "call" (staff phone them)."""
    if entry.email:
        return "mail"
    if sms.is_configured() and sms.mobile_number(entry.phone):
        return "sms"
    return "call"


def send_offer(offer: SeatOffer, token: str) -> None:
    """Tell the resident a time is held for them, by the channel they gave.

    The one place where offers leave, through the outbox in the transaction that made the
    offer: by mail with an e-mail address, else by SMS with a mobile number when an SMS
    provider is set up. Otherwise the offer stands on the staff's waiting-list page, to call
    them.
    """
    from app.services.notify import external_url

    entry = offer.entry
    channel = offer_channel(entry)
    if channel == "call":
        return
    with force_locale(interface_language(entry.language)):
        values = {
            "entry": entry,
            "offer": offer,
            "series": offer.series,
            "until": format_moment(offer.expires_at),
            "link": external_url("waiting.open_offer", token=token),
        }
        if channel == "sms":
            text = render_template("sms/waiting_offer.txt", **values).strip()
            sms.queue(entry.phone, text, booking=offer.booking, kind="offer")
            return
        mail.queue(
            entry.email,
            _("A time is free for you: %(title)s", title=offer.series.title),
            render_template("mail/waiting_offer.txt", **values),
            booking=offer.booking,
            kind="offer",
        )
