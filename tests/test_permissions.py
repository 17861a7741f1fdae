"""Who may do what: every role, in every organisation, for every action, as a table.

One small network is the scene of every test:

* ``provider`` - a partner organisation that holds the series SERIES_TITLE (with a date
  exception) at a location of the host;
* ``host`` - the library that owns that ``location`` (with a closure), its own profile, the
  staff ``account`` and the ``coordinator_account``;
* ``unrelated`` - an organisation that has nothing to do with either;
* ``municipality`` - the municipality that funds the desks: for the figures only, whose
  network view is for its admins.

The acting user has one of the four roles and belongs to one of these organisations: that is
the *relation* of a table row. "Own organisation's object" is therefore ``provider`` for the
series and ``host`` for the location, the organisation profile and the accounts; ``host`` on a
series is the host's view of a guest series.

Two layers:

1. ``can()`` and ``can_see()`` of ``app.permissions`` directly, for every Action (bookings
   and calendar feeds included), on objects built in memory: both decide on attributes
   alone, so no database is needed and the table stays cheap;
2. the real views through the Flask test client, after logging in through the login form:
   the status code of every portal and admin page and form, that a refusal never shows the
   object's data and never changes the database, that a permitted POST makes its change,
   what the list pages show to whom, and that anonymous visitors are sent to the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from app import create_app, dispose_engines
from app.extensions import db
from app.models import (
    Booking,
    ConsultationHours,
    Course,
    Enrolment,
    ExceptionKind,
    FeedKind,
    FeedLink,
    Location,
    LocationClosure,
    Organisation,
    OrganisationKind,
    OutsideBody,
    Referral,
    Registration,
    Role,
    SeriesException,
    SeriesStatus,
    Topic,
    User,
    Visit,
    VisitStatus,
)
from app.permissions import Action, can, can_see
from app.services import visits
from tests.conftest import PASSWORD, FreshContextClient, _clear, _test_config
from tests.desk_helpers import walk_in_hours

# The network's data. Refused answers must never contain these strings.
PROVIDER_NAME = "Schuldhulp Noord"
HOST_NAME = "Bibliotheek Vechtstreek"
HOST_PROFILE = "Wij helpen met formulieren van de overheid"
UNRELATED_NAME = "Taalhuis Zuid"
MUNICIPALITY_NAME = "Gemeente Stichtse Vecht"
LOCATION_NAME = "Vestiging Maarssen Centrum"
LOCATION_ACCESS = "Ringleiding bij de balie"
SERIES_TITLE = "Geldzaken spreekuur Noord"
SERIES_DESCRIPTION = "Neem uw brieven van de Belastingdienst mee"
EXCEPTION_REASON = "Studiedag vrijwilligers"
CLOSURE_REASON = "Verbouwing van de zaal"
TOPIC_NAME = "Toeslagen en uitkeringen"
ACCOUNT_NAME = "Anna de Vries"
ACCOUNT_EMAIL = "anna.devries@bibliotheek.example"
COORDINATOR_NAME = "Karel Jansen"
COORDINATOR_EMAIL = "karel.jansen@netwerk.example"

# What permitted POSTs write.
NEW_SERIES_TITLE = "Digitale overheid spreekuur"
RENAMED_SERIES_TITLE = "Geldzaken spreekuur hernoemd"
NEW_EXCEPTION_REASON = "Adviseur is ziek"
NEW_CLOSURE_REASON = "Koningsdag"
NEW_ORG_NAME = "Humanitas Vechtstreek"
RENAMED_HOST_NAME = "Bibliotheek Vechtstreek en Venen"
NEW_LOCATION_NAME = "Vestiging Breukelen"
RENAMED_LOCATION_NAME = "Vestiging Maarssen Dorp"
NEW_TOPIC_SLUG = "digid-hulp"
RENAMED_TOPIC_NAME = "Toeslagen"
NEW_ACCOUNT_EMAIL = "nieuw.account@bibliotheek.example"
RENAMED_ACCOUNT_NAME = "Anna Jansen"
# The desk: a visitor waiting for the provider's walk-in hours at the host's location, one
# helped earlier and not registered yet, and an outside body.
VISIT_INITIALS = "Q.W.Z."
FINISHED_INITIALS = "X.Y."
OUTSIDE_BODY_NAME = "Juridisch Loket Utrecht"
NEW_OUTSIDE_BODY_NAME = "BelastingTelefoon"

TODAY = date.today()  # the dates below keep a week's margin, so the time zone does not matter
SERIES_START = TODAY - timedelta(weeks=4)  # the series is held every Tuesday ("1")
EXCEPTION_DATE = TODAY + timedelta(days=7 + (1 - TODAY.weekday()) % 7)
NEW_EXCEPTION_DATE = EXCEPTION_DATE + timedelta(weeks=1)

ROLES = (Role.COORDINATOR, Role.ORG_ADMIN, Role.STAFF, Role.VOLUNTEER)  # the table's columns
P, H, U = "provider", "host", "unrelated"
ANY = (P, H, U)  # the relation does not matter for this row
M = "municipality"  # a relation of the figures' rows only
Y, N = True, False


def _rows(table) -> list:
    """Expand a table of ``(what..., relations, coordinator, org_admin, staff, volunteer)``
    into one ``(role, relation, what..., expected)`` test case per role and relation."""
    rows = []
    for *what, relations, c, a, s, v in table:
        for relation in relations if isinstance(relations, tuple) else (relations,):
            for role, expected in zip(ROLES, (c, a, s, v), strict=True):
                label = "-".join(
                    [role.value, relation, *(getattr(w, "value", w) or "none" for w in what)]
                )
                rows.append(pytest.param(role, relation, *what, expected, id=f"{label}-{expected}"))
    return rows


# =============================================================================================
# Layer 1: can() and can_see()
# =============================================================================================


class MemoryNetwork:
    """The network as unsaved model objects with fixed ids, for calling the rules directly.

    Besides the objects of the module docstring: a ``booking`` a resident made for the
    provider's series, a ``desk_booking`` for it that the acting user made at the desk, an
    ``old_location`` of the host no longer in use, and two calendar-feed links: the acting
    user's ``own_feed_link`` and the host staff account's ``feed_link``.
    """

    ACTOR_ID = 100

    def __init__(self) -> None:
        self.orgs = {
            P: Organisation(id=1, name=PROVIDER_NAME, kind=OrganisationKind.PARTNER, active=True),
            H: Organisation(id=2, name=HOST_NAME, kind=OrganisationKind.LIBRARY, active=True),
            U: Organisation(id=3, name=UNRELATED_NAME, kind=OrganisationKind.PARTNER, active=True),
            M: Organisation(
                id=4, name=MUNICIPALITY_NAME, kind=OrganisationKind.MUNICIPALITY, active=True
            ),
        }
        host = self.orgs[H]
        location = Location(
            id=10, organisation_id=host.id, organisation=host, name=LOCATION_NAME, active=True
        )
        series = ConsultationHours(
            id=20,
            provider_id=self.orgs[P].id,
            provider=self.orgs[P],
            location_id=location.id,
            location=location,
            title=SERIES_TITLE,
        )
        self.objects = {
            "series": series,
            "booking": Booking(id=50, series_id=series.id, series=series, created_by_id=None),
            "desk_booking": Booking(
                id=51, series_id=series.id, series=series, created_by_id=self.ACTOR_ID
            ),
            "location": location,
            "old_location": Location(
                id=11, organisation_id=host.id, organisation=host, name="Oud", active=False
            ),
            "organisation": host,
            "account": self._user(30, Role.STAFF, host),
            "coordinator_account": self._user(31, Role.COORDINATOR, host),
            "topic": Topic(id=40, slug="toeslagen", name_nl=TOPIC_NAME, name_en=TOPIC_NAME),
            "own_feed_link": FeedLink(id=60, user_id=self.ACTOR_ID, kind=FeedKind.PERSONAL),
            "feed_link": FeedLink(id=61, user_id=30, kind=FeedKind.PERSONAL),
            # The host refers a resident to the provider; the host's staff account wrote it.
            "referral": Referral(
                id=70,
                from_organisation_id=host.id,
                to_organisation_id=self.orgs[P].id,
                created_by_id=30,
            ),
            "own_referral": Referral(
                id=71,
                from_organisation_id=host.id,
                to_organisation_id=self.orgs[P].id,
                created_by_id=self.ACTOR_ID,
            ),
            "course": Course(
                id=80, organisation_id=host.id, organisation=host, title="Digisterker"
            ),
            # Someone came in for the provider's hours at the host's location, and the
            # provider registered the contact.
            "visit": Visit(
                id=90,
                location_id=location.id,
                location=location,
                organisation_id=self.orgs[P].id,
                series_id=series.id,
                number=1,
            ),
            "registration": Registration(
                id=91, organisation_id=self.orgs[P].id, location_id=location.id
            ),
            "outside_body": OutsideBody(id=92, name="Juridisch Loket", active=True),
            None: None,
        }
        course = self.objects["course"]
        # A resident signed up for the host's course themselves; another was signed up at the
        # provider's desk by one of its volunteers.
        self.objects["sign_up"] = Enrolment(
            id=95, course_id=course.id, course=course, code="ACDEFHJK", created_by=None
        )
        self.objects["desk_sign_up"] = Enrolment(
            id=96,
            course_id=course.id,
            course=course,
            code="ACDEFHJM",
            created_by=self._user(33, Role.VOLUNTEER, self.orgs[P]),
        )

    @staticmethod
    def _user(user_id: int, role: Role, org: Organisation, active: bool = True) -> User:
        return User(
            id=user_id,
            organisation_id=org.id,
            organisation=org,
            role=role,
            active=active,
            name=f"User {user_id}",
            email=f"user{user_id}@example.org",
        )

    def member(self, role: Role, relation: str, active: bool = True) -> User:
        """The acting account: ``role`` in the organisation ``relation`` names."""
        return self._user(self.ACTOR_ID, role, self.orgs[relation], active)


#   object                 relation   coordinator org_admin staff volunteer
SEE_TABLE = [
    # A series exists for its provider and its host, and for nobody else.
    ("series", (P, H), Y, Y, Y, Y),
    ("series", U, Y, N, N, N),
    # The directory of the network is public knowledge.
    ("location", ANY, Y, Y, Y, Y),
    ("organisation", ANY, Y, Y, Y, Y),
    ("topic", ANY, Y, Y, Y, Y),
    # Accounts exist only within their own organisation.
    ("account", H, Y, Y, Y, Y),
    ("account", (P, U), Y, N, N, N),
    ("coordinator_account", H, Y, Y, Y, Y),
    ("coordinator_account", (P, U), Y, N, N, N),
    # A resident's booking is for the provider's staff and admins (a coordinator only as one
    # of them), not for volunteers or the host; a desk booking also for whoever made it.
    ("booking", P, Y, Y, Y, N),
    ("booking", (H, U), N, N, N, N),
    ("desk_booking", ANY, Y, Y, Y, Y),
    # A feed link is a credential: only its owner sees it, not even the coordinator.
    ("own_feed_link", ANY, Y, Y, Y, Y),
    ("feed_link", ANY, N, N, N, N),
    # A referral: the sending (host) and receiving (provider) organisations' staff and admins;
    # volunteers and the coordinator only what they wrote (the coordinator sees counts).
    ("referral", (P, H), N, Y, Y, N),
    ("referral", U, N, N, N, N),
    ("own_referral", H, Y, Y, Y, Y),
    ("course", ANY, Y, Y, Y, Y),
    # A course sign-up: whoever handles the course's lists (its organisation's staff and
    # admins), and for one made at a desk every role of the organisation that made it.
    ("sign_up", H, N, Y, Y, N),
    ("sign_up", (P, U), N, N, N, N),
    ("desk_sign_up", P, Y, Y, Y, Y),
    ("desk_sign_up", H, N, Y, Y, N),
    ("desk_sign_up", U, N, N, N, N),
    # Who is at the desk: the organisation whose desk it is and the location's host, every
    # role alike; nobody else (not even the coordinator: counts only). A registration is
    # its organisation's alone; the outside bodies are a public list.
    ("visit", (P, H), Y, Y, Y, Y),
    ("visit", U, N, N, N, N),
    ("registration", P, Y, Y, Y, Y),
    ("registration", (H, U), N, N, N, N),
    ("outside_body", ANY, Y, Y, Y, Y),
]


@pytest.mark.parametrize(("role", "relation", "obj", "expected"), _rows(SEE_TABLE))
def test_can_see(role, relation, obj, expected):
    """``can_see`` decides between "exists for you" and 404, as in SEE_TABLE."""
    net = MemoryNetwork()
    assert can_see(net.member(role, relation), net.objects[obj]) is expected


#   action                 object                 relation  coordinator org_admin staff volunteer
CAN_TABLE = [
    (Action.VIEW, "series", (P, H), Y, Y, Y, Y),
    (Action.VIEW, "series", U, Y, N, N, N),
    (Action.VIEW, "location", ANY, Y, Y, Y, Y),
    (Action.VIEW, "account", H, Y, Y, Y, Y),
    (Action.VIEW, "account", (P, U), Y, N, N, N),
    # Staff and admins of an organisation create series it provides; volunteers only look.
    (Action.CREATE_SERIES, "organisation", H, Y, Y, Y, N),
    (Action.CREATE_SERIES, "organisation", (P, U), Y, N, N, N),
    # Only the provider edits, publishes, pauses and adds exceptions; the host only looks.
    (Action.EDIT_SERIES, "series", P, Y, Y, Y, N),
    (Action.EDIT_SERIES, "series", (H, U), Y, N, N, N),
    # Only the host's admin closes a location, even when guests hold hours there.
    (Action.CLOSE_LOCATION, "location", H, Y, Y, N, N),
    (Action.CLOSE_LOCATION, "location", (P, U), Y, N, N, N),
    # Organisation admins keep their own profile, locations and (non-coordinator) accounts.
    (Action.MANAGE, "organisation", H, Y, Y, N, N),
    (Action.MANAGE, "organisation", (P, U), Y, N, N, N),
    (Action.MANAGE, "location", H, Y, Y, N, N),
    (Action.MANAGE, "location", (P, U), Y, N, N, N),
    (Action.MANAGE, "account", H, Y, Y, N, N),
    (Action.MANAGE, "account", (P, U), Y, N, N, N),
    (Action.MANAGE, "coordinator_account", ANY, Y, N, N, N),
    (Action.MANAGE, "topic", ANY, Y, N, N, N),
    (Action.MANAGE, "series", ANY, Y, N, N, N),
    (Action.MANAGE_USERS, "organisation", H, Y, Y, N, N),
    (Action.MANAGE_USERS, "organisation", (P, U), Y, N, N, N),
    # Adding organisations and topics is for the coordinator.
    (Action.MANAGE_NETWORK, None, ANY, Y, N, N, N),
    # Everyone helps residents at the desk; whoever may see a booking may handle it.
    (Action.BOOK_AT_DESK, None, ANY, Y, Y, Y, Y),
    (Action.MANAGE_BOOKING, "booking", P, Y, Y, Y, N),
    (Action.MANAGE_BOOKING, "booking", (H, U), N, N, N, N),
    (Action.MANAGE_BOOKING, "desk_booking", ANY, Y, Y, Y, Y),
    # Calendar feeds, with the same rules for the coordinator: anyone follows the hours of a
    # location or organisation in use; one's own organisation's series go in a personal
    # feed; bookings only of one's own organisation's hours and never for volunteers.
    (Action.SUBSCRIBE, "location", ANY, Y, Y, Y, Y),
    (Action.SUBSCRIBE, "organisation", ANY, Y, Y, Y, Y),
    (Action.SUBSCRIBE, "old_location", ANY, N, N, N, N),
    (Action.FOLLOW_SERIES, "series", P, Y, Y, Y, Y),
    (Action.FOLLOW_SERIES, "series", (H, U), N, N, N, N),
    (Action.FEED_BOOKINGS, "series", P, Y, Y, Y, N),
    (Action.FEED_BOOKINGS, "series", (H, U), N, N, N, N),
    (Action.FEED_BOOKINGS, None, ANY, Y, Y, Y, N),
    (Action.MANAGE_FEED, "own_feed_link", ANY, Y, Y, Y, Y),
    (Action.MANAGE_FEED, "feed_link", ANY, N, N, N, N),
    # Referrals (see tests/test_referral_permissions.py for the views): anyone refers to an
    # organisation in use; the loop is the receiver's; acting for the resident is for whoever
    # sees the referral; counts for the coordinator; the audit log for the admins.
    (Action.REFER, None, ANY, Y, Y, Y, Y),
    (Action.REFER, "organisation", ANY, Y, Y, Y, Y),
    (Action.HANDLE_REFERRAL, "referral", P, N, Y, Y, N),
    (Action.HANDLE_REFERRAL, "referral", (H, U), N, N, N, N),
    (Action.WITHDRAW_CONSENT, "referral", (P, H), N, Y, Y, N),
    (Action.WITHDRAW_CONSENT, "referral", U, N, N, N, N),
    (Action.WITHDRAW_CONSENT, "own_referral", H, Y, Y, Y, Y),
    (Action.BOOK_FROM_REFERRAL, "referral", (P, H), N, Y, Y, N),
    (Action.BOOK_FROM_REFERRAL, "referral", U, N, N, N, N),
    (Action.BOOK_FROM_REFERRAL, "own_referral", H, Y, Y, Y, Y),
    (Action.REFERRAL_COUNTS, None, ANY, Y, N, N, N),
    (Action.READ_AUDIT_LOG, "organisation", H, Y, Y, N, N),
    (Action.READ_AUDIT_LOG, "organisation", (P, U), N, N, N, N),
    (Action.CREATE_COURSE, "organisation", H, Y, Y, Y, N),
    (Action.CREATE_COURSE, "organisation", (P, U), N, N, N, N),
    (Action.COURSE_LISTS, "course", H, N, Y, Y, N),
    (Action.COURSE_LISTS, "course", (P, U), N, N, N, N),
    (Action.COURSE_SIGN_UP, "sign_up", H, N, Y, Y, N),
    (Action.COURSE_SIGN_UP, "sign_up", (P, U), N, N, N, N),
    (Action.COURSE_SIGN_UP, "desk_sign_up", P, Y, Y, Y, Y),
    (Action.COURSE_SIGN_UP, "desk_sign_up", H, N, Y, Y, N),
    (Action.COURSE_SIGN_UP, "desk_sign_up", U, N, N, N, N),
    (Action.RUN_COURSE, "course", H, N, Y, Y, N),
    (Action.RUN_COURSE, "course", (P, U), N, N, N, N),
    # The desk: anyone opens a location's queue (it shows them what they may see); someone
    # comes in for hours of one's own organisation or at one's own location; the visit's
    # organisation helps and registers, every role alike and for itself only.
    (Action.QUEUE, "location", ANY, Y, Y, Y, Y),
    (Action.QUEUE, "old_location", ANY, N, N, N, N),
    (Action.ADD_VISIT, "series", (P, H), Y, Y, Y, Y),
    (Action.ADD_VISIT, "series", U, N, N, N, N),
    (Action.HANDLE_VISIT, "visit", P, Y, Y, Y, Y),
    (Action.HANDLE_VISIT, "visit", (H, U), N, N, N, N),
    (Action.REGISTER, None, ANY, Y, Y, Y, Y),
    (Action.REGISTER, "visit", P, Y, Y, Y, Y),
    (Action.REGISTER, "visit", (H, U), N, N, N, N),
    (Action.MANAGE, "outside_body", ANY, Y, N, N, N),
    # Figures, counts only: an organisation's own for its admins and staff, a location's for
    # its host's; the network's for the coordinator and the municipality's admins, who may
    # also look at every organisation and location. Volunteers see none.
    (Action.FIGURES, "organisation", H, Y, Y, Y, N),
    (Action.FIGURES, "organisation", (P, U), Y, N, N, N),
    (Action.FIGURES, "organisation", M, Y, Y, N, N),
    (Action.FIGURES, "location", H, Y, Y, Y, N),
    (Action.FIGURES, "location", (P, U), Y, N, N, N),
    (Action.FIGURES, "location", M, Y, Y, N, N),
    (Action.FIGURES, None, ANY, Y, N, N, N),
    # What was sent to a resident: the organisation that holds the hours (not volunteers);
    # the messages that failed: the organisation's admins.
    (Action.BOOKING_MESSAGES, "booking", P, Y, Y, Y, N),
    (Action.BOOKING_MESSAGES, "booking", (H, U), N, N, N, N),
    (Action.BOOKING_MESSAGES, "desk_booking", P, Y, Y, Y, N),
    (Action.BOOKING_MESSAGES, "desk_booking", (H, U), N, N, N, N),
    (Action.FAILED_MESSAGES, "organisation", H, N, Y, N, N),
    (Action.FAILED_MESSAGES, "organisation", (P, U, M), N, N, N, N),
    (Action.FIGURES, None, M, Y, Y, N, N),
    # A waiting list holds residents' details: only the provider's staff and admins (a
    # coordinator only as one of them), never volunteers, never the host.
    (Action.WAITING_LIST, "series", P, Y, Y, Y, N),
    (Action.WAITING_LIST, "series", (H, U), N, N, N, N),
]


@pytest.mark.parametrize(("role", "relation", "action", "obj", "expected"), _rows(CAN_TABLE))
def test_can(role, relation, action, obj, expected):
    """``can`` answers each role in each organisation as CAN_TABLE says."""
    net = MemoryNetwork()
    assert can(net.member(role, relation), action, net.objects[obj]) is expected


@pytest.mark.parametrize("obj", ["series", "booking", "location", "organisation", "account", None])
@pytest.mark.parametrize("action", list(Action))
def test_inactive_and_anonymous_users_may_nothing(action, obj):
    """A deactivated account (even a coordinator's) and an anonymous visitor may do nothing."""
    net = MemoryNetwork()
    target = net.objects[obj]
    for user in (net.member(Role.COORDINATOR, H, active=False), AnonymousUserMixin()):
        assert can(user, action, target) is False
        if target is not None:
            assert can_see(user, target) is False


def test_layer_one_tables_cover_every_action():
    """Every Action has rows in CAN_TABLE (a new Action needs its rules written down)."""
    assert {row[0] for row in CAN_TABLE} == set(Action)


# =============================================================================================
# Layer 2: the views
# =============================================================================================


@pytest.fixture(scope="module")
def _module_app(database_url):
    """One app for the whole module; see ``app``."""
    app = create_app(_test_config(database_url))
    app.test_client_class = FreshContextClient
    yield app
    with app.app_context():
        dispose_engines()


@pytest.fixture
def app(_module_app):
    """conftest's ``app`` (an app context; an empty database afterwards), but on one app for
    the module: building the app and its connections again for each of the ~560 tests here
    made the module four times slower. The app keeps no state between requests."""
    with _module_app.app_context():
        yield _module_app
        db.session.remove()
        _clear(db.engine)


class Network:
    """The network in the database, each object created (by the conftest factories) the
    first time a test uses it. Attributes are ids: objects expire when a view commits."""

    def __init__(self, make_org, make_location, make_user, make_series, make_topic) -> None:
        self.make_org = make_org
        self.make_location = make_location
        self.make_user = make_user
        self.make_series = make_series
        self.make_topic = make_topic

    def __getitem__(self, name: str) -> int:  # for str.format_map in URL templates
        return getattr(self, name)

    def org(self, relation: str) -> Organisation:
        return db.session.get(Organisation, getattr(self, relation))

    def member(self, role: Role, relation: str) -> User:
        """A new account with ``role`` in the organisation ``relation`` names."""
        return self.make_user(role, organisation=self.org(relation))

    @cached_property
    def provider(self) -> int:
        return self.make_org(name=PROVIDER_NAME, kind=OrganisationKind.PARTNER).id

    @cached_property
    def host(self) -> int:
        return self.make_org(
            name=HOST_NAME, kind=OrganisationKind.LIBRARY, description=HOST_PROFILE
        ).id

    @cached_property
    def unrelated(self) -> int:
        return self.make_org(name=UNRELATED_NAME, kind=OrganisationKind.PARTNER).id

    @cached_property
    def municipality(self) -> int:
        return self.make_org(name=MUNICIPALITY_NAME, kind=OrganisationKind.MUNICIPALITY).id

    @cached_property
    def location(self) -> int:
        return self.make_location(self.org(H), name=LOCATION_NAME, accessibility=LOCATION_ACCESS).id

    @cached_property
    def series(self) -> int:
        return self.make_series(
            provider=self.org(P),
            location=db.session.get(Location, self.location),
            title=SERIES_TITLE,
            description=SERIES_DESCRIPTION,
            start_date=SERIES_START,
        ).id

    @cached_property
    def exception(self) -> int:
        return self._add(
            SeriesException(
                series_id=self.series,
                date=EXCEPTION_DATE,
                kind=ExceptionKind.CANCELLED,
                reason=EXCEPTION_REASON,
            )
        )

    @cached_property
    def closure(self) -> int:
        return self._add(
            LocationClosure(
                location_id=self.location,
                start_date=TODAY + timedelta(days=30),
                end_date=TODAY + timedelta(days=31),
                reason=CLOSURE_REASON,
            )
        )

    @cached_property
    def topic(self) -> int:
        return self.make_topic(name_nl=TOPIC_NAME).id

    @cached_property
    def account(self) -> int:
        return self.make_user(
            Role.STAFF, organisation=self.org(H), name=ACCOUNT_NAME, email=ACCOUNT_EMAIL
        ).id

    @cached_property
    def coordinator_account(self) -> int:
        return self.make_user(
            Role.COORDINATOR,
            organisation=self.org(H),
            name=COORDINATOR_NAME,
            email=COORDINATOR_EMAIL,
        ).id

    @cached_property
    def walk_in_series(self) -> int:
        return walk_in_hours(
            self.make_series,
            self.make_org,
            self.make_location,
            provider=self.org(P),
            location=db.session.get(Location, self.location),
        ).id

    @cached_property
    def visit(self) -> int:
        series = db.session.get(ConsultationHours, self.walk_in_series)
        visit = visits.add_walk_in(series, initials=VISIT_INITIALS)
        db.session.commit()
        return visit.id

    @cached_property
    def finished_visit(self) -> int:
        series = db.session.get(ConsultationHours, self.walk_in_series)
        visit = visits.add_walk_in(series, initials=FINISHED_INITIALS)
        visit.status = VisitStatus.FINISHED
        db.session.commit()
        return visit.id

    @cached_property
    def outside_body(self) -> int:
        return self._add(OutsideBody(name=OUTSIDE_BODY_NAME))

    @staticmethod
    def _add(obj) -> int:
        db.session.add(obj)
        db.session.commit()
        return obj.id


@pytest.fixture
def net(make_org, make_location, make_user, make_series, make_topic) -> Network:
    return Network(make_org, make_location, make_user, make_series, make_topic)


# Requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request of the tables: what it sends, the object data a refusal must not show
    (and an allowed page does show), and the change a permitted POST makes."""

    method: str
    url: str  # {placeholders} name Network attributes
    form: Callable[[Network], dict[str, str]] | None = None
    data: tuple[str, ...] = ()
    done: Callable[[Network], bool] | None = None
    setup: Callable[[Network], None] | None = None
    needs: tuple[str, ...] = ()  # objects a list page should have to list
    # Relations for which a permitted POST has nothing to do (303, nothing changed).
    nothing_for: tuple[str, ...] = ()

    def prepare(self, net: Network) -> tuple[str, dict[str, str]]:
        """Create the objects the request needs; return its URL and form data."""
        for name in self.needs:
            getattr(net, name)
        url = self.url.format_map(net)
        form = self.form(net) if self.form else {}
        if self.setup:
            self.setup(net)
        return url, form


def _get(model, object_id: int):
    db.session.expire_all()
    return db.session.get(model, object_id)


def _exists(model, *where) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) > 0


def _series_form(title: str) -> Callable[[Network], dict[str, str]]:
    return lambda net: {
        "title": title,
        "provider": str(net.provider),
        "location": str(net.location),
        "mode": "appointment",
        "recurrence": "weekly",
        "weekdays": "1",
        "interval_weeks": "1",
        "start_date": SERIES_START.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "slot_minutes": "30",
        "seats_per_slot": "1",
        "min_notice_hours": "2",
        "book_ahead_days": "42",
    }


def _organisation_form(name: str, kind: str) -> Callable[[Network], dict[str, str]]:
    return lambda net: {
        "name": name,
        "kind": kind,
        "description": HOST_PROFILE if kind == "library" else "",
        "referral_info": "",
        "website": "",
        "phone": "",
        "email": "",
        "active": "y",
    }


def _location_form(name: str) -> Callable[[Network], dict[str, str]]:
    return lambda net: {
        "organisation": str(net.host),
        "name": name,
        "street": "Kerkweg 1",
        "postcode": "3603 CL",
        "city": "Maarssen",
        "accessibility": LOCATION_ACCESS,
        "active": "y",
    }


def _topic_form(slug: str, name: str) -> Callable[[Network], dict[str, str]]:
    return lambda net: {
        "name_nl": name,
        "name_en": name,
        "slug": slug,
        "icon": "help",
        "sort_order": "100",
        "active": "y",
    }


def _user_form(name: str, email: str) -> Callable[[Network], dict[str, str]]:
    return lambda net: {
        "name": name,
        "email": email,
        "organisation": str(net.host),
        "role": Role.STAFF.value,
    }


def _pause_series(net: Network) -> None:
    db.session.get(ConsultationHours, net.series).status = SeriesStatus.PAUSED
    db.session.commit()


SERIES_DATA = (SERIES_TITLE, SERIES_DESCRIPTION)
LOCATION_DATA = (LOCATION_NAME, LOCATION_ACCESS)
ACCOUNT_DATA = (ACCOUNT_EMAIL, ACCOUNT_NAME)
COORDINATOR_DATA = (COORDINATOR_EMAIL, COORDINATOR_NAME)

CALLS: dict[str, Call] = {
    # Portal ---------------------------------------------------------------------------------
    "dashboard": Call("GET", "/portal/", data=(SERIES_TITLE,), needs=("series",)),
    "portal_locations": Call(
        "GET", "/portal/locations", data=(LOCATION_NAME,), needs=("location",)
    ),
    "series_new": Call("GET", "/portal/series/new"),
    "series_new_post": Call(
        "POST",
        "/portal/series/new",
        form=_series_form(NEW_SERIES_TITLE),
        done=lambda net: _exists(
            ConsultationHours,
            ConsultationHours.title == NEW_SERIES_TITLE,
            ConsultationHours.provider_id == net.provider,
        ),
    ),
    "series_detail": Call("GET", "/portal/series/{series}", data=SERIES_DATA),
    "series_edit": Call("GET", "/portal/series/{series}/edit", data=SERIES_DATA),
    "series_edit_post": Call(
        "POST",
        "/portal/series/{series}/edit",
        form=_series_form(RENAMED_SERIES_TITLE),
        data=SERIES_DATA,
        done=lambda net: _get(ConsultationHours, net.series).title == RENAMED_SERIES_TITLE,
    ),
    "series_publish": Call(
        "POST",
        "/portal/series/{series}/status",
        form=lambda net: {"status": SeriesStatus.PUBLISHED.value},
        data=SERIES_DATA,
        setup=_pause_series,
        done=lambda net: _get(ConsultationHours, net.series).status is SeriesStatus.PUBLISHED,
    ),
    "series_pause": Call(
        "POST",
        "/portal/series/{series}/status",
        form=lambda net: {"status": SeriesStatus.PAUSED.value},
        data=SERIES_DATA,
        done=lambda net: _get(ConsultationHours, net.series).status is SeriesStatus.PAUSED,
    ),
    "exception_add": Call(
        "POST",
        "/portal/series/{series}/exceptions",
        form=lambda net: {
            "kind": ExceptionKind.CANCELLED.value,
            "date": NEW_EXCEPTION_DATE.isoformat(),
            "reason": NEW_EXCEPTION_REASON,
        },
        data=SERIES_DATA,
        done=lambda net: _exists(
            SeriesException,
            SeriesException.series_id == net.series,
            SeriesException.date == NEW_EXCEPTION_DATE,
        ),
    ),
    "exception_delete": Call(
        "POST",
        "/portal/series/{series}/exceptions/{exception}/delete",
        data=(*SERIES_DATA, EXCEPTION_REASON),
        done=lambda net: _get(SeriesException, net.exception) is None,
    ),
    "location_detail": Call(
        "GET", "/portal/locations/{location}", data=(SERIES_TITLE,), needs=("series",)
    ),
    "closure_add": Call(
        "POST",
        "/portal/locations/{location}",
        form=lambda net: {
            "start_date": (TODAY + timedelta(days=60)).isoformat(),
            "end_date": (TODAY + timedelta(days=61)).isoformat(),
            "reason": NEW_CLOSURE_REASON,
        },
        data=(*LOCATION_DATA, SERIES_TITLE),
        done=lambda net: _exists(LocationClosure, LocationClosure.reason == NEW_CLOSURE_REASON),
    ),
    "closure_delete": Call(
        "POST",
        "/portal/locations/{location}/closures/{closure}/delete",
        data=(*LOCATION_DATA, CLOSURE_REASON),
        done=lambda net: _get(LocationClosure, net.closure) is None,
    ),
    # Admin ----------------------------------------------------------------------------------
    "admin_index": Call("GET", "/admin/"),
    "organisations": Call("GET", "/admin/organisations"),  # names are public anyway
    "organisation_new": Call("GET", "/admin/organisations/new"),
    "organisation_new_post": Call(
        "POST",
        "/admin/organisations/new",
        form=_organisation_form(NEW_ORG_NAME, "partner"),
        done=lambda net: _exists(Organisation, Organisation.name == NEW_ORG_NAME),
    ),
    "organisation_edit": Call("GET", "/admin/organisations/{host}/edit", data=(HOST_PROFILE,)),
    "organisation_edit_post": Call(
        "POST",
        "/admin/organisations/{host}/edit",
        form=_organisation_form(RENAMED_HOST_NAME, "library"),
        data=(HOST_PROFILE,),
        done=lambda net: _get(Organisation, net.host).name == RENAMED_HOST_NAME,
    ),
    "admin_locations": Call("GET", "/admin/locations", data=(LOCATION_NAME,), needs=("location",)),
    "location_new": Call("GET", "/admin/locations/new"),
    "location_new_post": Call(
        "POST",
        "/admin/locations/new",
        form=_location_form(NEW_LOCATION_NAME),
        done=lambda net: _exists(
            Location, Location.name == NEW_LOCATION_NAME, Location.organisation_id == net.host
        ),
    ),
    "location_edit": Call("GET", "/admin/locations/{location}/edit", data=LOCATION_DATA),
    "location_edit_post": Call(
        "POST",
        "/admin/locations/{location}/edit",
        form=_location_form(RENAMED_LOCATION_NAME),
        data=LOCATION_DATA,
        done=lambda net: _get(Location, net.location).name == RENAMED_LOCATION_NAME,
    ),
    "topics": Call("GET", "/admin/topics", data=(TOPIC_NAME,), needs=("topic",)),
    "topic_new": Call("GET", "/admin/topics/new"),
    "topic_new_post": Call(
        "POST",
        "/admin/topics/new",
        form=_topic_form(NEW_TOPIC_SLUG, "DigiD"),
        done=lambda net: _exists(Topic, Topic.slug == NEW_TOPIC_SLUG),
    ),
    "topic_edit": Call("GET", "/admin/topics/{topic}/edit", data=(TOPIC_NAME,)),
    "topic_edit_post": Call(
        "POST",
        "/admin/topics/{topic}/edit",
        form=_topic_form("toeslagen", RENAMED_TOPIC_NAME),
        data=(TOPIC_NAME,),
        done=lambda net: _get(Topic, net.topic).name_nl == RENAMED_TOPIC_NAME,
    ),
    "users": Call("GET", "/admin/users", data=(ACCOUNT_EMAIL,), needs=("account",)),
    "user_new": Call("GET", "/admin/users/new"),
    "user_new_post": Call(
        "POST",
        "/admin/users/new",
        form=_user_form("Nieuw Account", NEW_ACCOUNT_EMAIL),
        done=lambda net: _exists(
            User, User.email == NEW_ACCOUNT_EMAIL, User.organisation_id == net.host
        ),
    ),
    "user_edit": Call("GET", "/admin/users/{account}/edit", data=ACCOUNT_DATA),
    "user_edit_post": Call(
        "POST",
        "/admin/users/{account}/edit",
        form=_user_form(RENAMED_ACCOUNT_NAME, ACCOUNT_EMAIL),
        data=ACCOUNT_DATA,
        done=lambda net: _get(User, net.account).name == RENAMED_ACCOUNT_NAME,
    ),
    "user_deactivate": Call(
        "POST",
        "/admin/users/{account}/active",
        form=lambda net: {"active": "0"},
        data=ACCOUNT_DATA,
        done=lambda net: _get(User, net.account).active is False,
    ),
    "user_password": Call(
        "POST",
        "/admin/users/{account}/password",
        data=ACCOUNT_DATA,
        done=lambda net: not _get(User, net.account).check_password(PASSWORD),
    ),
    "coordinator_edit": Call(
        "GET", "/admin/users/{coordinator_account}/edit", data=COORDINATOR_DATA
    ),
    "coordinator_deactivate": Call(
        "POST",
        "/admin/users/{coordinator_account}/active",
        form=lambda net: {"active": "0"},
        data=COORDINATOR_DATA,
        done=lambda net: _get(User, net.coordinator_account).active is False,
    ),
    "coordinator_password": Call(
        "POST",
        "/admin/users/{coordinator_account}/password",
        data=COORDINATOR_DATA,
        done=lambda net: not _get(User, net.coordinator_account).check_password(PASSWORD),
    ),
    # The desk --------------------------------------------------------------------------------
    "queue_choose": Call("GET", "/portal/queue", needs=("walk_in_series",)),
    "queue": Call("GET", "/portal/queue/{location}", data=(VISIT_INITIALS,), needs=("visit",)),
    "queue_display": Call(
        "GET", "/portal/queue/{location}/display", data=(VISIT_INITIALS,), needs=("visit",)
    ),
    "visit_add": Call(
        "POST",
        "/portal/queue/{location}/visits",
        form=lambda net: {"series": str(net.walk_in_series), "initials": "N.N."},
        done=lambda net: _exists(Visit, Visit.initials == "N.N."),
    ),
    "take_next": Call(
        "POST",
        "/portal/queue/{location}/next",
        needs=("visit",),
        done=lambda net: _get(Visit, net.visit).status is VisitStatus.BEING_HELPED,
        nothing_for=(H, U),  # nobody waits for their organisation
    ),
    "visit_take": Call(
        "POST",
        "/portal/visits/{visit}/take",
        data=(VISIT_INITIALS,),
        done=lambda net: _get(Visit, net.visit).status is VisitStatus.BEING_HELPED,
    ),
    "visit_finish": Call(
        "POST",
        "/portal/visits/{visit}/finish",
        data=(VISIT_INITIALS,),
        done=lambda net: _get(Visit, net.visit).status is VisitStatus.FINISHED,
    ),
    "visit_left": Call(
        "POST",
        "/portal/visits/{visit}/left",
        data=(VISIT_INITIALS,),
        done=lambda net: _get(Visit, net.visit).status is VisitStatus.LEFT,
    ),
    "registration_new": Call("GET", "/portal/registrations/new"),
    "registration_new_post": Call(
        "POST",
        "/portal/registrations/new",
        form=lambda net: {
            "channel": "phone",
            "location": str(net.location),
            "duration": "under_10",
            "questions-0-topic": str(net.topic),
            "questions-0-how_helped": "information",
        },
        needs=("series",),
        done=lambda net: _exists(Registration),
    ),
    "registration_visit": Call(
        "GET", "/portal/registrations/new?visit={visit}", data=(VISIT_INITIALS,)
    ),
    "registration_visit_post": Call(
        "POST",
        "/portal/registrations/new?visit={visit}",
        form=lambda net: {
            "channel": "desk",
            "duration": "under_10",
            "questions-0-topic": str(net.topic),
            "questions-0-how_helped": "referred",
            "questions-0-outside_body": str(net.outside_body),
        },
        data=(VISIT_INITIALS,),
        done=lambda net: _exists(Registration, Registration.visit_id == net.visit),
    ),
    "still_to_register": Call(
        "GET",
        "/portal/registrations/to-register",
        data=(FINISHED_INITIALS,),
        needs=("finished_visit",),
    ),
    "outside_bodies": Call(
        "GET", "/admin/outside-bodies", data=(OUTSIDE_BODY_NAME,), needs=("outside_body",)
    ),
    "outside_body_new": Call("GET", "/admin/outside-bodies/new"),
    "outside_body_new_post": Call(
        "POST",
        "/admin/outside-bodies/new",
        form=lambda net: {"name": NEW_OUTSIDE_BODY_NAME, "sort_order": "10", "active": "y"},
        done=lambda net: _exists(OutsideBody, OutsideBody.name == NEW_OUTSIDE_BODY_NAME),
    ),
    "outside_body_edit": Call(
        "GET", "/admin/outside-bodies/{outside_body}/edit", data=(OUTSIDE_BODY_NAME,)
    ),
    "outside_body_edit_post": Call(
        "POST",
        "/admin/outside-bodies/{outside_body}/edit",
        form=lambda net: {"name": NEW_OUTSIDE_BODY_NAME, "sort_order": "10", "active": "y"},
        data=(OUTSIDE_BODY_NAME,),
        done=lambda net: _get(OutsideBody, net.outside_body).name == NEW_OUTSIDE_BODY_NAME,
    ),
    # Figures: counts only, of the host (its own figures and its location's) and the network.
    "figures_index": Call("GET", "/portal/figures"),
    "figures_organisation": Call("GET", "/portal/figures/organisation/{host}"),
    "figures_organisation_report": Call("GET", "/portal/figures/organisation/{host}/report"),
    "figures_organisation_chart": Call(
        "GET", "/portal/figures/organisation/{host}/chart/categories.svg"
    ),
    "figures_organisation_csv": Call("GET", "/portal/figures/organisation/{host}/export.csv"),
    "figures_organisation_xlsx": Call("GET", "/portal/figures/organisation/{host}/export.xlsx"),
    "figures_location": Call(
        "GET", "/portal/figures/location/{location}?period=year", data=(LOCATION_NAME,)
    ),
    "figures_location_report": Call("GET", "/portal/figures/location/{location}/report"),
    "figures_location_chart": Call("GET", "/portal/figures/location/{location}/chart/time.svg"),
    "figures_location_csv": Call("GET", "/portal/figures/location/{location}/export.csv"),
    "figures_location_xlsx": Call("GET", "/portal/figures/location/{location}/export.xlsx"),
    "figures_network": Call("GET", "/portal/figures/network?period=quarter"),
    "figures_network_report": Call("GET", "/portal/figures/network/report"),
    "figures_network_chart": Call("GET", "/portal/figures/network/chart/channels.svg"),
    "figures_network_csv": Call("GET", "/portal/figures/network/export.csv"),
    "figures_network_xlsx": Call("GET", "/portal/figures/network/export.xlsx"),
}
FIGURE_CALLS = {name for name in CALLS if name.startswith("figures_")}
SCOPED_FIGURES = ("organisation", "location")
FIGURE_KINDS = ("", "_report", "_chart", "_csv", "_xlsx")

#   action                    relation   coordinator org_admin staff volunteer
HTTP_TABLE = [
    # Series: provider and host see them, the provider's staff and admins change them, the
    # host gets 403 on changing a guest series, and for anyone else it does not exist.
    ("series_new", ANY, 200, 200, 200, 403),
    ("series_new_post", P, 303, 303, 303, 403),
    ("series_new_post", (H, U), 303, 422, 422, 403),  # another provider is not a choice
    ("series_detail", (P, H), 200, 200, 200, 200),
    ("series_detail", U, 200, 404, 404, 404),
    ("series_edit", P, 200, 200, 200, 403),
    ("series_edit", H, 200, 403, 403, 403),
    ("series_edit", U, 200, 404, 404, 404),
    ("series_edit_post", P, 303, 303, 303, 403),
    ("series_edit_post", H, 303, 403, 403, 403),
    ("series_edit_post", U, 303, 404, 404, 404),
    ("series_publish", P, 303, 303, 303, 403),
    ("series_publish", H, 303, 403, 403, 403),
    ("series_publish", U, 303, 404, 404, 404),
    ("series_pause", P, 303, 303, 303, 403),
    ("series_pause", H, 303, 403, 403, 403),
    ("series_pause", U, 303, 404, 404, 404),
    ("exception_add", P, 303, 303, 303, 403),
    ("exception_add", H, 303, 403, 403, 403),
    ("exception_add", U, 303, 404, 404, 404),
    ("exception_delete", P, 303, 303, 303, 403),
    ("exception_delete", H, 303, 403, 403, 403),
    ("exception_delete", U, 303, 404, 404, 404),
    # Locations are public; only the host's admin closes and reopens them.
    ("closure_add", H, 303, 303, 403, 403),
    ("closure_add", (P, U), 303, 403, 403, 403),
    ("closure_delete", H, 303, 303, 403, 403),
    ("closure_delete", (P, U), 303, 403, 403, 403),
    # Management: coordinator and organisation admins only.
    ("admin_index", ANY, 200, 200, 403, 403),
    ("organisations", ANY, 200, 403, 403, 403),
    ("organisation_new", ANY, 200, 403, 403, 403),
    ("organisation_new_post", ANY, 303, 403, 403, 403),
    ("organisation_edit", H, 200, 200, 403, 403),
    ("organisation_edit", (P, U), 200, 403, 403, 403),
    ("organisation_edit_post", H, 303, 303, 403, 403),
    ("organisation_edit_post", (P, U), 303, 403, 403, 403),
    ("location_new", ANY, 200, 200, 403, 403),
    ("location_new_post", H, 303, 303, 403, 403),
    ("location_new_post", (P, U), 303, 422, 403, 403),  # another host is not a choice
    ("location_edit", H, 200, 200, 403, 403),
    ("location_edit", (P, U), 200, 403, 403, 403),
    ("location_edit_post", H, 303, 303, 403, 403),
    ("location_edit_post", (P, U), 303, 403, 403, 403),
    ("topics", ANY, 200, 403, 403, 403),
    ("topic_new", ANY, 200, 403, 403, 403),
    ("topic_new_post", ANY, 303, 403, 403, 403),
    ("topic_edit", ANY, 200, 403, 403, 403),
    ("topic_edit_post", ANY, 303, 403, 403, 403),
    # Accounts: another organisation's accounts do not exist for an organisation admin (404),
    # a coordinator's account in their own organisation is out of their reach (403).
    ("user_new", ANY, 200, 200, 403, 403),
    ("user_new_post", H, 200, 200, 403, 403),
    ("user_new_post", (P, U), 200, 422, 403, 403),  # another organisation is not a choice
    ("user_edit", H, 200, 200, 403, 403),
    ("user_edit", (P, U), 200, 404, 403, 403),
    ("user_edit_post", H, 303, 303, 403, 403),
    ("user_edit_post", (P, U), 303, 404, 403, 403),
    ("user_deactivate", H, 303, 303, 403, 403),
    ("user_deactivate", (P, U), 303, 404, 403, 403),
    ("user_password", H, 200, 200, 403, 403),
    ("user_password", (P, U), 200, 404, 403, 403),
    ("coordinator_edit", H, 200, 403, 403, 403),
    ("coordinator_edit", (P, U), 200, 404, 403, 403),
    ("coordinator_deactivate", H, 303, 403, 403, 403),
    ("coordinator_deactivate", (P, U), 303, 404, 403, 403),
    ("coordinator_password", H, 200, 403, 403, 403),
    ("coordinator_password", (P, U), 200, 404, 403, 403),
    # The desk, for every role alike and with no coordinator exception. Anyone opens a
    # location's queue and its numbers-only screen (see LISTING_TABLE for what they show);
    # the provider's and the host's people add someone for the provider's hours; only the
    # provider takes, finishes and registers its visitor: the host gets 403 (it sees the
    # visitor), anyone else 404. Everyone registers contacts for their own organisation, at
    # a location of their own or where it holds hours (another place is not a choice).
    ("queue_choose", (P, H), 303, 303, 303, 303),
    ("queue_choose", U, 200, 200, 200, 200),
    ("visit_add", (P, H), 303, 303, 303, 303),
    ("visit_add", U, 403, 404, 404, 404),
    ("take_next", ANY, 303, 303, 303, 303),
    ("visit_take", P, 303, 303, 303, 303),
    ("visit_take", H, 403, 403, 403, 403),
    ("visit_take", U, 404, 404, 404, 404),
    ("visit_finish", P, 303, 303, 303, 303),
    ("visit_finish", H, 403, 403, 403, 403),
    ("visit_finish", U, 404, 404, 404, 404),
    ("visit_left", P, 303, 303, 303, 303),
    ("visit_left", H, 403, 403, 403, 403),
    ("visit_left", U, 404, 404, 404, 404),
    ("registration_new", ANY, 200, 200, 200, 200),
    ("registration_new_post", (P, H), 303, 303, 303, 303),
    ("registration_new_post", U, 422, 422, 422, 422),
    ("registration_visit", P, 200, 200, 200, 200),
    ("registration_visit", H, 403, 403, 403, 403),
    ("registration_visit", U, 404, 404, 404, 404),
    ("registration_visit_post", P, 303, 303, 303, 303),
    ("registration_visit_post", H, 403, 403, 403, 403),
    ("registration_visit_post", U, 404, 404, 404, 404),
    # Outside bodies are kept by the coordinator, as topics are.
    ("outside_bodies", ANY, 200, 403, 403, 403),
    ("outside_body_new", ANY, 200, 403, 403, 403),
    ("outside_body_new_post", ANY, 303, 403, 403, 403),
    ("outside_body_edit", ANY, 200, 403, 403, 403),
    ("outside_body_edit_post", ANY, 303, 403, 403, 403),
    # Figures (see CAN_TABLE): everyone but a volunteer has figures of their own, and the
    # index opens them; the host's and its location's for the host's admins and staff; the
    # network's for the coordinator and the municipality's admins, who see the others too.
    ("figures_index", (*ANY, M), 302, 302, 302, 403),
    *[
        row
        for scoped in SCOPED_FIGURES
        for kind in FIGURE_KINDS
        for row in (
            (f"figures_{scoped}{kind}", H, 200, 200, 200, 403),
            (f"figures_{scoped}{kind}", (P, U), 200, 403, 403, 403),
            (f"figures_{scoped}{kind}", M, 200, 200, 403, 403),
        )
    ],
    *[
        row
        for kind in FIGURE_KINDS
        for row in (
            (f"figures_network{kind}", ANY, 200, 403, 403, 403),
            (f"figures_network{kind}", M, 200, 200, 403, 403),
        )
    ],
]


REFUSED = {403, 404, 422}


def snapshot() -> dict[str, list[tuple]]:
    """Every committed row of every table, read in a transaction of its own."""
    with db.engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(table.select().order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


@pytest.mark.parametrize(("role", "relation", "action", "expected"), _rows(HTTP_TABLE))
def test_views(role, relation, action, expected, client, login, net):
    """Each page and form answers as HTTP_TABLE says. A refusal shows none of the object's
    data and changes nothing; a page that is shown shows it; a GET never writes; a permitted
    POST makes its change."""
    call = CALLS[action]
    login(net.member(role, relation))
    url, form = call.prepare(net)
    must_not_write = call.method == "GET" or expected in REFUSED or relation in call.nothing_for
    before = snapshot() if must_not_write else None

    response = client.open(url, method=call.method, data=form)

    body = response.get_data().decode("utf-8", "replace")  # a download may be a workbook
    assert response.status_code == expected, f"{call.method} {url}"
    if expected in REFUSED:
        for text in call.data:
            assert text not in body, "a refusal must never show the object's data"
    elif call.method == "GET":
        for text in call.data:
            assert text in body
    if must_not_write:
        assert snapshot() == before
    else:
        assert call.done(net), "the permitted change was not made"


#   page                   relation  coordinator org_admin staff volunteer
LISTING_TABLE = [
    # The series is listed for its provider and its host only.
    ("dashboard", (P, H), Y, Y, Y, Y),
    ("dashboard", U, Y, N, N, N),
    ("location_detail", (P, H), Y, Y, Y, Y),
    ("location_detail", U, Y, N, N, N),  # the location is public, the guest series is not
    # The portal lists the locations of the user's own organisation.
    ("portal_locations", H, Y, Y, Y, Y),
    ("portal_locations", (P, U), N, N, N, N),
    # Management lists everything for the coordinator, the own organisation's for an admin.
    ("admin_locations", H, Y, Y, 403, 403),
    ("admin_locations", (P, U), Y, N, 403, 403),
    ("users", H, Y, Y, 403, 403),
    ("users", (P, U), Y, N, 403, 403),
    # A visitor's initials: for the provider whose desk it is and the host of the location;
    # anyone else sees a count. The screen for the waiting area shows numbers only; the
    # still-to-register list is the provider's own.
    ("queue", (P, H), Y, Y, Y, Y),
    ("queue", U, N, N, N, N),
    ("queue_display", ANY, N, N, N, N),
    ("still_to_register", P, Y, Y, Y, Y),
    ("still_to_register", (H, U), N, N, N, N),
]


@pytest.mark.parametrize(("role", "relation", "page", "expected"), _rows(LISTING_TABLE))
def test_listings(role, relation, page, expected, client, login, net):
    """A list page shows an object only to those LISTING_TABLE says (Y shown, N left out, or
    the status code when the page itself is refused)."""
    call = CALLS[page]
    login(net.member(role, relation))
    url, _ = call.prepare(net)

    response = client.get(url)

    body = response.get_data(as_text=True)
    if expected in REFUSED:
        assert response.status_code == expected
        assert all(text not in body for text in call.data)
    else:
        assert response.status_code == 200
        assert all((text in body) is expected for text in call.data)


@pytest.mark.parametrize("action", list(CALLS))
def test_anonymous_visitors_are_sent_to_login(action, client, net):
    """Every portal and admin URL sends a visitor who is not logged in to the login page,
    and changes nothing."""
    url, form = CALLS[action].prepare(net)
    before = snapshot()

    response = client.open(url, method=CALLS[action].method, data=form)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/login"
    assert snapshot() == before


def test_tables_cover_every_request_for_everyone():
    """Each request has exactly one expected answer per role and relation, in one table."""
    seen = [p.values[:3] for p in _rows(HTTP_TABLE) + _rows(LISTING_TABLE)]
    assert len(seen) == len(set(seen)), "a request is in the tables twice"
    everyone = {
        (role, relation, action)
        for role in ROLES
        for action in CALLS
        for relation in ((*ANY, M) if action in FIGURE_CALLS else ANY)
    }
    assert set(seen) == everyone


# Rules the tables cannot express -------------------------------------------------------------


def test_org_admin_edits_profile_but_not_kind_or_participation(client, login, net):
    """An organisation admin saves their profile; the kind and whether the organisation takes
    part stay the coordinator's decision even when the form is sent with them."""
    login(net.member(Role.ORG_ADMIN, H))
    form = {**_organisation_form(RENAMED_HOST_NAME, "partner")(net), "active": ""}

    response = client.post(f"/admin/organisations/{net.host}/edit", data=form)

    assert response.status_code == 303
    host = _get(Organisation, net.host)
    assert (host.name, host.kind, host.active) == (
        RENAMED_HOST_NAME,
        OrganisationKind.LIBRARY,
        True,
    )


@pytest.mark.parametrize("action", ["user_new_post", "user_edit_post"])
def test_org_admin_cannot_make_a_coordinator(action, client, login, net):
    """An organisation admin neither creates a coordinator account nor promotes one of their
    accounts to coordinator: the role is not among their choices (422) and nothing changes."""
    login(net.member(Role.ORG_ADMIN, H))
    url, form = CALLS[action].prepare(net)
    before = snapshot()

    response = client.post(url, data={**form, "role": Role.COORDINATOR.value})

    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ORG_ADMIN])
def test_nobody_deactivates_their_own_account(role, client, login, net):
    """Managers cannot lock themselves out: deactivating one's own account is refused."""
    me = net.member(role, H)
    login(me)
    before = snapshot()

    response = client.post(f"/admin/users/{me.id}/active", data={"active": "0"})

    assert response.status_code == 403
    assert snapshot() == before
