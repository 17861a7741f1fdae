"""Capacity is a guarantee: many residents at once for the last seat, exactly one gets it."""

import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Booking
from app.services import booking as booking_service
from app.services.booking import ResidentDetails

ATTEMPTS = 24
AMS = ZoneInfo("Europe/Amsterdam")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_concurrent_attempts_at_the_last_seat_give_exactly_one_booking(
    app, live_server, make_series
):
    """24 simultaneous bookings for the last seat over HTTP: one 303, the rest a clear 409
    'just taken' page with alternatives; no errors; the database holds the seats exactly."""
    series = make_series(
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today(),
        start_time=time(10, 0),
        end_time=time(12, 0),
        seats_per_slot=3,
        min_notice_hours=0,
    )
    moment = datetime.combine(clock.today() + timedelta(days=2), time(10, 0), AMS).astimezone(UTC)
    for name in ("Eerste", "Tweede"):  # two of the three seats are taken already
        booking_service.book(series, moment, ResidentDetails(name=name))
        db.session.commit()
    url = f"{live_server.url}/spreekuren/{series.id}/afspraak?" + urllib.parse.urlencode(
        {"tijd": moment.strftime("%Y-%m-%dT%H:%MZ")}
    )
    opener = urllib.request.build_opener(NoRedirect)
    barrier = threading.Barrier(ATTEMPTS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        data = urllib.parse.urlencode({"name": f"Bewoner {n}", "language": "en"}).encode()
        request = urllib.request.Request(url, data=data, headers={"Accept-Language": "en"})
        barrier.wait()
        try:
            with opener.open(request, timeout=60) as response:
                outcome = (response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            outcome = (error.code, error.read().decode())
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in results)
    assert len(results) == ATTEMPTS
    assert statuses.count(303) == 1, statuses
    assert statuses.count(409) == ATTEMPTS - 1, statuses
    for status, body in results:
        if status == 409:
            assert "This time was just taken by someone else." in body
            assert "10:30" in body  # the nearest alternative is offered

    db.session.rollback()  # end the test's snapshot: read what the requests wrote
    seats = db.session.scalars(
        sa.select(Booking.seat).where(Booking.series_id == series.id, Booking.slot_start == moment)
    ).all()
    assert sorted(seats) == [1, 2, 3]
