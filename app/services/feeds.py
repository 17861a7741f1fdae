"""Calendar feeds: secret feed links of staff, public feeds of published hours, their
freshness and their events.

A feed is polled by calendar clients every few minutes to hours, mostly to learn that
nothing changed. So every feed has a *freshness*: an ETag and a Last-Modified computed by
one aggregate query over what the feed covers, without loading a series or building a
calendar. Only when that changed is the calendar built.

What a feed may contain is decided in ``app.permissions`` when the feed is read, not only
when the link is made: a staff member who changes organisation or becomes a volunteer stops
seeing bookings in feeds they made before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import orm

from app import POLL_BIND, clock, labels
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    FeedBookings,
    FeedKind,
    FeedLink,
    Location,
    LocationClosure,
    Organisation,
    SeriesException,
    Topic,
    TopicName,
    User,
    feed_link_series,
    series_topic,
)
from app.permissions import Action, can
from app.services import DomainError, NotAllowed, finder, public_feed_texts
from app.services.ical import UID_DOMAIN, CalendarEvent, write_calendar
from app.services.notify import external_url
from app.services.schedule import Occurrence, OccurrenceStatus, expand

TOKEN_BYTES = 32  # 256 random bits
MAX_TOKEN_LENGTH = 64
# A use is written at most this often per link: polling must not mean a write per poll.
USE_RESOLUTION = timedelta(minutes=15)
# Raise when what a feed writes changes without its data changing (new fields, texts).
FORMAT_VERSION = 1


# Links ------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_name(kind: FeedKind, target: Location | Organisation | None) -> str:
    """The calendar's name when its maker gave none."""
    if kind is FeedKind.LOCATION and target is not None:
        return _("Hours at %(place)s", place=target.name)
    if kind is FeedKind.ORGANISATION and target is not None:
        return _("Hours of %(organisation)s", organisation=target.name)
    return _("Hours I follow")


def create_link(
    user: User,
    kind: FeedKind,
    *,
    location: Location | None = None,
    organisation: Organisation | None = None,
    series: Iterable[ConsultationHours] = (),
    include_bookings: FeedBookings = FeedBookings.NONE,
    name: str = "",
    language: str = "nl",
) -> tuple[FeedLink, str]:
    """Make a secret feed link; return it and its token (shown once, stored as a hash)."""
    series = list(series)
    if kind is FeedKind.LOCATION:
        if location is None:
            raise DomainError(_("Choose a location."), "location")
        if not can(user, Action.SUBSCRIBE, location):
            raise NotAllowed(_("You cannot make a feed of this location."), "location")
        organisation, series = None, []
    elif kind is FeedKind.ORGANISATION:
        if organisation is None:
            raise DomainError(_("Choose an organisation."), "organisation")
        if not can(user, Action.SUBSCRIBE, organisation):
            raise NotAllowed(_("You cannot make a feed of this organisation."), "organisation")
        if include_bookings is not FeedBookings.NONE and organisation.id != user.organisation_id:
            raise DomainError(
                _("Bookings are shown only for the hours of your own organisation."),
                "include_bookings",
            )
        location, series = None, []
    else:
        if not series:
            raise DomainError(_("Choose at least one of your hours to follow."), "series")
        if not all(can(user, Action.FOLLOW_SERIES, s) for s in series):
            raise NotAllowed(_("You can follow only the hours of your own organisation."), "series")
        location = organisation = None
    if include_bookings is not FeedBookings.NONE and not can(user, Action.FEED_BOOKINGS):
        raise NotAllowed(_("You cannot see bookings in a calendar feed."), "include_bookings")

    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = FeedLink(
        user=user,
        kind=kind,
        location=location,
        organisation=organisation,
        series=series,
        include_bookings=include_bookings,
        name=name.strip()[:80],
        language=language,
        token_hash=hash_token(token),
    )
    db.session.add(link)
    db.session.commit()
    return link, token


