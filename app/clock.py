"""The current time, as the network sees it: instants in UTC, dates in Europe/Amsterdam."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """The current instant (aware, UTC)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date on the wall calendar of the network's time zone."""
    return now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def as_utc(value: datetime) -> datetime:
    """An instant from the database as an aware UTC datetime (SQLite returns naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
