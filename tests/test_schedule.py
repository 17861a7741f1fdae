"""Occurrences and slots of consultation-hours series (``app.services.schedule``).

Dates and instants are spelled out: Europe/Amsterdam is UTC+1 in winter and UTC+2 in
summer; in 2026 summer time starts on Sunday 29 March (02:00 -> 03:00) and ends on
Sunday 25 October (03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    LAST_WEEK,
    ConsultationHours,
    ExceptionKind,
    LocationClosure,
    Mode,
    Recurrence,
    SeriesException,
    SeriesStatus,
)
from app.services import schedule
from app.services.schedule import (
    OccurrenceKind,
    OccurrenceStatus,
    bookable_slots,
    build_slots,
    expand,
    local_datetime,
    matches_pattern,
    occurrences,
    pattern_dates,
)

AMS = ZoneInfo("Europe/Amsterdam")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
SPRING_CHANGE = date(2026, 3, 29)
AUTUMN_CHANGE = date(2026, 10, 25)
HALF_HOUR = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def dates(items) -> list[date]:
    return [o.date for o in items]


def wall(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def add_exception(series, day, kind, start=None, end=None, reason="") -> SeriesException:
    exception = SeriesException(
        series_id=series.id, date=day, kind=kind, start_time=start, end_time=end, reason=reason
    )
    db.session.add(exception)
    db.session.commit()
    return exception


def add_closure(location, start, end, reason="Gesloten") -> LocationClosure:
    closure = LocationClosure(
        location_id=location.id, start_date=start, end_date=end, reason=reason
    )
    db.session.add(closure)
    db.session.commit()
    return closure


def sunday_series(make_series, **overrides):
    """A weekly Sunday series from 1 March 2026 (before the spring change), 14:00-16:00."""
    values = {"weekdays": str(SUN), "start_date": date(2026, 3, 1)}
    values.update(overrides)
    return make_series(**values)


# local_datetime ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "wall_time", "expected_utc"),
    [
        (date(2026, 1, 15), time(14, 0), utc(2026, 1, 15, 13, 0)),
        (date(2026, 7, 15), time(14, 0), utc(2026, 7, 15, 12, 0)),
        (SPRING_CHANGE, time(1, 59), utc(2026, 3, 29, 0, 59)),
        (SPRING_CHANGE, time(3, 0), utc(2026, 3, 29, 1, 0)),
        (AUTUMN_CHANGE, time(3, 0), utc(2026, 10, 25, 2, 0)),
    ],
    ids=["winter", "summer", "before-gap", "after-gap", "after-repeat"],
)
def test_local_datetime_uses_the_offset_of_that_date(day, wall_time, expected_utc):
    """A wall-clock time becomes the instant with the UTC offset valid on that date."""
    moment = local_datetime(day, wall_time, AMS)
    assert moment.astimezone(UTC) == expected_utc
    assert (moment.date(), moment.time()) == (day, wall_time)


@pytest.mark.parametrize("wall_time", [time(2, 0), time(2, 30), time(2, 59)])
def test_local_datetime_is_none_inside_the_spring_gap(wall_time):
    """Wall-clock times between 02:00 and 03:00 on 29 March 2026 do not exist."""
    assert local_datetime(SPRING_CHANGE, wall_time, AMS) is None


@pytest.mark.parametrize(
    ("wall_time", "expected_utc"),
    [(time(2, 0), utc(2026, 10, 25, 0, 0)), (time(2, 30), utc(2026, 10, 25, 0, 30))],
)
def test_local_datetime_takes_the_summer_instant_of_the_repeated_hour(wall_time, expected_utc):
    """02:00-03:00 happens twice on 25 October 2026; the first (summer-time) pass is taken."""
    moment = local_datetime(AUTUMN_CHANGE, wall_time, AMS)
    assert moment.fold == 0
    assert moment.utcoffset() == timedelta(hours=2)
    assert moment.astimezone(UTC) == expected_utc


# DST ---------------------------------------------------------------------------------------


def test_weekly_1400_lands_at_1200_utc_from_the_spring_change(app, make_series):
    """Sunday 14:00 stays 14:00: 13:00 UTC on 22 March, 12:00 UTC on 29 March and 5 April."""
    series = sunday_series(make_series)
    result = expand(series, date(2026, 3, 22), date(2026, 4, 5))
    assert dates(result) == [date(2026, 3, 22), SPRING_CHANGE, date(2026, 4, 5)]
    assert [o.start.astimezone(UTC) for o in result] == [
        utc(2026, 3, 22, 13),
        utc(2026, 3, 29, 12),
        utc(2026, 4, 5, 12),
    ]
    assert [o.end.astimezone(UTC) for o in result] == [
        utc(2026, 3, 22, 15),
        utc(2026, 3, 29, 14),
        utc(2026, 4, 5, 14),
    ]
    assert {(wall(o.start), wall(o.end)) for o in result} == {("14:00", "16:00")}


def test_weekly_1400_lands_at_1300_utc_from_the_autumn_change(app, make_series):
    """Sunday 14:00 stays 14:00: 12:00 UTC on 18 October, 13:00 UTC on 25 October and 1 Nov."""
    series = sunday_series(make_series)
    result = expand(series, date(2026, 10, 18), date(2026, 11, 1))
    assert dates(result) == [date(2026, 10, 18), AUTUMN_CHANGE, date(2026, 11, 1)]
    assert [o.start.astimezone(UTC) for o in result] == [
        utc(2026, 10, 18, 12),
        utc(2026, 10, 25, 13),
        utc(2026, 11, 1, 13),
    ]
    assert [o.end.astimezone(UTC) for o in result] == [
        utc(2026, 10, 18, 14),
        utc(2026, 10, 25, 15),
        utc(2026, 11, 1, 15),
    ]
    assert {(wall(o.start), wall(o.end)) for o in result} == {("14:00", "16:00")}


@pytest.mark.parametrize(
    ("before", "change", "hours_before", "hours_on"),
    [
        (date(2026, 3, 22), SPRING_CHANGE, (13, 14), (12, 13)),
        (date(2026, 10, 18), AUTUMN_CHANGE, (12, 13), (13, 14)),
    ],
    ids=["spring", "autumn"],
)
def test_slot_instants_follow_the_wall_clock_across_dst_weekends(
    app, make_series, before, change, hours_before, hours_on
):
    """The 14:00-16:00 slots keep their wall-clock times; their UTC instants shift an hour."""
    series = sunday_series(make_series)
    week_before, on_change = expand(series, before, change)

    def expected(day, hours):
        first, second = hours
        return [
            utc(day.year, day.month, day.day, first, 0),
            utc(day.year, day.month, day.day, first, 30),
            utc(day.year, day.month, day.day, second, 0),
            utc(day.year, day.month, day.day, second, 30),
        ]

    assert [s.start_utc for s in week_before.slots] == expected(before, hours_before)
    assert [s.start_utc for s in on_change.slots] == expected(change, hours_on)
    for occurrence in (week_before, on_change):
        assert [wall(s.start) for s in occurrence.slots] == ["14:00", "14:30", "15:00", "15:30"]
        assert all(s.end - s.start == HALF_HOUR for s in occurrence.slots)


def test_night_block_across_the_spring_gap_skips_missing_slots(app, make_series):
    """01:00-04:00 on 29 March is two real hours: slots at 01:00, 01:30, 03:00 and 03:30."""
    series = sunday_series(
        make_series,
        start_date=SPRING_CHANGE,
        end_date=SPRING_CHANGE,
        start_time=time(1, 0),
        end_time=time(4, 0),
    )
    [occurrence] = expand(series, date(2026, 3, 28), date(2026, 3, 30))
    assert occurrence.start.astimezone(UTC) == utc(2026, 3, 29, 0, 0)
    assert occurrence.end.astimezone(UTC) == utc(2026, 3, 29, 2, 0)

    slots = occurrence.slots
    assert [s.start_utc for s in slots] == [
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 29, 1, 30),
    ]
    assert [(wall(s.start), wall(s.end)) for s in slots] == [
        ("01:00", "01:30"),
        ("01:30", "03:00"),
        ("03:00", "03:30"),
        ("03:30", "04:00"),
    ]
    assert not any(s.start.hour == 2 for s in slots), "02:xx does not exist that night"
    for slot in slots:
        assert slot.end.astimezone(UTC) > slot.start_utc
        assert slot.end.astimezone(UTC) - slot.start_utc == HALF_HOUR
    assert slots[-1].end.astimezone(UTC) == occurrence.end.astimezone(UTC)


def test_night_block_across_the_autumn_change_offers_the_repeated_hour_twice(app, make_series):
    """01:00-04:00 on 25 October is four real hours; 02:00 and 02:30 come twice, 1 hour apart."""
    series = sunday_series(
        make_series,
        start_date=AUTUMN_CHANGE,
        end_date=AUTUMN_CHANGE,
        start_time=time(1, 0),
        end_time=time(4, 0),
    )
    [occurrence] = expand(series, AUTUMN_CHANGE, AUTUMN_CHANGE)
    assert occurrence.start.astimezone(UTC) == utc(2026, 10, 24, 23, 0)
    assert occurrence.end.astimezone(UTC) == utc(2026, 10, 25, 3, 0)

    slots = occurrence.slots
    assert [s.start_utc for s in slots] == [
        utc(2026, 10, 24, 23, 0) + n * HALF_HOUR for n in range(8)
    ]
    assert [wall(s.start) for s in slots] == [
        "01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"
    ]  # fmt: skip
    assert [s.start.utcoffset() for s in slots] == [timedelta(hours=2)] * 4 + [
        timedelta(hours=1)
    ] * 4
    assert all(s.end.astimezone(UTC) - s.start_utc == HALF_HOUR for s in slots)
    assert len({s.start_utc for s in slots}) == 8


@pytest.mark.parametrize(
    ("start", "end", "expected_start", "expected_end", "slot_count"),
    [
        (time(1, 30), time(2, 30), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), 2),
        (time(2, 0), time(2, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30), 1),
        (time(2, 30), time(3, 15), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30), 0),
    ],
    ids=["end-in-gap", "inside-gap", "start-in-gap-end-after"],
)
def test_times_inside_the_spring_gap_move_past_it_and_never_end_before_start(
    app, make_series, start, end, expected_start, expected_end, slot_count
):
    """A changed time inside the gap is read with the winter offset; the end never precedes
    the start."""
    series = sunday_series(make_series, start_time=time(10, 0), end_time=time(12, 0))
    add_exception(series, SPRING_CHANGE, ExceptionKind.CHANGED, start, end)
    [occurrence] = expand(series, SPRING_CHANGE, SPRING_CHANGE, series.exceptions)
    assert occurrence.kind is OccurrenceKind.CHANGED
    assert occurrence.start.astimezone(UTC) == expected_start
    assert occurrence.end.astimezone(UTC) == expected_end
    assert occurrence.end.astimezone(UTC) >= occurrence.start.astimezone(UTC)
    assert len(occurrence.slots) == slot_count


# Recurrence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (
            2,
            [
                date(2026, 1, 8),
                date(2026, 1, 19),
                date(2026, 1, 22),
                date(2026, 2, 2),
                date(2026, 2, 5),
                date(2026, 2, 16),
                date(2026, 2, 19),
            ],
        ),
        (
            3,
            [
                date(2026, 1, 8),
                date(2026, 1, 26),
                date(2026, 1, 29),
                date(2026, 2, 16),
                date(2026, 2, 19),
            ],
        ),
    ],
)
def test_every_n_weeks_counts_from_the_week_of_the_start_date(app, make_series, interval, expected):
    """Mon+Thu every N weeks from Wednesday 7 Jan 2026: its week (Mon 5 Jan) is week 0, and
    Mon 5 Jan itself is before the start date."""
    series = make_series(
        weekdays=f"{MON},{THU}", interval_weeks=interval, start_date=date(2026, 1, 7)
    )
    assert list(pattern_dates(series, date(2026, 1, 1), date(2026, 2, 22))) == expected
    assert dates(expand(series, date(2026, 1, 1), date(2026, 2, 22))) == expected


def test_every_two_weeks_keeps_its_phase_after_ten_years(app, make_series):
    """A fortnightly Monday series from 4 Jan 2016 falls on 5 Jan 2026 (522 weeks later),
    not on 12 Jan."""
    series = make_series(weekdays=str(MON), interval_weeks=2, start_date=date(2016, 1, 4))
    assert matches_pattern(series, date(2026, 1, 5))
    assert not matches_pattern(series, date(2026, 1, 12))
    assert dates(expand(series, date(2026, 1, 1), date(2026, 1, 31))) == [
        date(2026, 1, 5),
        date(2026, 1, 19),
    ]


def test_weekly_on_several_days(app, make_series):
    """A series on Monday, Wednesday and Friday is held on each of them every week."""
    series = make_series(weekdays=f"{MON},{WED},{FRI}", start_date=date(2026, 2, 1))
    assert dates(expand(series, date(2026, 2, 1), date(2026, 2, 15))) == [
        date(2026, 2, 2),
        date(2026, 2, 4),
        date(2026, 2, 6),
        date(2026, 2, 9),
        date(2026, 2, 11),
        date(2026, 2, 13),
    ]


def test_monthly_first_and_third_monday(app, make_series):
    """Monthly on the 1st and 3rd Monday: 5 and 19 Jan, 2 and 16 Feb, 2 and 16 Mar 2026."""
    series = make_series(
        recurrence=Recurrence.MONTHLY,
        weekdays=str(MON),
        month_weeks="1,3",
        start_date=date(2026, 1, 1),
    )
    assert dates(expand(series, date(2026, 1, 1), date(2026, 3, 31))) == [
        date(2026, 1, 5),
        date(2026, 1, 19),
        date(2026, 2, 2),
        date(2026, 2, 16),
        date(2026, 3, 2),
        date(2026, 3, 16),
    ]


def test_monthly_fifth_thursday_only_in_months_that_have_one(app, make_series):
    """The 5th Thursday exists in 2026 only in January, April, July, October and December."""
    series = make_series(
        recurrence=Recurrence.MONTHLY,
        weekdays=str(THU),
        month_weeks="5",
        start_date=date(2026, 1, 1),
    )
    assert dates(expand(series, date(2026, 1, 1), date(2026, 12, 31))) == [
        date(2026, 1, 29),
        date(2026, 4, 30),
        date(2026, 7, 30),
        date(2026, 10, 29),
        date(2026, 12, 31),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            date(2026, 1, 1),
            date(2026, 3, 31),
            [date(2026, 1, 27), date(2026, 2, 24), date(2026, 3, 31)],
        ),
        (
            date(2028, 1, 1),
            date(2028, 3, 31),
            [date(2028, 1, 25), date(2028, 2, 29), date(2028, 3, 28)],
        ),
    ],
    ids=["2026", "leap-2028"],
)
def test_monthly_last_tuesday_including_february(app, make_series, start, end, expected):
    """The last Tuesday (month week -1) of each month, also in February; in leap year 2028
    that is 29 February."""
    series = make_series(
        recurrence=Recurrence.MONTHLY,
        weekdays=str(TUE),
        month_weeks=str(LAST_WEEK),
        start_date=date(2026, 1, 1),
    )
    assert dates(expand(series, start, end)) == expected


@pytest.mark.parametrize(
    ("month_weeks", "day", "matches"),
    [
        ("4", date(2026, 2, 23), True),  # 4th Monday of February is also its last
        (str(LAST_WEEK), date(2026, 2, 23), True),
        (str(LAST_WEEK), date(2026, 3, 23), False),  # 4th, but 30 March is the last
        (str(LAST_WEEK), date(2026, 3, 30), True),
        ("5", date(2026, 3, 30), True),
        ("1", date(2026, 3, 9), False),
        ("2", date(2026, 3, 9), True),
        ("2", date(2026, 3, 10), False),  # a Tuesday: wrong weekday
    ],
)
def test_matches_pattern_for_monthly_week_numbers(app, make_series, month_weeks, day, matches):
    """matches_pattern knows the n-th and the last Monday of a month."""
    series = make_series(
        recurrence=Recurrence.MONTHLY,
        weekdays=str(MON),
        month_weeks=month_weeks,
        start_date=date(2026, 1, 1),
    )
    assert matches_pattern(series, day) is matches


def test_matches_pattern_is_false_outside_start_and_end_date(app, make_series):
    """Pattern dates before the start date or after the end date do not count."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 2, 3), end_date=date(2026, 2, 17))
    assert not matches_pattern(series, date(2026, 1, 27))
    assert matches_pattern(series, date(2026, 2, 3))
    assert matches_pattern(series, date(2026, 2, 17))
    assert not matches_pattern(series, date(2026, 2, 24))


