"""The waiting list of full hours: a freed seat is held for and offered to one waiting
resident at a time, in the order they joined, never overbooked, also when seats free up,
offers are taken and periodic runs go at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    ExceptionKind,
    OfferStatus,
    OutboxMessage,
    SeatOffer,
    WaitingEntry,
    WaitingStatus,
)
from app.services import DomainError, retention, waiting_list
from app.services import booking as booking_service
from app.services import series as series_service
from app.services.booking import ResidentDetails
from app.services.waiting_list import OfferGone, WaitingDetails
from app.transactions import writing
from tests.waiting_helpers import (
    OFFER_LINK,
    assert_index_counts,
    assert_never_overbooked,
    full_series,
    join_many,
    later_bookings,
    offer_token,
)

AMS = "Europe/Amsterdam"


def _at(day: str, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}").replace(tzinfo=ZoneInfo(AMS))


def _open_offers(series) -> list[SeatOffer]:
    return db.session.scalars(
        sa.select(SeatOffer)
        .where(SeatOffer.series_id == series.id, SeatOffer.status == OfferStatus.OPEN)
        .order_by(SeatOffer.id)
    ).all()


def _in_threads(app, jobs) -> list[BaseException]:
    """Run each job in a thread of its own (own app context, own connection), all at once."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        with app.app_context():
            try:
                barrier.wait()
                job()
            except BaseException as error:  # noqa: BLE001 (reported by the test)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _cancel(booking_id: int):
    def job() -> None:
        with writing():
            booking = db.session.get(Booking, booking_id)
            booking_service.cancel(booking, version=booking.version)
            db.session.commit()

    return job


def _take(token: str, outcomes: list):
    def job() -> None:
        with writing():
            offer = waiting_list.find_offer(token)
            try:
                booking, _link = waiting_list.take(offer)
            except OfferGone as error:
                outcomes.append(("gone", error.message))
            else:
                db.session.commit()
                outcomes.append(("taken", booking.id))

    return job


# The hold period --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "until"),
    [
        (("2026-12-02", 9), ("2026-12-02", 13)),
        (("2026-12-02", 19), ("2026-12-03", 11)),
        (("2026-12-02", 22), ("2026-12-03", 12)),
        (("2026-12-02", 6), ("2026-12-02", 12)),
        (("2026-03-28", 19), ("2026-03-29", 11)),  # the night the clocks go forward
    ],
)
def test_the_hold_period_counts_daytime_hours_only(app, made, until):
    """4 hours between 08:00 and 20:00: an offer made at 19:00 runs until 11:00 the next day."""
    assert waiting_list.hold_until(_at(*made)) == _at(*until).astimezone(UTC)


# Twenty residents, seats freed at once ------------------------------------------------------


