"""Who may do what with calendar feeds: the rules of ``app.permissions`` as a table, and the
portal pages and feed addresses as each kind of user meets them.

The rules: schedules are not personal, so anyone makes a feed of any location or
organisation; a personal feed follows only one's own organisation's hours; bookings (even
their number) appear only for the hours of one's own organisation and never for volunteers;
a feed link is seen and revoked by its owner alone - the coordinator included.
"""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ConsultationHours,
    FeedBookings,
    FeedKind,
    FeedLink,
    Location,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from app.permissions import Action, can, can_see
from app.services import DomainError, NotAllowed, feeds

ROLES = (Role.COORDINATOR, Role.ORG_ADMIN, Role.STAFF, Role.VOLUNTEER)
P, H, U = "provider", "host", "unrelated"
ANY = (P, H, U)
Y, N = True, False
ACTOR = 100


class Network:
    """Unsaved objects: the provider's series at the host's location, two feed links."""

    def __init__(self):
        self.orgs = {
            P: Organisation(id=1, name="Geldpunt", kind=OrganisationKind.PARTNER, active=True),
            H: Organisation(id=2, name="Bibliotheek", kind=OrganisationKind.LIBRARY, active=True),
            U: Organisation(id=3, name="Taalhuis", kind=OrganisationKind.PARTNER, active=True),
        }
        location = Location(id=10, organisation_id=2, organisation=self.orgs[H], active=True)
        self.objects = {
            "location": location,
            "closed_location": Location(id=11, organisation_id=2, active=False),
            "organisation": self.orgs[P],
            "series": ConsultationHours(
                id=20, provider_id=1, provider=self.orgs[P], location_id=10, location=location
            ),
            "own_link": FeedLink(id=60, user_id=ACTOR, kind=FeedKind.PERSONAL),
            "colleagues_link": FeedLink(id=61, user_id=ACTOR + 1, kind=FeedKind.PERSONAL),
            None: None,
        }

    def member(self, role: Role, relation: str) -> User:
        return User(id=ACTOR, role=role, organisation_id=self.orgs[relation].id, active=True)


#  action                object              relation  coord  admin  staff  volunteer
TABLE = [
    (Action.SUBSCRIBE, "location", ANY, Y, Y, Y, Y),
    (Action.SUBSCRIBE, "organisation", ANY, Y, Y, Y, Y),
    (Action.SUBSCRIBE, "closed_location", ANY, N, N, N, N),
    (Action.FOLLOW_SERIES, "series", P, Y, Y, Y, Y),
    (Action.FOLLOW_SERIES, "series", (H, U), N, N, N, N),
    (Action.FEED_BOOKINGS, "series", P, Y, Y, Y, N),
    (Action.FEED_BOOKINGS, "series", (H, U), N, N, N, N),
    (Action.FEED_BOOKINGS, None, ANY, Y, Y, Y, N),
    (Action.MANAGE_FEED, "own_link", ANY, Y, Y, Y, Y),
    (Action.MANAGE_FEED, "colleagues_link", ANY, N, N, N, N),
]


def _cases():
    for action, name, relations, *expected in TABLE:
        for relation in relations if isinstance(relations, tuple) else (relations,):
            for role, allowed in zip(ROLES, expected, strict=True):
                label = f"{action.value}-{name}-{relation}-{role.value}-{allowed}"
                yield pytest.param(action, name, relation, role, allowed, id=label)


@pytest.mark.parametrize(("action", "name", "relation", "role", "allowed"), list(_cases()))
def test_feed_rules(action, name, relation, role, allowed):
    """can() for every feed action, role and relation."""
    network = Network()
    assert can(network.member(role, relation), action, network.objects[name]) is allowed


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_sees_a_feed_link(role):
    """A feed link is a credential: not even the coordinator sees another's link."""
    network = Network()
    user = network.member(role, H)
    assert can_see(user, network.objects["own_link"])
    assert not can_see(user, network.objects["colleagues_link"])


def test_an_inactive_account_may_do_nothing_with_feeds():
    network = Network()
    user = network.member(Role.STAFF, P)
    user.active = False
    assert not can(user, Action.FEED_BOOKINGS, network.objects["series"])
    assert not can(user, Action.MANAGE_FEED, network.objects["own_link"])


# The service refuses what the rules refuse ---------------------------------------------------