# Series window -----------------------------------------------------------------------------


def test_series_ending_mid_range_stops_at_its_end_date(app, make_series):
    """A Tuesday series ending Tuesday 17 Feb 2026 has no dates after it."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6), end_date=date(2026, 2, 17))
    assert dates(expand(series, date(2026, 2, 1), date(2026, 3, 15))) == [
        date(2026, 2, 3),
        date(2026, 2, 10),
        date(2026, 2, 17),
    ]


def test_series_starting_mid_range_begins_at_its_start_date(app, make_series):
    """A Tuesday series starting Wednesday 11 Feb 2026 is first held on Tuesday 17 Feb."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 2, 11))
    assert dates(expand(series, date(2026, 2, 1), date(2026, 3, 1))) == [
        date(2026, 2, 17),
        date(2026, 2, 24),
    ]


def test_range_outside_the_series_gives_nothing(app, make_series):
    """Asking for dates before the start or after the end yields no occurrences."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 3, 1), end_date=date(2026, 3, 31))
    assert expand(series, date(2026, 1, 1), date(2026, 2, 28)) == []
    assert expand(series, date(2026, 4, 1), date(2026, 4, 30)) == []
    assert occurrences([series], date(2026, 3, 10), date(2026, 3, 9)) == []


# Exceptions and closures -------------------------------------------------------------------


@pytest.mark.parametrize("include_cancelled", [False, True])
def test_cancelled_date_is_listed_only_with_include_cancelled(app, make_series, include_cancelled):
    """A cancelled Tuesday appears as CANCELLED (with its reason and no slots) only on request."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(series, date(2026, 2, 10), ExceptionKind.CANCELLED, reason="Ziek")
    result = occurrences(
        [series], date(2026, 2, 1), date(2026, 2, 28), include_cancelled=include_cancelled
    )
    if include_cancelled:
        assert dates(result) == [
            date(2026, 2, 3),
            date(2026, 2, 10),
            date(2026, 2, 17),
            date(2026, 2, 24),
        ]
        cancelled = result[1]
        assert cancelled.status is OccurrenceStatus.CANCELLED
        assert not cancelled.is_held
        assert cancelled.reason == "Ziek"
        assert cancelled.slots == []
    else:
        assert dates(result) == [date(2026, 2, 3), date(2026, 2, 17), date(2026, 2, 24)]
    assert all(
        o.status is OccurrenceStatus.SCHEDULED for o in result if o.date != date(2026, 2, 10)
    )