def test_twenty_waiting_seats_freed_at_once_each_offered_to_one_in_order(app, make_series):
    """Six appointments are cancelled at the same moment while two periodic runs go: each
    freed seat is held for exactly one resident, the first six in the order they joined,
    and no slot ever holds more than its seats. An offer not taken in time passes to the
    seventh; taking it afterwards is refused kindly. Then five residents take their offers
    while three more appointments are cancelled and two runs go: five appointments, three
    new offers to the next in line, still never overbooked."""
    series = full_series(make_series)
    entries = join_many(series, 20)
    freed = later_bookings(series)[:9]
    assert len(freed) == 9

    errors = _in_threads(
        app,
        [_cancel(b.id) for b in freed[:6]] + [waiting_list.run, waiting_list.run],
    )

    assert errors == []
    db.session.rollback()
    offers = _open_offers(series)
    assert sorted(o.entry_id for o in offers) == entries[:6]
    assert len({o.booking_id for o in offers}) == 6
    assert sorted(o.slot_start for o in offers) == sorted(b.slot_start for b in freed[:6])
    for offer in offers:
        assert offer.booking.status is BookingStatus.OFFERED and offer.booking.seat
    statuses = {e.id: e.status for e in db.session.scalars(sa.select(WaitingEntry))}
    assert [statuses[i] for i in entries[:6]] == [WaitingStatus.OFFERED] * 6
    assert [statuses[i] for i in entries[6:]] == [WaitingStatus.WAITING] * 14
    assert_never_overbooked(series)
    assert not waiting_list.has_free_time(series)  # held seats are not free to book
    recipients = db.session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert sorted(recipients) == sorted(f"wachter{n}@example.org" for n in range(1, 7))

    # The first offer is not taken in time: it passes to the seventh resident.
    first = next(o for o in offers if o.entry_id == entries[0])
    first_token = offer_token("wachter1@example.org")
    db.session.execute(
        sa.update(SeatOffer)
        .where(SeatOffer.id == first.id)
        .values(expires_at=clock.now() - timedelta(minutes=1))
    )
    db.session.commit()
    report = waiting_list.run()
    assert report.passed == 1
    db.session.expire_all()
    assert first.status is OfferStatus.PASSED
    passed_entry = db.session.get(WaitingEntry, entries[0])
    assert passed_entry.status is WaitingStatus.PASSED and passed_entry.email == ""
    seventh = db.session.scalar(
        sa.select(SeatOffer).where(
            SeatOffer.entry_id == entries[6], SeatOffer.status == OfferStatus.OPEN
        )
    )
    assert seventh.booking_id == first.booking_id  # the same held seat, never freed between
    assert offer_token("wachter7@example.org")

    # Taking the passed offer afterwards is refused kindly; the seat stays the seventh's.
    with force_locale("en"), pytest.raises(OfferGone, match="has passed"):
        waiting_list.take(waiting_list.find_offer(first_token))
    db.session.rollback()
    assert db.session.get(Booking, first.booking_id).status is BookingStatus.OFFERED

    # Offers taken while seats free up and runs go, all at once.
    tokens = [offer_token(f"wachter{n}@example.org") for n in range(2, 7)]
    outcomes: list = []
    errors = _in_threads(
        app,
        [_take(t, outcomes) for t in tokens]
        + [_cancel(b.id) for b in freed[6:9]]
        + [waiting_list.run, waiting_list.run],
    )

    assert errors == []
    assert sorted(kind for kind, _value in outcomes) == ["taken"] * 5
    db.session.rollback()
    for _kind, booking_id in outcomes:
        booking = db.session.get(Booking, booking_id)
        assert booking.status is BookingStatus.BOOKED and booking.name.startswith("Wachter ")
    offers = _open_offers(series)
    assert sorted(o.entry_id for o in offers) == entries[6:10]
    assert_never_overbooked(series)
    booked = db.session.scalar(
        sa.select(sa.func.count()).where(
            Booking.series_id == series.id, Booking.status == BookingStatus.BOOKED
        )
    )
    held = db.session.scalar(
        sa.select(sa.func.count()).where(
            Booking.series_id == series.id, Booking.status == BookingStatus.OFFERED
        )
    )
    assert held == 4
    taken_seats = db.session.scalar(
        sa.select(sa.func.count()).where(Booking.series_id == series.id, Booking.seat.is_not(None))
    )
    assert taken_seats == booked + held


def test_an_offer_taken_and_passed_on_at_the_same_moment_has_one_outcome(app, make_series):
    """The resident takes the offer just as a run passes it on: either they get the
    appointment and nobody else is offered the seat, or the next resident gets the offer
    and the take is refused; never both."""
    series = full_series(make_series)
    entries = join_many(series, 3)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    token = offer_token("wachter1@example.org")
    offer = waiting_list.find_offer(token)
    moment = offer.expires_at - timedelta(microseconds=1)

    outcomes: list = []

    def take() -> None:
        with writing():
            try:
                waiting_list.take(waiting_list.find_offer(token), moment)
            except OfferGone:
                outcomes.append("gone")
            else:
                db.session.commit()
                outcomes.append("taken")

    def run() -> None:
        waiting_list.run(offer.expires_at)

    errors = _in_threads(app, [take, run])

    assert errors == []
    db.session.rollback()
    open_offers = _open_offers(series)
    if outcomes == ["taken"]:
        assert open_offers == []
        assert db.session.get(WaitingEntry, entries[0]).status is WaitingStatus.BOOKED
    else:
        assert outcomes == ["gone"]
        assert [o.entry_id for o in open_offers] == [entries[1]]
    assert_never_overbooked(series)


# Joining, leaving, taking ------------------------------------------------------------------


def test_joining_is_only_for_full_hours_and_once_per_resident(app, make_series):
    """With free times there is no waiting list; a resident is on a list once; a phone
    number or e-mail address is needed to tell them."""
    with force_locale("en"):
        _joining_is_only_for_full_hours_and_once_per_resident(make_series)


