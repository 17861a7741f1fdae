"""What a request may ask for: ids and numbers a database integer column holds, and dates
the network plans for. Every number and date read from a query string goes through here;
forms use the same limits (app/web/fields.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask import abort, flash, request
from flask_babel import format_date
from flask_babel import gettext as _

# Ids are INTEGER columns: 32 bits on PostgreSQL (SQLite would take 64).
LARGEST_INT = 2**31 - 1
SMALLEST_INT = -(2**31)
# Hours, closures, courses and day lists are planned in this century; a date outside it is a
# typing error, and keeps date arithmetic (a day before, a year after) far from its limits.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d{1,20}\s*")


def whole_number(value, minimum: int = SMALLEST_INT, maximum: int = LARGEST_INT) -> int | None:
    """``value`` (text or int) as an int from ``minimum`` to ``maximum``, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def in_date_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def _first_and_last() -> dict[str, str]:
    return {
        "first": format_date(FIRST_DAY, "d MMMM y"),
        "last": format_date(LAST_DAY, "d MMMM y"),
    }


def date_range_hint() -> str:
    """Which dates can be used, in the user's language."""
    return _("Choose a date from %(first)s to %(last)s.", **_first_and_last())


def query_int(
    name: str, default: int | None = None, *, minimum: int = 0, maximum: int = LARGEST_INT
) -> int | None:
    """A whole number from the query string; ``default`` when it is absent or empty.

    Anything else (not a number, or out of range) is an address no page of ours links to:
    404, as for an id in the path.
    """
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    number = whole_number(raw, minimum, maximum)
    if number is None:
        abort(404)
    return number


def query_date(name: str, default: date) -> date:
    """A date (YYYY-MM-DD) from the query string; ``default`` when it is absent or empty.

    A date we cannot read or that lies outside the range gives ``default`` too, with a message
    that says so, so the user sees which day they got and why.
    """
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not in_date_range(day):
        message = _(
            "We cannot show this date. Choose a date from %(first)s to %(last)s.",
            **_first_and_last(),
        )
        flash(message, "error")
        return default
    return day


def parse_slot(value: str | None) -> datetime | None:
    """A slot start from a URL (ISO 8601 in UTC), or None; also None for a date out of range,
    which no calendar holds and which could not even be moved to another time zone."""
    try:
        moment = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo and in_date_range(moment.date()) else None


def slot_param(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