def test_changed_times_move_the_occurrence_and_its_slots(app, make_series):
    """A date changed to 10:00-11:00 is held then (09:00 UTC in winter) with two slots."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(
        series, date(2026, 2, 10), ExceptionKind.CHANGED, time(10, 0), time(11, 0), "Verzet"
    )
    regular, changed = occurrences([series], date(2026, 2, 3), date(2026, 2, 10))
    assert regular.kind is OccurrenceKind.REGULAR
    assert regular.start.astimezone(UTC) == utc(2026, 2, 3, 13, 0)
    assert changed.kind is OccurrenceKind.CHANGED
    assert changed.status is OccurrenceStatus.SCHEDULED
    assert changed.reason == "Verzet"
    assert changed.start.astimezone(UTC) == utc(2026, 2, 10, 9, 0)
    assert changed.end.astimezone(UTC) == utc(2026, 2, 10, 10, 0)
    assert [s.start_utc for s in changed.slots] == [utc(2026, 2, 10, 9, 0), utc(2026, 2, 10, 9, 30)]


def test_extra_date_outside_the_pattern_is_added(app, make_series):
    """An extra Thursday 12 Feb 10:00-12:00 appears between the regular Tuesdays."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(series, date(2026, 2, 12), ExceptionKind.EXTRA, time(10, 0), time(12, 0))
    result = occurrences([series], date(2026, 2, 9), date(2026, 2, 18))
    assert dates(result) == [date(2026, 2, 10), date(2026, 2, 12), date(2026, 2, 17)]
    extra = result[1]
    assert extra.kind is OccurrenceKind.EXTRA
    assert extra.start.astimezone(UTC) == utc(2026, 2, 12, 9, 0)
    assert extra.end.astimezone(UTC) == utc(2026, 2, 12, 11, 0)
    assert len(extra.slots) == 4