def _joining_is_only_for_full_hours_and_once_per_resident(make_series):
    open_series = make_series(weekdays="0,1,2,3,4,5,6", start_date=clock.today())
    with pytest.raises(DomainError, match="free times"):
        waiting_list.join(open_series, WaitingDetails(name="Anna", phone="0612345678"))
    db.session.rollback()

    series = full_series(make_series)
    with pytest.raises(DomainError, match="phone number or an e-mail"):
        waiting_list.join(series, WaitingDetails(name="Anna"))
    db.session.rollback()
    waiting_list.join(series, WaitingDetails(name="Anna", phone="06 1234 5678"))
    db.session.commit()
    with pytest.raises(DomainError, match="already on the waiting list"):
        waiting_list.join(series, WaitingDetails(name="Anna B", phone="0612345678"))
    db.session.rollback()
    with pytest.raises(DomainError, match="BSN"):
        waiting_list.join(series, WaitingDetails(name="123456782", phone="0612000000"))


def test_leaving_with_an_offer_passes_the_seat_on_and_erases_the_details(app, make_series):
    series = full_series(make_series)
    entries = join_many(series, 2)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    first = db.session.get(WaitingEntry, entries[0])
    hold = waiting_list.open_offer(first).booking_id

    waiting_list.leave(first)
    db.session.commit()

    db.session.expire_all()
    assert first.status is WaitingStatus.LEFT
    assert (first.name, first.email, first.personal_data_erased_at is not None) == ("", "", True)
    second = db.session.get(WaitingEntry, entries[1])
    assert waiting_list.open_offer(second).booking_id == hold


def test_a_seat_nobody_waits_for_any_more_is_released(app, make_series):
    """The last resident lets the offer pass: the held seat is given back for anyone."""
    series = full_series(make_series)
    join_many(series, 1)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    offer = _open_offers(series)[0]
    hold_id = offer.booking_id

    waiting_list.run(offer.expires_at)

    db.session.expire_all()
    assert db.session.get(Booking, hold_id) is None
    assert offer.status is OfferStatus.PASSED and offer.booking_id is None
    assert waiting_list.has_free_time(series)
    assert_index_counts(series)


def test_more_seats_are_offered_to_who_waits(app, make_series):
    """Raising the seats of full hours offers the new seats at once, in order (as saving
    the series form does after its change)."""
    series = full_series(make_series)
    entries = join_many(series, 3)
    series.seats_per_slot = 3
    db.session.flush()
    waiting_list.offer_free_seats(series)
    db.session.commit()

    assert [o.entry_id for o in _open_offers(series)] == entries
    assert_never_overbooked(series)


def test_taking_an_offer_makes_an_appointment_with_the_residents_details(app, make_series):
    series = full_series(make_series)
    entries = join_many(series, 1)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()

    booking, token = waiting_list.take(waiting_list.find_offer(offer_token("wachter1@example.org")))
    db.session.commit()

    assert booking.status is BookingStatus.BOOKED
    assert (booking.name, booking.email) == ("Wachter 1", "wachter1@example.org")
    assert booking_service.find_by_token(token) == booking
    entry = db.session.get(WaitingEntry, entries[0])
    assert entry.status is WaitingStatus.BOOKED and entry.booking_id == booking.id
    assert entry.name == "" and entry.personal_data_erased_at is not None


def test_a_resident_with_only_a_mobile_number_gets_the_offer_by_sms(
    app, make_series, sms_gateway
):
    """No e-mail address: the offer goes by SMS through the provider, in the resident's
    language, with the link that takes the time."""
    from app.services import outbox

    series = full_series(make_series)
    entry, _token = waiting_list.join(
        series, WaitingDetails(name="Ayşe", phone="06 12345678", email="", language="tr")
    )
    db.session.commit()
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()

    assert outbox.send_all_due() == (1, 0)
    [text] = sms_gateway.texts_to("0031612345678")
    assert "Ayşe" not in text and series.title in text
    assert waiting_list.offer_channel(entry) == "sms"
    token = OFFER_LINK.search(text).group(1)
    booking, _link = waiting_list.take(waiting_list.find_offer(token))
    db.session.commit()
    assert booking.status is BookingStatus.BOOKED and booking.phone == "06 12345678"