@pytest.fixture
def scene(make_org, make_location, make_series, make_user):
    provider = make_org(name="Geldpunt")
    host = make_org(name="Bibliotheek", kind=OrganisationKind.LIBRARY)
    location = make_location(organisation=host)
    series = make_series(
        provider=provider, location=location, start_date=date(2026, 1, 1), start_time=time(14)
    )
    return {
        "provider": provider,
        "host": host,
        "location": location,
        "series": series,
        "staff": make_user(Role.STAFF, provider),
        "volunteer": make_user(Role.VOLUNTEER, provider),
        "host_staff": make_user(Role.STAFF, host),
        "coordinator": make_user(Role.COORDINATOR, host),
    }


def test_service_refuses_bookings_for_volunteers_and_foreign_hours(scene):
    """No bookings for volunteers, no following or bookings of another organisation's hours."""
    with pytest.raises(NotAllowed):
        feeds.create_link(
            scene["volunteer"],
            FeedKind.LOCATION,
            location=scene["location"],
            include_bookings=FeedBookings.COUNTS,
        )
    with pytest.raises(NotAllowed):
        feeds.create_link(scene["host_staff"], FeedKind.PERSONAL, series=[scene["series"]])
    with pytest.raises(NotAllowed):
        feeds.create_link(scene["coordinator"], FeedKind.PERSONAL, series=[scene["series"]])
    with pytest.raises(DomainError):
        feeds.create_link(
            scene["host_staff"],
            FeedKind.ORGANISATION,
            organisation=scene["provider"],
            include_bookings=FeedBookings.CODES,
        )
    assert db.session.scalar(sa.select(sa.func.count(FeedLink.id))) == 0
    # Schedules are not personal: the volunteer and the host may follow anyone's hours.
    feeds.create_link(scene["volunteer"], FeedKind.LOCATION, location=scene["location"])
    feeds.create_link(scene["host_staff"], FeedKind.ORGANISATION, organisation=scene["provider"])


# The pages and addresses --------------------------------------------------------------------


def test_feed_pages_need_a_login_and_feeds_do_not(client, scene):
    """The portal pages send visitors to the login; a feed address needs only its token."""
    _link, token = feeds.create_link(scene["staff"], FeedKind.LOCATION, location=scene["location"])
    for path in ("/portal/feeds", "/portal/feeds/new", "/portal/feeds/new/location"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get(f"/feeds/{token}.ics").status_code == 200


@pytest.mark.parametrize("who", ["host_staff", "coordinator"])
def test_another_users_link_is_not_found_and_cannot_be_revoked(client, login, scene, who):
    """Someone else's link is a 404 for everyone, the coordinator included; it keeps working."""
    link, token = feeds.create_link(scene["staff"], FeedKind.LOCATION, location=scene["location"])
    login(scene[who])
    assert client.get(f"/portal/feeds/{link.id}").status_code == 404
    assert client.post(f"/portal/feeds/{link.id}/revoke").status_code == 404
    assert db.session.get(FeedLink, link.id).revoked_at is None
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    listing = client.get("/portal/feeds").get_data(as_text=True)
    assert f"/portal/feeds/{link.id}" not in listing


def test_volunteers_form_offers_no_bookings_and_ignores_them(client, login, scene):
    """A volunteer's form has no bookings choice; a forged one is ignored."""
    login(scene["volunteer"])
    form = client.get("/portal/feeds/new/location").get_data(as_text=True)
    assert 'name="include_bookings"' not in form
    response = client.post(
        "/portal/feeds/new/location",
        data={"location": scene["location"].id, "include_bookings": "codes"},
    )
    assert response.status_code == 303
    link = db.session.scalar(sa.select(FeedLink))
    assert link.include_bookings is FeedBookings.NONE


def test_organisation_feed_with_bookings_of_another_organisation_is_refused(client, login, scene):
    """The form says why: bookings are shown only for one's own organisation's hours."""
    login(scene["host_staff"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(
        "/portal/feeds/new/organisation",
        data={"organisation": scene["provider"].id, "include_bookings": "counts"},
    )
    assert response.status_code == 422
    assert "only for the hours of your own organisation" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(FeedLink.id))) == 0


def test_unknown_kind_of_feed_is_not_found(client, login, scene):
    login(scene["staff"])
    assert client.get("/portal/feeds/new/everything").status_code == 404
