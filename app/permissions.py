"""Who may do what: every permission decision in Spreekuur is made here.

Views call ``authorize`` (which aborts with 404 when the user may not even see the
object and 403 when they may see but not do it) and list through the ``visible_*``
query helpers, so that no view decides access on its own.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask import abort

from app.models import Booking, ConsultationHours, Location, Organisation, Role, Topic, User


class Action(enum.Enum):
    VIEW = "view"
    CREATE_SERIES = "create_series"  # on an Organisation: create series it provides
    EDIT_SERIES = "edit_series"  # edit, pause, publish, add exceptions
    CLOSE_LOCATION = "close_location"  # on a Location
    MANAGE = "manage"  # organisations, locations, topics, users: create and edit
    MANAGE_USERS = "manage_users"  # on an Organisation: create accounts in it
    MANAGE_NETWORK = "manage_network"  # no object: add organisations and topics
    BOOK_AT_DESK = "book_at_desk"  # no object: book any published hours for a resident
    MANAGE_BOOKING = "manage_booking"  # on a Booking: cancel, move, mark who came


EDITOR_ROLES = {Role.ORG_ADMIN, Role.STAFF}


def _org_id(obj) -> int | None:
    match obj:
        case Organisation():
            return obj.id
        case Location() | User():
            return obj.organisation_id
        case ConsultationHours():
            return obj.provider_id
    return None


def can_see(user: User, obj) -> bool:
    """Whether the object exists for this user at all (otherwise: 404)."""
    if not user.is_authenticated or not user.active:
        return False
    if isinstance(obj, Booking):
        # A resident's details are for the organisation that helps them and for the staff
        # member who booked for them; not for the host, not even for the coordinator.
        return obj.created_by_id == user.id or (
            obj.series.provider_id == user.organisation_id and user.role is not Role.VOLUNTEER
        )
    if user.role is Role.COORDINATOR:
        return True
    match obj:
        case ConsultationHours():
            # Provider and host both see a series: that is the point of sharing hours.
            return user.organisation_id in (obj.provider_id, obj.location.organisation_id)
        case User():
            return obj.organisation_id == user.organisation_id
        case Organisation() | Location() | Topic():
            # The network's organisations, places and topics are public knowledge.
            return True
    return False


def can(user: User, action: Action, obj=None) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``."""
    if not user.is_authenticated or not user.active:
        return False
    if obj is not None and not can_see(user, obj):
        return False
    if action is Action.VIEW:
        return True
    if action is Action.BOOK_AT_DESK:
        return True  # every active staff member and volunteer helps residents at the desk
    if action is Action.MANAGE_BOOKING:
        return isinstance(obj, Booking)  # whoever may see a booking may handle it
    if user.role is Role.COORDINATOR:
        return True
    own = _org_id(obj) == user.organisation_id
    match action:
        case Action.CREATE_SERIES:
            return isinstance(obj, Organisation) and own and user.role in EDITOR_ROLES
        case Action.EDIT_SERIES:
            return isinstance(obj, ConsultationHours) and own and user.role in EDITOR_ROLES
        case Action.CLOSE_LOCATION:
            return isinstance(obj, Location) and own and user.role is Role.ORG_ADMIN
        case Action.MANAGE:
            # Organisation admins keep their own organisation's profile, places and accounts.
            if isinstance(obj, Organisation | Location):
                return own and user.role is Role.ORG_ADMIN
            if isinstance(obj, User):
                return own and user.role is Role.ORG_ADMIN and obj.role is not Role.COORDINATOR
            return False
        case Action.MANAGE_USERS:
            return isinstance(obj, Organisation) and own and user.role is Role.ORG_ADMIN
    return False


def authorize(user: User, action: Action, obj) -> None:
    """Abort with 404 if the user may not see ``obj``, 403 if they may not do ``action``."""
    if obj is None or not can_see(user, obj):
        abort(404)
    if not can(user, action, obj):
        abort(403)


def require(user: User, action: Action) -> None:
    """Abort with 403 unless the user may perform an action that concerns no single object."""
    if not can(user, action):
        abort(403)


def assignable_roles(user: User) -> list[Role]:
    """The roles this user may give to an account."""
    if user.role is Role.COORDINATOR:
        return list(Role)
    if user.role is Role.ORG_ADMIN:
        return [Role.ORG_ADMIN, Role.STAFF, Role.VOLUNTEER]
    return []


def visible_series(user: User) -> sa.Select:
    """Series the user sees in the portal: provided by, or held at, their organisation."""
    query = sa.select(ConsultationHours).join(ConsultationHours.location)
    if user.role is not Role.COORDINATOR:
        query = query.where(
            sa.or_(
                ConsultationHours.provider_id == user.organisation_id,
                Location.organisation_id == user.organisation_id,
            )
        )
    return query


def visible_users(user: User) -> sa.Select:
    """Accounts the user may list: all for the coordinator, their own organisation's otherwise."""
    query = sa.select(User)
    if user.role is not Role.COORDINATOR:
        query = query.where(User.organisation_id == user.organisation_id)
    return query


def visible_bookings(user: User) -> sa.Select:
    """Bookings whose resident details the user may see (see ``can_see``)."""
    query = sa.select(Booking).join(Booking.series)
    own_hours = ConsultationHours.provider_id == user.organisation_id
    if user.role is Role.VOLUNTEER:
        return query.where(Booking.created_by_id == user.id)
    return query.where(sa.or_(own_hours, Booking.created_by_id == user.id))