def test_extra_dates_before_start_and_after_end_date_are_added(app, make_series):
    """Extra dates count even outside the series' first and last date."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 3, 3), end_date=date(2026, 3, 10))
    add_exception(series, date(2026, 2, 26), ExceptionKind.EXTRA, time(9, 0), time(10, 0))
    add_exception(series, date(2026, 3, 19), ExceptionKind.EXTRA, time(9, 0), time(10, 0))
    result = occurrences([series], date(2026, 2, 1), date(2026, 3, 31))
    assert dates(result) == [
        date(2026, 2, 26),
        date(2026, 3, 3),
        date(2026, 3, 10),
        date(2026, 3, 19),
    ]
    assert [o.kind for o in result] == [
        OccurrenceKind.EXTRA,
        OccurrenceKind.REGULAR,
        OccurrenceKind.REGULAR,
        OccurrenceKind.EXTRA,
    ]


def test_exceptions_outside_the_range_are_ignored(app, make_series):
    """An extra date just past the range is not listed; only the range is expanded."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(series, date(2026, 2, 19), ExceptionKind.EXTRA, time(9, 0), time(10, 0))
    assert dates(occurrences([series], date(2026, 2, 9), date(2026, 2, 18))) == [
        date(2026, 2, 10),
        date(2026, 2, 17),
    ]