def test_without_an_sms_provider_a_phone_only_offer_is_for_staff_to_call(app, make_series):
    series = full_series(make_series)
    entry, _token = waiting_list.join(series, WaitingDetails(name="Jan", phone="06 12345678"))
    db.session.commit()
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    assert len(_open_offers(series)) == 1
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
    assert waiting_list.offer_channel(entry) == "call"


def test_retention_takes_residents_off_the_list_after_the_period(app, make_series):
    series = full_series(make_series)
    entries = join_many(series, 2)
    db.session.execute(
        sa.update(WaitingEntry)
        .where(WaitingEntry.id == entries[0])
        .values(joined_at=clock.now() - timedelta(days=61))
    )
    db.session.commit()

    report = retention.run()

    assert report.waiting_entries_erased == 1
    old, new = (db.session.get(WaitingEntry, i) for i in entries)
    assert old.status is WaitingStatus.LAPSED and old.name == ""
    assert new.status is WaitingStatus.WAITING and new.name == "Wachter 2"


def test_the_command_passes_on_and_offers(app, make_series, runner):
    series = full_series(make_series)
    join_many(series, 1)
    series.seats_per_slot = 3
    db.session.commit()

    result = runner.invoke(args=["send-messages"])

    assert result.exit_code == 0, result.output
    assert "new offers: 1" in result.output
    db.session.rollback()
    assert len(_open_offers(series)) == 1


def test_a_held_seat_is_no_appointment_for_staff(app, make_series, make_user, login, client):
    """Held seats are not in the desk's lists and cannot be marked or cancelled."""
    series = full_series(make_series)
    join_many(series, 1)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    hold = _open_offers(series)[0].booking
    with pytest.raises(DomainError):
        booking_service.mark(hold, BookingStatus.NO_SHOW)
    with pytest.raises(DomainError):
        booking_service.cancel(hold, version=None)
    staff = make_user(organisation=series.provider)
    login(staff)
    assert client.get(f"/portal/bookings/{hold.id}").status_code == 404


def test_booking_someone_else_cannot_take_a_held_seat(app, make_series):
    series = full_series(make_series)
    join_many(series, 1)
    freed = later_bookings(series)[0]
    start = freed.slot_start
    booking_service.cancel(freed, version=1)
    db.session.commit()

    with pytest.raises(booking_service.SlotTaken):
        booking_service.book(series, start, ResidentDetails(name="Snel"))


def test_the_demo_has_a_waiting_list_with_a_time_offered(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    entries = db.session.scalars(sa.select(WaitingEntry).order_by(WaitingEntry.id)).all()
    assert [e.status for e in entries] == [
        WaitingStatus.OFFERED,
        WaitingStatus.WAITING,
        WaitingStatus.WAITING,
    ]
    assert db.session.scalar(sa.select(SeatOffer.status)) is OfferStatus.OPEN


def test_an_extra_date_is_offered_to_who_waits(app, make_series):
    """An extra date within the horizon of full hours: its seats go to the waiting list
    first, in order, in the transaction that adds the date."""
    # Never on Sundays; the next Sunday is always within the horizon.
    series = full_series(make_series, weekdays="0,1,2,3,4,5", book_ahead_days=7)
    entries = join_many(series, 5)
    today = clock.today()
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)

    series_service.add_exception(series, day=sunday, kind=ExceptionKind.EXTRA)

    offered = _open_offers(series)
    assert sorted(o.entry_id for o in offered) == entries[:4]  # 2 slots x 2 seats
    assert {o.local_start.date() for o in offered} == {sunday}
    assert_never_overbooked(series)


def test_an_offer_whose_time_is_cancelled_is_withdrawn_and_the_resident_waits_again(
    app, make_series
):
    series = full_series(make_series)
    entries = join_many(series, 2)
    booking_service.cancel(later_bookings(series)[0], version=1)
    db.session.commit()
    offer = _open_offers(series)[0]
    day = offer.local_start.date()

    series_service.add_exception(series, day=day, kind=ExceptionKind.CANCELLED)
    report = waiting_list.run()

    assert report.withdrawn == 1
    db.session.expire_all()
    assert offer.status is OfferStatus.WITHDRAWN
    assert db.session.get(WaitingEntry, entries[0]).status is WaitingStatus.WAITING
    assert waiting_list.position(db.session.get(WaitingEntry, entries[0])) == 1
    with force_locale("en"), pytest.raises(OfferGone, match="withdrawn"):
        waiting_list.take(offer)