def revoke(link: FeedLink) -> None:
    """Stop a link from working at once (the next poll gets 404)."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()
    db.session.commit()


def revoke_all(user: User) -> int:
    """Revoke every working link of a user (on deactivation); the caller commits."""
    return db.session.execute(
        sa.update(FeedLink)
        .where(FeedLink.user_id == user.id, FeedLink.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    ).rowcount


def title_of(link: FeedLink) -> str:
    """What a link is called in the portal and in the calendar client."""
    return link.name or default_name(link.kind, link.location or link.organisation)


# What a feed covers -----------------------------------------------------------------------


class Feed(NamedTuple):
    """One feed, described before anything is loaded: by a link or by a public address."""

    scope: str  # location, organisation, personal (a link's kind), place or topic
    target: int | str  # location / organisation / feed-link id, place name, topic slug
    language: str
    bookings: FeedBookings = FeedBookings.NONE
    link_id: int | None = None
    user_id: int | None = None

    @property
    def private(self) -> bool:
        return self.link_id is not None


# The poll path makes these on every poll: plain tuples, cheaper to make than dataclasses.


class Freshness(NamedTuple):
    etag: str
    last_modified: datetime  # whole seconds, UTC
    names: tuple = ()  # a public feed's place or topic names, as the database has them

    @property
    def header(self) -> str:
        """The ETag header: a weak tag, since the same events may be written differently."""
        return f'W/"{self.etag}"'


class Poll(NamedTuple):
    """What a token's lookup found: its feed, the feed's freshness, the link's last use."""

    feed: Feed
    freshness: Freshness
    last_used_at: datetime | None


def place_feed(place: str, language: str) -> Feed:
    return Feed(scope="place", target=place, language=language)


def topic_feed(slug: str, language: str) -> Feed:
    return Feed(scope="topic", target=slug, language=language)


def _series_filter(scope: str, target) -> sa.ColumnElement[bool]:
    """Which series a feed covers, before permissions (on series joined with location)."""
    match scope:
        case "location":
            return ConsultationHours.location_id == target
        case "organisation":
            return ConsultationHours.provider_id == target
        case "personal":
            return ConsultationHours.id.in_(
                sa.select(feed_link_series.c.series_id).where(
                    feed_link_series.c.feed_link_id == target
                )
            )
        case "place":
            return Location.city == target
        case "topic":
            return ConsultationHours.id.in_(
                sa.select(series_topic.c.series_id)
                .join(Topic, Topic.id == series_topic.c.topic_id)
                .where(Topic.slug == target)
            )
    raise ValueError(scope)


@dataclass(frozen=True)
class Window:
    """The dates a feed covers, and the moment before which cancelled events drop out."""

    today: date
    start: date
    end: date
    midnight: datetime  # the start of today (UTC): the window moves on then
    keep_cancelled_since: datetime
    key: str  # what of the window and the settings goes into a feed's ETag

    @classmethod
    def current(cls) -> Window:
        """Today's window (made once a day: every poll asks for it)."""
        config = current_app.config
        settings = tuple(
            config[name]
            for name in (
                "TIMEZONE",
                "FEED_DAYS_BACK",
                "FEED_DAYS_AHEAD",
                "FEED_KEEP_CANCELLED_DAYS",
                "FEED_REFRESH_MINUTES",
            )
        )
        key = (clock.today(), *settings)
        window = _windows.get(key)
        if window is None:
            _windows.clear()
            window = _windows[key] = cls._make(*key)
        return window

    @classmethod
    def _make(cls, today, timezone, days_back, days_ahead, keep_days, refresh) -> Window:
        zone = ZoneInfo(timezone)
        # Whole days only: a feed then changes with the clock once a day, at midnight, and
        # that is when its ETag moves on too.
        keep_from = today - timedelta(days=keep_days)
        return cls(
            today=today,
            start=today - timedelta(days=days_back),
            end=today + timedelta(days=days_ahead),
            midnight=datetime.combine(today, time(), zone).astimezone(UTC),
            keep_cancelled_since=datetime.combine(keep_from, time(), zone).astimezone(UTC),
            key="|".join(map(str, (today, timezone, days_back, days_ahead, keep_days, refresh))),
        )


_windows: dict[tuple, Window] = {}