def test_closure_over_an_extra_date_closes_it(app, make_series):
    """An extra date on a day the location is closed is CLOSED, with the closure's reason."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(series, date(2026, 2, 12), ExceptionKind.EXTRA, time(10, 0), time(12, 0))
    add_closure(series.location, date(2026, 2, 12), date(2026, 2, 13), "Studiedag")
    everything = occurrences([series], date(2026, 2, 9), date(2026, 2, 18), include_cancelled=True)
    extra = everything[1]
    assert (extra.date, extra.kind) == (date(2026, 2, 12), OccurrenceKind.EXTRA)
    assert extra.status is OccurrenceStatus.CLOSED
    assert extra.reason == "Studiedag"
    assert extra.slots == []
    assert dates(occurrences([series], date(2026, 2, 9), date(2026, 2, 18))) == [
        date(2026, 2, 10),
        date(2026, 2, 17),
    ]


def test_closure_over_regular_dates_closes_them(app, make_series):
    """A closure from 14 to 24 Feb closes the Tuesdays 17 and 24 Feb, not 10 Feb or 3 Mar."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_closure(series.location, date(2026, 2, 14), date(2026, 2, 24), "Verbouwing")
    everything = occurrences([series], date(2026, 2, 10), date(2026, 3, 3), include_cancelled=True)
    assert [(o.date, o.status) for o in everything] == [
        (date(2026, 2, 10), OccurrenceStatus.SCHEDULED),
        (date(2026, 2, 17), OccurrenceStatus.CLOSED),
        (date(2026, 2, 24), OccurrenceStatus.CLOSED),
        (date(2026, 3, 3), OccurrenceStatus.SCHEDULED),
    ]
    assert {o.reason for o in everything if o.status is OccurrenceStatus.CLOSED} == {"Verbouwing"}
    assert dates(occurrences([series], date(2026, 2, 10), date(2026, 3, 3))) == [
        date(2026, 2, 10),
        date(2026, 3, 3),
    ]


def test_closure_wins_over_a_cancellation_and_a_change(app, make_series):
    """On a closed day a cancelled or changed date shows as CLOSED with the closure's reason."""
    series = make_series(weekdays=f"{MON},{TUE}", start_date=date(2026, 1, 5))
    add_exception(series, date(2026, 2, 9), ExceptionKind.CANCELLED, reason="Ziek")
    add_exception(series, date(2026, 2, 10), ExceptionKind.CHANGED, time(9, 0), time(10, 0))
    add_closure(series.location, date(2026, 2, 9), date(2026, 2, 10), "Storing")
    result = occurrences([series], date(2026, 2, 9), date(2026, 2, 10), include_cancelled=True)
    assert [(o.date, o.status, o.reason) for o in result] == [
        (date(2026, 2, 9), OccurrenceStatus.CLOSED, "Storing"),
        (date(2026, 2, 10), OccurrenceStatus.CLOSED, "Storing"),
    ]


