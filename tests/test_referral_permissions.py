"""Who sees and does what with a referral: every role of the sending, the receiving and an
unrelated organisation (and the author), for every referral page and action, as a table.

The scene: the library (sender) refers a resident to a partner (receiver) with a warm
handover and consent to an appointment; the partner keeps an internal note. A third
organisation has nothing to do with it. The acting user has one of the four roles and belongs
to the sender, the receiver or the unrelated organisation, or wrote the referral themselves
(in the sender). The table gives what each request must answer:

* ``Y``: 200, and the page shows what the row is about (the referral, the note, ...);
* ``N``: 200, and nothing of this referral is on the page;
* ``D``: the POST is allowed, redirects (303) and made its change;
* 403 / 404: refused, with nothing of the referral in the body and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app import clock, create_app, dispose_engines
from app.extensions import db
from app.models import (
    Booking,
    ConsentScope,
    OrganisationKind,
    Referral,
    ReferralNote,
    ReferralStatus,
    Role,
)
from app.services import referrals
from tests.conftest import FreshContextClient, _clear, _test_config
from tests.referral_helpers import REQUEST, RESIDENT, at, slot_param, write_warm

SENDER_NAME = "Bibliotheek Vechtdal"
RECEIVER_NAME = "Geldpunt Vechtdal"
NOTE_TEXT = "Intern: mevrouw belt liever na drie uur"
NEW_NOTE = "Gebeld, voicemail ingesproken"

ROLES = (Role.COORDINATOR, Role.ORG_ADMIN, Role.STAFF, Role.VOLUNTEER)  # the table's columns
S, R, U, A = "sender", "receiver", "unrelated", "author"
ALL = (S, R, U, A)
Y, N, D = "Y", "N", "D"


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
    """conftest's ``app`` (an app context; an empty database afterwards) on one app for the
    module: building the app and its connections for each of the ~240 tests is slow."""
    with _module_app.app_context():
        yield _module_app
        db.session.remove()
        _clear(db.engine)


class Scene:
    """The network, the referral (with an internal note), a second referral with a booked
    appointment, and the acting user."""

    def __init__(self, make_org, make_user, make_series, make_location, make_topic, role, rel):
        self.sender = make_org(name=SENDER_NAME, kind=OrganisationKind.LIBRARY)
        self.receiver = make_org(name=RECEIVER_NAME)
        self.unrelated = make_org(name="Taalhuis Zuid")
        topic = make_topic()
        self.hours = make_series(
            provider=self.receiver,
            location=make_location(organisation=self.sender),
            weekdays="0,1,2,3,4,5,6",
            start_date=clock.today() - timedelta(days=7),
            start_time=time(9, 0),
            end_time=time(17, 0),
        )
        organisation = {S: self.sender, R: self.receiver, U: self.unrelated, A: self.sender}[rel]
        self.actor = make_user(role, organisation)
        author = self.actor if rel == A else make_user(Role.STAFF, self.sender)
        receiver_staff = make_user(Role.STAFF, self.receiver)
        self.referral = write_warm(author, self.receiver, topic, scope=ConsentScope.APPOINTMENT)
        referrals.update(self.referral, receiver_staff, None, NOTE_TEXT)
        self.booked = write_warm(author, self.receiver, topic, scope=ConsentScope.APPOINTMENT)
        booking, _token = referrals.book_slot(self.booked, self.hours, at(3, 11), author)
        self.code = booking.display_code
        db.session.commit()
        self.referral_id, self.booked_id = self.referral.id, self.booked.id

    def __getitem__(self, name: str):  # for str.format_map in URL templates
        return getattr(self, name)

    @property
    def receiver_id(self) -> int:
        return self.receiver.id

    def current(self) -> Referral:
        db.session.expire_all()
        return db.session.get(Referral, self.referral_id)

    def untouched(self) -> bool:
        referral = self.current()
        return (
            referral.status is ReferralStatus.RECEIVED
            and referral.consent.withdrawn_at is None
            and referral.resident_name == RESIDENT
            and referral.booking_id is None
            and db.session.scalar(
                sa.select(sa.func.count()).where(ReferralNote.referral_id == referral.id)
            )
            == 1
        )


@dataclass(frozen=True)
class Call:
    method: str
    url: str  # {placeholders} name Scene attributes
    shows: Callable[[Scene], tuple[str, ...]]  # what a Y page contains
    form: Callable[[Scene], dict] | None = None
    done: Callable[[Scene], bool] | None = None


def _link(scene: Scene) -> tuple[str, ...]:
    return (f'href="/portal/referrals/{scene.referral_id}"',)


CALLS = {
    "inbox": Call("GET", "/portal/referrals/?status=all", _link),
    "sent": Call("GET", "/portal/referrals/sent", _link),
    "detail": Call("GET", "/portal/referrals/{referral_id}", lambda s: (RESIDENT, REQUEST)),
    "notes": Call("GET", "/portal/referrals/{referral_id}", lambda s: (NOTE_TEXT,)),
    "slip": Call("GET", "/portal/referrals/{referral_id}/slip", lambda s: (RECEIVER_NAME,)),
    "book_page": Call(
        "GET", "/portal/referrals/{referral_id}/book", lambda s: (slot_param(at(2, 10)),)
    ),
    "card": Call("GET", "/portal/referrals/{booked_id}/card", lambda s: (s.code,)),
    "update": Call(
        "POST",
        "/portal/referrals/{referral_id}/update",
        lambda s: (),
        form=lambda s: {"status": "in_contact", "note": NEW_NOTE},
        done=lambda s: s.current().status is ReferralStatus.IN_CONTACT,
    ),
    "withdraw": Call(
        "POST",
        "/portal/referrals/{referral_id}/withdraw",
        lambda s: (),
        form=lambda s: {"confirm": "y"},
        done=lambda s: (
            s.current().consent.withdrawn_at is not None and s.current().resident_name == ""
        ),
    ),
    "book": Call(
        "POST",
        "/portal/referrals/{referral_id}/book",
        lambda s: (),
        form=lambda s: {"series": s.hours.id, "tijd": slot_param(at(2, 10))},
        done=lambda s: s.current().booking_id is not None,
    ),
    "counts": Call("GET", "/portal/referrals/counts", lambda s: (RECEIVER_NAME,)),
    "audit": Call("GET", "/portal/referrals/audit", _link),
    "profile": Call("GET", "/portal/referrals/profile", lambda s: ("What we do not do",)),
    "new": Call("GET", "/portal/referrals/new", lambda s: (RECEIVER_NAME,)),
    "refer_to_receiver": Call(
        "GET", "/portal/referrals/new/{receiver_id}", lambda s: (RECEIVER_NAME,)
    ),
}

# Pages that are allowed but must never show the resident's details.
NUMBERS_ONLY = {"counts", "audit", "slip", "new", "refer_to_receiver"}

# call, relations, coordinator, org_admin, staff, volunteer
TABLE = [
    # Lists: everyone gets the page, only the sides see the referral in it.
    ("inbox", (S, U, A), N, N, N, N),
    ("inbox", R, N, Y, Y, N),
    ("sent", S, N, Y, Y, N),
    ("sent", (R, U), N, N, N, N),
    ("sent", A, Y, Y, Y, Y),
    # The referral itself: the sides' staff and admins, and whoever wrote it.
    ("detail", (S, R), 404, Y, Y, 404),
    ("detail", U, 404, 404, 404, 404),
    ("detail", A, Y, Y, Y, Y),
    ("notes", S, 404, N, N, 404),
    ("notes", R, 404, Y, Y, 404),
    ("notes", U, 404, 404, 404, 404),
    ("notes", A, N, N, N, N),
    ("slip", (S, R), 404, Y, Y, 404),
    ("slip", U, 404, 404, 404, 404),
    ("slip", A, Y, Y, Y, Y),
    ("book_page", (S, R), 404, Y, Y, 404),
    ("book_page", U, 404, 404, 404, 404),
    ("book_page", A, Y, Y, Y, Y),
    ("card", (S, R), 404, Y, Y, 404),
    ("card", U, 404, 404, 404, 404),
    ("card", A, Y, Y, Y, Y),
    # The loop is the receiver's.
    ("update", S, 404, 403, 403, 404),
    ("update", R, 404, D, D, 404),
    ("update", U, 404, 404, 404, 404),
    ("update", A, 403, 403, 403, 403),
    # Acting for the resident: whoever may see the referral.
    ("withdraw", (S, R), 404, D, D, 404),
    ("withdraw", U, 404, 404, 404, 404),
    ("withdraw", A, D, D, D, D),
    ("book", (S, R), 404, D, D, 404),
    ("book", U, 404, 404, 404, 404),
    ("book", A, D, D, D, D),
    # Counts for the coordinator; the log for admins of the two sides; profiles for admins.
    # The log links to a referral only for a reader who may open it.
    ("counts", ALL, Y, 403, 403, 403),
    ("audit", (S, R), N, Y, 403, 403),
    ("audit", A, Y, Y, 403, 403),
    ("audit", U, N, N, 403, 403),
    ("profile", ALL, N, N, 403, 403),
    # Writing: to any other organisation, never to one's own.
    ("new", (S, U, A), Y, Y, Y, Y),
    ("refer_to_receiver", (S, U, A), Y, Y, Y, Y),
    ("refer_to_receiver", R, 404, 404, 404, 404),
]


def _rows() -> list:
    rows = []
    for name, relations, *expected in TABLE:
        for relation in relations if isinstance(relations, tuple) else (relations,):
            for role, outcome in zip(ROLES, expected, strict=True):
                rows.append(
                    pytest.param(
                        name,
                        role,
                        relation,
                        outcome,
                        id=f"{name}-{relation}-{role.value}-{outcome}",
                    )
                )
    return rows


def test_every_page_and_action_is_in_the_table():
    """No referral route is left out of the table."""
    assert {row[0] for row in TABLE} == set(CALLS)


@pytest.mark.parametrize(("name", "role", "relation", "expected"), _rows())
def test_referral_permissions(
    app,
    client,
    login,
    make_org,
    make_user,
    make_series,
    make_location,
    make_topic,
    name,
    role,
    relation,
    expected,
):
    """Each role of each organisation gets what the table says, and a refusal shows and
    changes nothing."""
    scene = Scene(make_org, make_user, make_series, make_location, make_topic, role, relation)
    call = CALLS[name]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(scene.actor)
    url = call.url.format_map(scene)
    form = call.form(scene) if call.form else None
    response = client.post(url, data=form) if form is not None else client.get(url)
    body = response.get_data(as_text=True)
    secrets = (RESIDENT, REQUEST, NOTE_TEXT, *_link(scene))

    if expected == D:
        assert response.status_code == 303, body
        assert call.done(scene)
    elif expected == Y:
        assert response.status_code == 200, body
        for text in call.shows(scene):
            assert text in body, f"{text!r} missing"
        if name in NUMBERS_ONLY:
            assert RESIDENT not in body and REQUEST not in body
    else:
        assert response.status_code == (200 if expected == N else expected), body
        # The sender's view of the referral lacks only the receiver's note.
        forbidden = (NOTE_TEXT,) if name == "notes" and expected == N else secrets
        for text in forbidden:
            assert text not in body, f"{text!r} shown"
        if call.method == "POST":
            assert scene.untouched(), "a refused POST changed the referral"
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_anonymous_visitors_are_sent_to_login(client, make_org):
    """Nothing of the referrals area is open without logging in."""
    for url in ("/portal/referrals/", "/portal/referrals/1", "/portal/courses/"):
        response = client.get(url)
        assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