# Freshness --------------------------------------------------------------------------------
#
# A poll is answered by one statement on a pooled DBAPI connection, compiled once per
# dialect: no session, no ORM objects, no Result. For a secret link that one row holds the
# link, its owner and the newest change of everything the feed covers, so that a 304 costs
# one indexed query (see bench/feed_bench.py). Date exceptions and closures need no column
# of their own: adding or removing one raises the revision of every series it touches,
# which updates the series row. Places and organisations (names, addresses) are few and
# rarely change: the newest change of any of them counts for every feed, which spares a
# poll two joins per series at the price of one rebuild of every feed after such an edit.


def _newest_booking() -> sa.ScalarSelect:
    """The newest change of one series' bookings: one probe of ix_booking_series_id_updated_at."""
    return (
        sa.select(sa.func.max(Booking.updated_at))
        .where(Booking.series_id == ConsultationHours.id)
        .scalar_subquery()
    )


def _newest_place_or_provider() -> list[sa.ScalarSelect]:
    return [
        sa.select(sa.func.max(table.updated_at)).scalar_subquery()
        for table in (Location, Organisation)
    ]


def _token_statement() -> sa.Select:
    """The link with this token hash, if it works, with the freshness of its feed.

    Columns: token hash, last use, then everything that changes the feed (its ETag): the
    link's settings, its owner's role and organisation, the count and newest change of the
    series it covers and - where the feed may show them - of their bookings, and the newest
    change of any place or organisation.
    """
    owner_organisation = orm.aliased(Organisation)
    # At most one of the three matches a link (the table's CHECKs): its kind's target.
    covered = sa.or_(
        ConsultationHours.location_id == FeedLink.location_id,
        ConsultationHours.provider_id == FeedLink.organisation_id,
        ConsultationHours.id == feed_link_series.c.series_id,
    )
    # Counted for every owner; the permissions decide per series when the feed is built.
    shows_bookings = sa.and_(
        FeedLink.include_bookings != sa.literal_column("'none'"),
        ConsultationHours.provider_id == User.organisation_id,
    )
    return (
        sa.select(
            FeedLink.token_hash,
            FeedLink.last_used_at,
            FeedLink.id,
            FeedLink.kind,
            FeedLink.location_id,
            FeedLink.organisation_id,
            FeedLink.include_bookings,
            FeedLink.language,
            FeedLink.changed_at,
            User.id,
            User.role,
            User.organisation_id,
            User.updated_at,
            sa.func.count(ConsultationHours.id),
            sa.func.max(ConsultationHours.updated_at),
            sa.func.max(sa.case((shows_bookings, _newest_booking()))),
            *_newest_place_or_provider(),
        )
        .select_from(FeedLink)
        .join(User, User.id == FeedLink.user_id)
        .join(owner_organisation, owner_organisation.id == User.organisation_id)
        .outerjoin(feed_link_series, feed_link_series.c.feed_link_id == FeedLink.id)
        .outerjoin(ConsultationHours, covered)
        .where(
            FeedLink.token_hash == sa.bindparam("token_hash"),
            FeedLink.revoked_at.is_(None),
            # Whoever may not log in reads no feed either.
            User.active.is_(sa.true()),
            owner_organisation.active.is_(sa.true()),
        )
        .group_by(FeedLink.id, User.id)
    )


def _public_statement(scope: str) -> sa.Select:
    """The freshness of a public feed, and the names of its place or topic (None: none)."""
    target = sa.bindparam("target")
    if scope == "place":
        names = [
            sa.select(sa.func.max(Location.city))
            .where(Location.city == target, Location.active.is_(sa.true()))
            .scalar_subquery()
        ]
    else:
        # The name in the feed's language, in English, and in Dutch (None: no such topic).
        offered = (Topic.slug == target, Topic.active.is_(sa.true()), Topic.public.is_(sa.true()))
        names = [
            sa.select(TopicName.name)
            .join(Topic, Topic.id == TopicName.topic_id)
            .where(*offered, TopicName.language == language)
            .scalar_subquery()
            for language in (sa.bindparam("language"), sa.literal_column("'en'"))
        ] + [sa.select(Topic.name_nl).where(*offered).scalar_subquery()]
    return (
        sa.select(
            sa.func.count(ConsultationHours.id),
            sa.func.max(ConsultationHours.updated_at),
            *_newest_place_or_provider(),
            *names,
        )
        .select_from(ConsultationHours)
        .join(Location, Location.id == ConsultationHours.location_id)
        .where(_series_filter(scope, target))
    )