def test_closure_at_another_location_has_no_effect(app, make_series, make_location):
    """Closing another branch leaves this series' dates scheduled."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    other = make_location()
    add_closure(other, date(2026, 2, 1), date(2026, 2, 28))
    result = occurrences([series], date(2026, 2, 1), date(2026, 2, 28), include_cancelled=True)
    assert dates(result) == [
        date(2026, 2, 3),
        date(2026, 2, 10),
        date(2026, 2, 17),
        date(2026, 2, 24),
    ]
    assert {o.status for o in result} == {OccurrenceStatus.SCHEDULED}


def test_closure_closes_every_series_at_the_location(app, make_series, make_location, make_org):
    """A branch closure affects the host's own series and a guest provider's series alike."""
    location = make_location()
    own = make_series(location=location, provider=location.organisation, weekdays=str(TUE))
    guest = make_series(location=location, provider=make_org(), weekdays=str(WED))
    add_closure(location, date(2026, 2, 9), date(2026, 2, 15))
    result = occurrences([own, guest], date(2026, 2, 9), date(2026, 2, 15), include_cancelled=True)
    assert [(o.series.id, o.date, o.status) for o in result] == [
        (own.id, date(2026, 2, 10), OccurrenceStatus.CLOSED),
        (guest.id, date(2026, 2, 11), OccurrenceStatus.CLOSED),
    ]


# Modes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "walk_in_utc", "first_slot_utc"),
    [
        (
            date(2026, 2, 10),
            (utc(2026, 2, 10, 13, 0), utc(2026, 2, 10, 13, 30)),
            utc(2026, 2, 10, 13),
        ),
        (date(2026, 6, 9), (utc(2026, 6, 9, 12, 0), utc(2026, 6, 9, 12, 30)), utc(2026, 6, 9, 12)),
    ],
    ids=["winter", "summer"],
)
def test_mixed_mode_has_walk_in_window_and_slots(
    app, make_series, day, walk_in_utc, first_slot_utc
):
    """Mixed: walk-in 14:00-14:30 and appointments 14:00-16:00 on the wall clock."""
    series = make_series(
        mode=Mode.MIXED,
        weekdays=str(TUE),
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
    )
    [occurrence] = expand(series, day, day)
    assert (occurrence.walk_in_start.astimezone(UTC), occurrence.walk_in_end.astimezone(UTC)) == (
        walk_in_utc
    )
    assert (wall(occurrence.walk_in_start), wall(occurrence.walk_in_end)) == ("14:00", "14:30")
    assert [s.start_utc for s in occurrence.slots] == [
        first_slot_utc + n * HALF_HOUR for n in range(4)
    ]


def test_walk_in_mode_has_no_slots(app, make_series):
    """Walk-in hours are shown but have no slots and no separate walk-in window."""
    series = make_series(mode=Mode.WALK_IN, weekdays=str(TUE))
    [occurrence] = expand(series, date(2026, 2, 10), date(2026, 2, 10))
    assert occurrence.start.astimezone(UTC) == utc(2026, 2, 10, 13, 0)
    assert occurrence.slots == []
    assert build_slots(series, occurrence) == []
    assert occurrence.walk_in_start is None and occurrence.walk_in_end is None


@pytest.mark.parametrize(
    ("slot_minutes", "seats", "expected_starts"),
    [
        (30, 1, ["14:00", "14:30", "15:00", "15:30"]),
        (45, 2, ["14:00", "14:45"]),  # 15:30-16:15 would run past the end
        (120, 3, ["14:00"]),
    ],
)
def test_slots_fill_the_block_without_running_past_its_end(
    app, make_series, slot_minutes, seats, expected_starts
):
    """Slots of the slot length follow each other from the start; none ends after 16:00."""
    series = make_series(weekdays=str(TUE), slot_minutes=slot_minutes, seats_per_slot=seats)
    [occurrence] = expand(series, date(2026, 2, 10), date(2026, 2, 10))
    assert [wall(s.start) for s in occurrence.slots] == expected_starts
    assert {s.seats for s in occurrence.slots} == {seats}
    assert all(s.end <= occurrence.end for s in occurrence.slots)


# bookable_slots ----------------------------------------------------------------------------

NOW = utc(2026, 2, 9, 8, 0)  # Monday 9 Feb 2026, 09:00 in Amsterdam


def test_bookable_slots_only_from_published_appointment_and_mixed_series(app, make_series):
    """Drafts, paused series and walk-in series offer nothing to book."""
    common = {"weekdays": str(TUE), "start_date": date(2026, 1, 6)}
    appointment = make_series(title="Afspraak", **common)
    mixed = make_series(
        title="Gemengd",
        mode=Mode.MIXED,
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
        **common,
    )
    make_series(title="Inloop", mode=Mode.WALK_IN, **common)
    make_series(title="Concept", status=SeriesStatus.DRAFT, **common)
    make_series(title="Gepauzeerd", status=SeriesStatus.PAUSED, **common)
    everything = db.session.scalars(sa.select(ConsultationHours)).all()
    assert len(everything) == 5

    free = bookable_slots(everything, date(2026, 2, 10), date(2026, 2, 10), now=NOW)
    assert {b.occurrence.series.id for b in free} == {appointment.id, mixed.id}
    assert len(free) == 8
    assert {b.seats_left for b in free} == {1}


@pytest.mark.parametrize(
    ("notice_hours", "first_bookable_utc"),
    [
        (0, utc(2026, 2, 10, 13, 0)),
        (29, utc(2026, 2, 10, 13, 0)),  # earliest 13:00 UTC: the 14:00 slot just fits
        (30, utc(2026, 2, 10, 14, 0)),  # earliest 14:00 UTC = 15:00 local
        (31, utc(2026, 2, 17, 13, 0)),  # nothing left on the 10th
    ],
)
def test_bookable_slots_respect_minimum_notice(app, make_series, notice_hours, first_bookable_utc):
    """A slot is bookable only when it starts at least min_notice_hours after now."""
    series = make_series(
        weekdays=str(TUE), start_date=date(2026, 1, 6), min_notice_hours=notice_hours
    )
    free = bookable_slots([series], date(2026, 2, 9), date(2026, 2, 17), now=NOW)
    assert free[0].slot.start_utc == first_bookable_utc
    assert all(b.slot.start_utc >= NOW + timedelta(hours=notice_hours) for b in free)


def test_bookable_slots_skip_slots_already_started(app, make_series):
    """With no notice at all, slots that began before now are still not offered."""
    series = make_series(weekdays=str(TUE), min_notice_hours=0)
    now = utc(2026, 2, 10, 13, 40)  # 14:40 local, during the hours
    free = bookable_slots([series], date(2026, 2, 10), date(2026, 2, 10), now=now)
    assert [b.slot.start_utc for b in free] == [utc(2026, 2, 10, 14, 0), utc(2026, 2, 10, 14, 30)]


@pytest.mark.parametrize(
    "now", [ams(2026, 3, 29, 0, 30), utc(2026, 3, 28, 23, 30)], ids=["amsterdam", "utc"]
)
def test_minimum_notice_counts_real_hours_across_the_spring_change(app, make_series, now):
    """Two hours' notice from 00:30 on 29 March is 03:30 summer time (01:30 UTC), not 03:00.

    The answer is the same whether ``now`` is given in Amsterdam time or in UTC."""
    series = sunday_series(
        make_series,
        start_date=SPRING_CHANGE,
        end_date=SPRING_CHANGE,
        start_time=time(1, 0),
        end_time=time(4, 0),
        min_notice_hours=2,
    )
    free = bookable_slots([series], SPRING_CHANGE, SPRING_CHANGE, now=now)
    assert [b.slot.start_utc for b in free] == [utc(2026, 3, 29, 1, 30)]


def test_bookable_slots_need_an_aware_now(app, make_series):
    """A naive ``now`` is refused instead of being guessed."""
    series = make_series(weekdays=str(TUE))
    with pytest.raises(ValueError):
        bookable_slots([series], date(2026, 2, 10), date(2026, 2, 10), now=datetime(2026, 2, 9))


@pytest.mark.parametrize(
    ("ahead_days", "expected"),
    [
        (1, [date(2026, 2, 10)]),
        (7, [date(2026, 2, 10)]),
        (8, [date(2026, 2, 10), date(2026, 2, 17)]),
        (15, [date(2026, 2, 10), date(2026, 2, 17), date(2026, 2, 24)]),
    ],
)
def test_bookable_slots_respect_book_ahead_days(app, make_series, ahead_days, expected):
    """From Monday 9 Feb one may book up to and including today + book_ahead_days."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6), book_ahead_days=ahead_days)
    free = bookable_slots([series], date(2026, 2, 9), date(2026, 3, 31), now=NOW)
    assert sorted({b.occurrence.date for b in free}) == expected