class _Compiled:
    """A Core statement compiled once per dialect and run on a DBAPI cursor."""

    def __init__(self, build):
        self._build = build
        self._by_dialect: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def run(self, cursor, dialect, params: dict) -> tuple | None:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            statement = self._build().compile(dialect=dialect)
            positions = tuple(statement.positiontup) if statement.positional else None
            compiled = self._by_dialect[dialect.name] = (statement.string, positions)
        sql, positions = compiled
        cursor.execute(sql, [params[name] for name in positions] if positions else params)
        return cursor.fetchone()


_TOKEN = _Compiled(_token_statement)
_PUBLIC = {
    scope: _Compiled(lambda scope=scope: _public_statement(scope)) for scope in ("place", "topic")
}


def poll_engine() -> sa.Engine:
    """The engine of the poll connections (for in-memory SQLite, the one engine there is)."""
    return db.engines.get(POLL_BIND) or db.engine


class _Cursor:
    """A cursor for the poll path, on a connection of the poll engine (``POLL_BIND``).

    Those connections read in autocommit mode: no BEGIN and ROLLBACK round trips, and
    nothing that makes psycopg drop its prepared statements, so PostgreSQL plans the poll
    statement once per connection. They are not pinged before use; a poll that finds its
    connection dead (say, after a database restart) throws it away and runs once more on a
    fresh one.
    """

    def __enter__(self):
        self.engine = poll_engine()
        self._connect()
        return self

    def _connect(self) -> None:
        self.connection = self.engine.raw_connection()
        self.cursor = self.connection.cursor()

    def run(self, compiled: _Compiled, **params) -> tuple | None:
        dialect = self.engine.dialect
        try:
            return compiled.run(self.cursor, dialect, params)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, self.connection.dbapi_connection, self.cursor):
                raise
            self.connection.invalidate(error)
            self._close()
            self._connect()
            return compiled.run(self.cursor, dialect, params)

    def _close(self) -> None:
        self.cursor.close()
        self.connection.close()

    def __exit__(self, *exc) -> None:
        self._close()


def cursor() -> _Cursor:
    """A DBAPI cursor for the poll path (``poll``, ``public_freshness``)."""
    return _Cursor()


def _instant(value) -> datetime | None:
    """A timestamp as the DBAPI returns it (SQLite: text in UTC) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_freshness(window: Window, parts: Iterable, instants: Iterable, names=()) -> Freshness:
    """ETag from everything the feed depends on; Last-Modified from the newest change (and
    at least the start of today, when the window moved)."""
    key = "|".join(map(str, (FORMAT_VERSION, window.key, *parts)))
    etag = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    # One DBAPI gives one type (SQLite: ISO text, which sorts as time does): parse only the
    # newest.
    stamps = [value for value in instants if value is not None]
    newest = max(window.midnight, _instant(max(stamps))) if stamps else window.midnight
    return Freshness(etag, newest.replace(microsecond=0), tuple(names))


def poll(cursor: _Cursor, token: str, window: Window) -> Poll | None:
    """The feed of a working link and its freshness, or None for an unknown, revoked or
    malformed token (and for an owner who may not log in)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(token)
    row = cursor.run(_TOKEN, token_hash=digest)
    # The lookup is by hash; compare once more in constant time all the same.
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    last_used_at, link_id, kind, location_id, organisation_id, bookings, language = row[1:8]
    changed_at, user_id, user_updated_at, newest = row[8], row[9], row[12], row[14:]
    kind = FeedKind(kind)
    target = {
        FeedKind.LOCATION: location_id,
        FeedKind.ORGANISATION: organisation_id,
        FeedKind.PERSONAL: link_id,
    }[kind]
    feed = Feed(
        scope=kind.value,
        target=target,
        language=language,
        bookings=FeedBookings(bookings),
        link_id=link_id,
        user_id=user_id,
    )
    freshness = make_freshness(window, row[2:], (changed_at, user_updated_at, *newest))
    return Poll(feed, freshness, _instant(last_used_at))