def test_book_ahead_horizon_uses_the_local_date(app, make_series):
    """At 23:30 UTC on Monday 9 Feb it is already Tuesday 10 Feb in Amsterdam: the horizon
    of 7 days then reaches Tuesday 17 Feb."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6), book_ahead_days=7)
    free = bookable_slots(
        [series], date(2026, 2, 9), date(2026, 3, 31), now=utc(2026, 2, 9, 23, 30)
    )
    assert sorted({b.occurrence.date for b in free}) == [date(2026, 2, 10), date(2026, 2, 17)]


def test_booked_seats_reduce_what_is_left_and_full_slots_disappear(app, make_series):
    """With 2 seats per slot: one booking leaves 1 seat, two bookings remove the slot."""
    series = make_series(weekdays=str(TUE), seats_per_slot=2)
    other = make_series(weekdays=str(TUE), seats_per_slot=2)
    booked = {
        (series.id, utc(2026, 2, 10, 13, 0)): 1,
        (series.id, utc(2026, 2, 10, 13, 30)): 2,
        # the same instant written in Amsterdam time counts too
        (series.id, ams(2026, 2, 10, 15, 0)): 2,
        # naive keys are read as UTC (SQLite returns naive datetimes)
        (series.id, datetime(2026, 2, 10, 14, 30)): 1,
        # bookings of another series do not count here
        (other.id, utc(2026, 2, 10, 13, 0)): 2,
    }
    free = bookable_slots([series], date(2026, 2, 10), date(2026, 2, 10), now=NOW, booked=booked)
    assert [(b.slot.start_utc, b.seats_left) for b in free] == [
        (utc(2026, 2, 10, 13, 0), 1),
        (utc(2026, 2, 10, 14, 30), 1),
    ]


def test_bookable_slots_leave_out_cancelled_and_closed_dates(app, make_series):
    """A cancelled date and a closed date offer no slots."""
    series = make_series(weekdays=str(TUE), start_date=date(2026, 1, 6))
    add_exception(series, date(2026, 2, 10), ExceptionKind.CANCELLED)
    add_closure(series.location, date(2026, 2, 17), date(2026, 2, 17))
    free = bookable_slots([series], date(2026, 2, 9), date(2026, 2, 24), now=NOW)
    assert {b.occurrence.date for b in free} == {date(2026, 2, 24)}


# occurrences over many series --------------------------------------------------------------


def test_occurrences_of_many_series_are_sorted_by_start_instant(app, make_series, make_location):
    """Several series on several days and locations come back in order of their start instant,
    also when a location lies in another time zone."""
    tuesday_late = make_series(
        title="B", weekdays=str(TUE), start_time=time(15, 0), end_time=time(16, 0)
    )
    tuesday_early = make_series(
        title="A", weekdays=str(TUE), start_time=time(9, 0), end_time=time(10, 0)
    )
    monday = make_series(title="C", weekdays=str(MON), start_time=time(16, 0), end_time=time(17, 0))
    wednesday = make_series(
        title="D", weekdays=str(WED), start_time=time(8, 0), end_time=time(9, 0)
    )
    # 14:30 in London is 14:30 UTC: after 15:00 Amsterdam (14:00 UTC), before 16:00.
    london = make_series(
        title="E",
        weekdays=str(TUE),
        start_time=time(14, 30),
        end_time=time(15, 30),
        location=make_location(timezone="Europe/London"),
    )
    result = occurrences(
        [wednesday, london, tuesday_late, monday, tuesday_early],
        date(2026, 2, 9),
        date(2026, 2, 11),
    )
    assert [(o.series.id, o.start.astimezone(UTC)) for o in result] == [
        (monday.id, utc(2026, 2, 9, 15, 0)),
        (tuesday_early.id, utc(2026, 2, 10, 8, 0)),
        (tuesday_late.id, utc(2026, 2, 10, 14, 0)),
        (london.id, utc(2026, 2, 10, 14, 30)),
        (wednesday.id, utc(2026, 2, 11, 7, 0)),
    ]
    starts = [o.start for o in result]
    assert starts == sorted(starts)


def test_occurrences_at_the_same_time_are_ordered_by_title(app, make_series):
    """Series starting at the same instant are ordered by title."""
    second = make_series(title="Zorgtoeslag", weekdays=str(TUE))
    first = make_series(title="DigiD", weekdays=str(TUE))
    result = occurrences([second, first], date(2026, 2, 10), date(2026, 2, 10))
    assert [o.series.id for o in result] == [first.id, second.id]


# Cost --------------------------------------------------------------------------------------


def test_one_week_of_a_ten_year_old_series_tests_only_that_week(app, make_series, monkeypatch):
    """Expanding one week of a series started in 2016 tests 7 dates, not 10 years of them."""
    series = make_series(weekdays=f"{MON},{THU}", interval_weeks=2, start_date=date(2016, 1, 4))
    calls: list[date] = []
    original = schedule.matches_pattern

    def counting(series_, day):
        calls.append(day)
        return original(series_, day)

    monkeypatch.setattr(schedule, "matches_pattern", counting)
    result = occurrences([series], date(2026, 1, 5), date(2026, 1, 11))
    assert dates(result) == [date(2026, 1, 5), date(2026, 1, 8)]
    assert sorted(calls) == [date(2026, 1, 5) + timedelta(days=n) for n in range(7)]


@pytest.mark.parametrize("series_count", [1, 4, 12])
def test_occurrences_load_exceptions_and_closures_in_two_queries(app, make_series, series_count):
    """Whatever the number of series and their history, occurrences() runs exactly two SQL
    statements: one for the exceptions and one for the closures in the range."""
    all_series = [
        make_series(weekdays=str(TUE), start_date=date(2016, 1, 5)) for _ in range(series_count)
    ]
    for series in all_series:
        # Ten years of history that must not be read for one week now.
        for year in range(2016, 2026):
            add_exception(series, date(year, 3, 1), ExceptionKind.EXTRA, time(9), time(10))
            add_closure(series.location, date(year, 7, 1), date(year, 7, 31))
    add_exception(all_series[0], date(2026, 2, 10), ExceptionKind.CANCELLED)
    add_closure(all_series[-1].location, date(2026, 2, 10), date(2026, 2, 10))
    for series in all_series:  # load the series and their locations before counting
        assert series.location.timezone == "Europe/Amsterdam"

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = occurrences(
            all_series, date(2026, 2, 9), date(2026, 2, 15), include_cancelled=True
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)

    assert len(statements) == 2, statements
    assert "series_exception" in statements[0]
    assert "location_closure" in statements[1]
    assert len(result) == series_count
    assert result[0].status is not OccurrenceStatus.SCHEDULED
    if series_count > 1:
        statuses = {o.series.id: o.status for o in result}
        assert statuses[all_series[0].id] is OccurrenceStatus.CANCELLED
        assert statuses[all_series[-1].id] is OccurrenceStatus.CLOSED
        assert all(statuses[s.id] is OccurrenceStatus.SCHEDULED for s in all_series[1:-1])


def test_occurrences_of_no_series_run_no_query(app):
    """An empty list of series gives no occurrences without touching the database."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert occurrences([], date(2026, 2, 9), date(2026, 2, 15)) == []
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