def public_freshness(cursor: _Cursor, feed: Feed, window: Window) -> Freshness | None:
    """The freshness of a public feed, or None when its place or topic does not exist."""
    row = cursor.run(_PUBLIC[feed.scope], target=feed.target, language=feed.language)
    names = row[4:]
    if names[-1] is None:
        return None
    return make_freshness(window, (feed.scope, feed.target, feed.language, *row), row[1:4], names)


def record_use(found: Poll) -> None:
    """Note that a link was used; at most once per USE_RESOLUTION, so polls stay reads."""
    now = clock.now()
    if found.last_used_at is not None and now - found.last_used_at < USE_RESOLUTION:
        return
    try:
        db.session.execute(
            sa.update(FeedLink).where(FeedLink.id == found.feed.link_id).values(last_used_at=now)
        )
        db.session.commit()
    except sa.exc.OperationalError:
        # A busy database must not cost the calendar its answer; the next poll records it.
        db.session.rollback()


# Building ---------------------------------------------------------------------------------


@dataclass
class _Covered:
    """What a feed shows, loaded for one window."""

    series: list[ConsultationHours]
    bookings_for: set[int]  # series whose bookings this feed may show
    visible: set[int]  # series the user may open in the portal (else: the public page)
    exceptions: dict[int, dict[date, SeriesException]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    closures: dict[int, list[LocationClosure]] = field(default_factory=lambda: defaultdict(list))
    bookings: dict[int, dict[date, list]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )


def _load(feed: Feed, user: User | None, window: Window) -> _Covered:
    """The published series a feed covers, with what it may show of them, in one window."""
    # The hours residents may see (published, at a location in use, by an active
    # organisation): a staff feed shows what actually takes place, as a public one does.
    query = (
        finder.public_series_query()
        .where(_series_filter(feed.scope, sa.bindparam("target", feed.target)))
        .options(
            orm.contains_eager(ConsultationHours.location),
            orm.contains_eager(ConsultationHours.provider),
        )
        .order_by(ConsultationHours.id)
    )
    series = list(db.session.scalars(query).unique())
    bookings_for: set[int] = set()
    visible: set[int] = set()
    if user is not None:
        if feed.scope == "personal":
            series = [s for s in series if can(user, Action.FOLLOW_SERIES, s)]
        if feed.bookings is not FeedBookings.NONE:
            bookings_for = {
                s.id for s in series if s.is_bookable_mode and can(user, Action.FEED_BOOKINGS, s)
            }
        visible = {s.id for s in series if can(user, Action.VIEW, s)}
    covered = _Covered(series=series, bookings_for=bookings_for, visible=visible)
    if not series:
        return covered

    for exc in db.session.scalars(
        sa.select(SeriesException).where(
            SeriesException.series_id.in_([s.id for s in series]),
            SeriesException.date.between(window.start, window.end),
        )
    ):
        covered.exceptions[exc.series_id][exc.date] = exc
    for closure in db.session.scalars(
        sa.select(LocationClosure).where(
            LocationClosure.location_id.in_({s.location_id for s in series}),
            LocationClosure.start_date <= window.end,
            LocationClosure.end_date >= window.start,
        )
    ):
        covered.closures[closure.location_id].append(closure)
    if bookings_for:
        _load_bookings(covered, window)
    return covered


def _load_bookings(covered: _Covered, window: Window) -> None:
    """Bookings of the window, by series and local date; never the phone, email or question."""
    # A day's margin on both sides: the window's dates are local, the slots are instants.
    first = datetime.combine(window.start - timedelta(days=1), time(), UTC)
    last = datetime.combine(window.end + timedelta(days=2), time(), UTC)
    zones = {s.id: ZoneInfo(s.location.timezone) for s in covered.series}
    rows = db.session.execute(
        sa.select(
            Booking.id,
            Booking.series_id,
            Booking.slot_start,
            Booking.slot_end,
            Booking.status,
            Booking.code,
            Booking.name,  # for the initials only
            Booking.version,
            Booking.updated_at,
            Booking.cancelled_at,
            Booking.affected_at,
        )
        .where(
            Booking.series_id.in_(covered.bookings_for),
            Booking.slot_start >= first,
            Booking.slot_start < last,
            Booking.status != BookingStatus.OFFERED,  # a seat held for the waiting list
        )
        .order_by(Booking.slot_start, Booking.id)
    )
    for row in rows:
        day = row.slot_start.astimezone(zones[row.series_id]).date()
        if window.start <= day <= window.end:
            covered.bookings[row.series_id][day].append(row)


def initials(name: str) -> str:
    """'Fatima el Amrani' -> 'F.E.A.': what a staff feed may show of a resident's name."""
    return "".join(f"{word[0].upper()}." for word in re.findall(r"\w+", name or ""))


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


@dataclass
class _SeriesText:
    """What every event of one series says, worked out once per series."""

    summary: str
    place: str
    lead: str  # provider · mode
    extra: list[str]  # public feeds: description, what to bring, getting in
    url: str
    changed: datetime
    zone: ZoneInfo


class _Builder:
    """Turns the loaded series, exceptions, closures and bookings into events."""

    def __init__(self, feed: Feed, covered: _Covered, window: Window):
        self.feed = feed
        self.covered = covered
        self.window = window
        # Translated once: a feed has thousands of events.
        self.texts = {
            **public_feed_texts.event_texts(),
            "booked": _("Booked: %(booked)s of %(seats)s"),
            "code": _("Appointment code: %(code)s"),
            "gone": _("This time no longer exists: contact the resident."),
        }
        self.modes = {mode: str(label) for mode, label in labels.MODE.items()}
        # url_for once, not per appointment: the id is the last part of the path.
        self.booking_url = external_url("desk.booking_detail", booking_id=0)[:-1]

    def series_text(self, series: ConsultationHours) -> _SeriesText:
        location, provider = series.location, series.provider
        extra = []
        if not self.feed.private:
            if series.description:
                extra.append(series.description)
            if series.what_to_bring:
                extra.append(f"{self.texts['bring']}: {series.what_to_bring}")
            if location.accessibility:
                extra.append(location.accessibility)
        if series.id in self.covered.visible:  # staff who may open it: the portal page
            url = external_url("portal.series_detail", series_id=series.id)
        else:
            url = external_url("public.series", series_id=series.id)
        return _SeriesText(
            summary=f"{series.title} – {provider.name}",
            place=f"{location.name}, {location.address}",
            lead=f"{provider.name} · {self.modes[series.mode]}",
            extra=extra,
            url=url,
            changed=max(series.updated_at, location.updated_at, provider.updated_at),
            zone=ZoneInfo(location.timezone),
        )

    def called_off_at(self, occurrence: Occurrence) -> datetime:
        """When an occurrence was called off (by a date exception or a closure)."""
        series = occurrence.series
        if occurrence.status is OccurrenceStatus.CLOSED:
            return max(
                c.created_at
                for c in self.covered.closures[series.location_id]
                if c.start_date <= occurrence.date <= c.end_date
            )
        return self.covered.exceptions[series.id][occurrence.date].created_at

    def occurrence_event(
        self, occurrence: Occurrence, text: _SeriesText, bookings: dict | None, revision: int
    ) -> CalendarEvent | None:
        changed = [text.changed]
        exception = self.covered.exceptions[occurrence.series.id].get(occurrence.date)
        if exception is not None:
            changed.append(exception.updated_at)
        cancelled = not occurrence.is_held
        if cancelled:
            called_off = self.called_off_at(occurrence)
            if called_off < self.window.keep_cancelled_since:
                return None  # subscribed calendars have had their time to remove it
            changed.append(called_off)

        lead = text.lead
        if occurrence.walk_in_start and occurrence.walk_in_end:
            lead += " · " + self.texts["walk_in"] % {
                "start": _hhmm(occurrence.walk_in_start),
                "end": _hhmm(occurrence.walk_in_end),
            }
        lines = [lead]
        reason = f": {occurrence.reason}" if occurrence.reason else ""
        if occurrence.status is OccurrenceStatus.CLOSED:
            lines.insert(0, self.texts["closed"] + reason)
        elif cancelled:
            lines.insert(0, self.texts["cancelled"] + reason)
        elif occurrence.reason:
            lines.append(occurrence.reason)
        if bookings is not None and occurrence.slots:
            day = bookings.get(occurrence.date, ())
            booked = sum(1 for b in day if b.status is not BookingStatus.CANCELLED)
            seats = sum(slot.seats for slot in occurrence.slots)
            lines.append(self.texts["booked"] % {"booked": booked, "seats": seats})
            changed.extend(b.updated_at for b in day)
        lines.extend(text.extra)
        return CalendarEvent(
            uid=f"occurrence-{occurrence.key}@{UID_DOMAIN}",
            start=occurrence.start,
            end=occurrence.end,
            summary=self.texts["cancelled_title"] % {"title": text.summary}
            if cancelled
            else text.summary,
            location=text.place,
            description="\n".join(lines),
            url=text.url,
            sequence=revision,
            last_modified=max(changed),
            cancelled=cancelled,
            busy=self.feed.scope == "personal",
        )

    def booking_event(self, title: str, text: _SeriesText, booking) -> CalendarEvent | None:
        """One appointment: its code and the resident's initials, nothing more."""
        cancelled = booking.status is BookingStatus.CANCELLED
        if cancelled and (
            booking.cancelled_at is None or booking.cancelled_at < self.window.keep_cancelled_since
        ):
            return None
        code = f"{booking.code[:4]}-{booking.code[4:]}"
        who = " ".join(part for part in (code, initials(booking.name)) if part)
        lines = [self.texts["code"] % {"code": code}, title]
        if booking.affected_at and not cancelled:
            lines.append(self.texts["gone"])
        summary = f"{who} – {title}"
        return CalendarEvent(
            uid=f"booking-{booking.id}-feed@{UID_DOMAIN}",
            start=booking.slot_start.astimezone(text.zone),
            end=booking.slot_end.astimezone(text.zone),
            summary=self.texts["cancelled_title"] % {"title": summary} if cancelled else summary,
            location=text.place,
            description="\n".join(lines),
            url=f"{self.booking_url}{booking.id}",
            sequence=booking.version,
            last_modified=booking.updated_at,
            cancelled=cancelled,
            busy=False,
        )

    def events(self) -> list[CalendarEvent]:
        events: list[CalendarEvent] = []
        codes = self.feed.bookings is FeedBookings.CODES
        for series in self.covered.series:
            text = self.series_text(series)
            shown = series.id in self.covered.bookings_for
            bookings = self.covered.bookings[series.id] if shown else None
            for occurrence in expand(
                series,
                self.window.start,
                self.window.end,
                self.covered.exceptions[series.id].values(),
                self.covered.closures[series.location_id],
            ):
                event = self.occurrence_event(occurrence, text, bookings, series.revision)
                if event is not None:
                    events.append(event)
            if codes and bookings:
                for day in bookings.values():
                    for booking in day:
                        event = self.booking_event(series.title, text, booking)
                        if event is not None:
                            events.append(event)
        events.sort(key=lambda e: (e.start.astimezone(UTC), e.uid))
        return events


def build(
    feed: Feed,
    *,
    name: str,
    window: Window,
    user: User | None = None,
    last_modified: datetime | None = None,
) -> bytes:
    """The feed as an iCalendar file, in its own language."""
    with force_locale(feed.language):
        covered = _load(feed, user, window)
        events = _Builder(feed, covered, window).events()
        description = (
            _("Consultation hours and appointments. Keep this link to yourself.")
            if feed.private
            else public_feed_texts.description()
        )
        # DTSTAMP is the feed's last change, not the moment of serving: equal freshness
        # gives equal bytes, so a client (or a cache) that compares bodies sees no change.
        return write_calendar(
            name,
            events,
            stamp=last_modified or clock.now(),
            description=description,
            refresh=timedelta(minutes=current_app.config["FEED_REFRESH_MINUTES"]),
            timezone=current_app.config["TIMEZONE"],
            last_modified=last_modified,
        )


def link_calendar_name(link: FeedLink) -> str:
    with force_locale(link.language):
        return title_of(link)


def public_calendar_name(feed: Feed, names: tuple) -> str:
    """'Help sessions in Maarssen' / 'Help sessions: DigiD', in the feed's language."""
    with force_locale(feed.language):
        if feed.scope == "place":
            return public_feed_texts.place_calendar_name(names[0])
        # In the feed's language; in English where it has no name of its own, else in Dutch.
        topic = names[-1] if feed.language == "nl" else next(name for name in names if name)
        return public_feed_texts.topic_calendar_name(topic)
