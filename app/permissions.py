"""Who may do what: every permission decision in Spreekuur is made here.

Views call ``authorize`` (which aborts with 404 when the user may not even see the
object and 403 when they may see but not do it) and list through the ``visible_*``
query helpers, so that no view decides access on its own.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask import abort

from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    Course,
    Enrolment,
    FeedLink,
    Location,
    Organisation,
    OrganisationKind,
    OutsideBody,
    Referral,
    Registration,
    Role,
    Topic,
    User,
    Visit,
)


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
    SUBSCRIBE = "subscribe"  # on a Location or Organisation: a calendar feed of its hours
    FOLLOW_SERIES = "follow_series"  # on a ConsultationHours: put it in one's personal feed
    FEED_BOOKINGS = "feed_bookings"  # on a ConsultationHours (or none): its bookings in feeds
    MANAGE_FEED = "manage_feed"  # on a FeedLink: see it, revoke it
    REFER = "refer"  # on the receiving Organisation (or none): write a referral to it
    HANDLE_REFERRAL = "handle_referral"  # on a Referral: the receiver's status loop and notes
    WITHDRAW_CONSENT = "withdraw_consent"  # on a Referral: record the resident's withdrawal
    BOOK_FROM_REFERRAL = "book_from_referral"  # on a Referral: book the receiver's hours
    REFERRAL_COUNTS = "referral_counts"  # no object: the network's referral counts
    READ_AUDIT_LOG = "read_audit_log"  # on an Organisation: its referrals' audit log
    CREATE_COURSE = "create_course"  # on an Organisation: offer a course
    COURSE_LISTS = "course_lists"  # on a Course: see and handle its participant lists
    COURSE_SIGN_UP = "course_sign_up"  # on an Enrolment without referral: see, print, sign off
    RUN_COURSE = "run_course"  # on a Course: sessions, places, sign-up, attendance
    QUEUE = "queue"  # on a Location: its queue today (who is waiting, as far as one may see)
    ADD_VISIT = "add_visit"  # on a ConsultationHours: someone came in for these hours
    HANDLE_VISIT = "handle_visit"  # on a Visit: take, finish, left without help
    REGISTER = "register"  # on a Visit (or none): register a contact for one's organisation
    FIGURES = "figures"  # on an Organisation, a Location, or none (the network): its counts
    WAITING_LIST = "waiting_list"  # on a ConsultationHours: see and manage its waiting list
    BOOKING_MESSAGES = "booking_messages"  # on a Booking: what was sent to the resident
    FAILED_MESSAGES = "failed_messages"  # on an Organisation: messages to its residents that failed


EDITOR_ROLES = {Role.ORG_ADMIN, Role.STAFF}
# For referrals these roles see only what they wrote themselves.
AUTHOR_ONLY_ROLES = {Role.VOLUNTEER, Role.COORDINATOR}
FEED_ACTIONS = {Action.SUBSCRIBE, Action.FOLLOW_SERIES, Action.FEED_BOOKINGS, Action.MANAGE_FEED}
REFERRAL_ACTIONS = {
    Action.REFER,
    Action.HANDLE_REFERRAL,
    Action.WITHDRAW_CONSENT,
    Action.BOOK_FROM_REFERRAL,
    Action.REFERRAL_COUNTS,
    Action.READ_AUDIT_LOG,
    Action.CREATE_COURSE,
    Action.COURSE_LISTS,
    Action.RUN_COURSE,
}
DESK_ACTIONS = {Action.QUEUE, Action.ADD_VISIT, Action.HANDLE_VISIT, Action.REGISTER}


def _org_id(obj) -> int | None:
    match obj:
        case Organisation():
            return obj.id
        case Location() | User():
            return obj.organisation_id
        case ConsultationHours():
            return obj.provider_id
        case Course():
            return obj.organisation_id
    return None


def can_see(user: User, obj) -> bool:
    """Whether the object exists for this user at all (otherwise: 404)."""
    if not user.is_authenticated or not user.active:
        return False
    if isinstance(obj, Booking):
        if obj.status is BookingStatus.OFFERED:
            return False  # a seat held for the waiting list, no appointment (yet)
        # A resident's details are for the organisation that helps them and for the staff
        # member who booked for them; not for the host, not even for the coordinator.
        return obj.created_by_id == user.id or (
            obj.series.provider_id == user.organisation_id and user.role is not Role.VOLUNTEER
        )
    if isinstance(obj, FeedLink):
        # A feed link is a credential: only its owner sees it, not even the coordinator.
        return obj.user_id == user.id
    if isinstance(obj, Referral):
        return _sees_referral(user, obj)
    if isinstance(obj, Visit):
        # Who is at the desk is for the organisation whose desk it is and for the host of
        # the location; everyone else (the coordinator too) sees counts only.
        return user.organisation_id in (obj.organisation_id, obj.location.organisation_id)
    if isinstance(obj, Registration):
        return obj.organisation_id == user.organisation_id
    if isinstance(obj, Enrolment):
        return _sees_sign_up(user, obj)
    if user.role is Role.COORDINATOR:
        return True
    match obj:
        case ConsultationHours():
            # Provider and host both see a series: that is the point of sharing hours.
            return user.organisation_id in (obj.provider_id, obj.location.organisation_id)
        case User():
            return obj.organisation_id == user.organisation_id
        case Organisation() | Location() | Topic() | Course() | OutsideBody():
            # The network's organisations, places, topics and courses are public knowledge.
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
    if action is Action.COURSE_SIGN_UP:
        return isinstance(obj, Enrolment)  # whoever may see a sign-up may act for the resident
    if action in FEED_ACTIONS:
        return _can_feed(user, action, obj)
    if action in REFERRAL_ACTIONS:
        return _can_referral(user, action, obj)
    if action in DESK_ACTIONS:
        return _can_desk(user, action, obj)
    if action is Action.FIGURES:
        return _can_figures(user, obj)
    if action is Action.WAITING_LIST:
        # The waiting list holds residents' names and contact details: like the bookings,
        # only for the organisation that holds the hours, never for volunteers.
        return (
            isinstance(obj, ConsultationHours)
            and obj.provider_id == user.organisation_id
            and user.role is not Role.VOLUNTEER
        )
    if action is Action.BOOKING_MESSAGES:
        # The organisation that holds the hours follows up a message that did not arrive.
        return (
            isinstance(obj, Booking)
            and obj.series.provider_id == user.organisation_id
            and user.role is not Role.VOLUNTEER
        )
    if action is Action.FAILED_MESSAGES:
        return (
            isinstance(obj, Organisation)
            and obj.id == user.organisation_id
            and user.role is Role.ORG_ADMIN
        )
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


def _can_feed(user: User, action: Action, obj) -> bool:
    """Calendar feeds. Schedules are not personal: anyone may follow any location's or
    organisation's hours. Bookings are: a feed shows bookings (even their number) only of the
    hours the user's own organisation holds, as its booking lists do, and never to
    volunteers. The same rules hold for the coordinator."""
    own_hours = isinstance(obj, ConsultationHours) and obj.provider_id == user.organisation_id
    match action:
        case Action.SUBSCRIBE:
            return isinstance(obj, Location | Organisation) and obj.active
        case Action.FOLLOW_SERIES:
            return own_hours
        case Action.FEED_BOOKINGS:
            return user.role is not Role.VOLUNTEER and (obj is None or own_hours)
        case Action.MANAGE_FEED:
            return isinstance(obj, FeedLink) and obj.user_id == user.id
    return False


def _sees_sign_up(user: User, enrolment: Enrolment) -> bool:
    """A course sign-up (made by the resident or at the desk; a referred resident's place is
    seen through the referral) is for the organisation whose staff member made it and for
    whoever handles the course's lists; everyone else, the coordinator too, sees counts."""
    if enrolment.referral_id is not None:
        return False
    creator = enrolment.created_by
    if creator is not None and creator.organisation_id == user.organisation_id:
        return True
    return _can_referral(user, Action.COURSE_LISTS, enrolment.course)


def visible_sign_ups(user: User) -> sa.Select:
    """The course sign-ups the user may see, by the same rule as ``can_see``."""
    lists = (
        sa.select(Course.id).where(Course.organisation_id == user.organisation_id)
        if user.role in EDITOR_ROLES
        else sa.select(Course.id).where(sa.false())
    )
    made_here = sa.select(User.id).where(User.organisation_id == user.organisation_id)
    return sa.select(Enrolment).where(
        Enrolment.referral_id.is_(None),
        sa.or_(Enrolment.created_by_id.in_(made_here), Enrolment.course_id.in_(lists)),
    )


def _sees_referral(user: User, referral: Referral) -> bool:
    """Only the sending and the receiving organisation see a referral; a volunteer only what
    they wrote; the coordinator sees counts, not contents (only what they wrote themselves).

    The same rule as ``referral_visibility``, which lists and detail pages go through.
    """
    if user.role in AUTHOR_ONLY_ROLES:
        return referral.created_by_id == user.id
    return user.organisation_id in (referral.from_organisation_id, referral.to_organisation_id)


def _can_referral(user: User, action: Action, obj) -> bool:
    """Referrals and courses. Whoever may see a referral may act for the resident (book a
    time, record a withdrawal, print); the status loop and the internal notes are the
    receiver's, not its volunteers'. No coordinator exception: counts only."""
    own = _org_id(obj) == user.organisation_id
    match action:
        case Action.REFER:
            return obj is None or (isinstance(obj, Organisation) and obj.active)
        case Action.HANDLE_REFERRAL:
            return (
                isinstance(obj, Referral)
                and obj.to_organisation_id == user.organisation_id
                and user.role in EDITOR_ROLES
            )
        case Action.WITHDRAW_CONSENT | Action.BOOK_FROM_REFERRAL:
            return isinstance(obj, Referral)
        case Action.REFERRAL_COUNTS:
            return obj is None and user.role is Role.COORDINATOR
        case Action.READ_AUDIT_LOG:
            return (
                isinstance(obj, Organisation)
                and own
                and user.role in (Role.ORG_ADMIN, Role.COORDINATOR)
            )
        case Action.CREATE_COURSE:
            return isinstance(obj, Organisation) and own and user.role is not Role.VOLUNTEER
        case Action.COURSE_LISTS | Action.RUN_COURSE:
            return isinstance(obj, Course) and own and user.role in EDITOR_ROLES
    return False


def _can_desk(user: User, action: Action, obj) -> bool:
    """The desk's queue and registrations, for every role alike (volunteers staff the desk)
    and with no coordinator exception. Anyone may look at a location's queue, which shows
    them only the visits they may see; someone comes in for hours held by one's own
    organisation or at one's own location; the organisation whose desk it is helps the
    visitor and registers the contact, always for itself."""
    own_visit = isinstance(obj, Visit) and obj.organisation_id == user.organisation_id
    match action:
        case Action.QUEUE:
            return isinstance(obj, Location) and obj.active
        case Action.ADD_VISIT:
            return isinstance(obj, ConsultationHours) and user.organisation_id in (
                obj.provider_id,
                obj.location.organisation_id,
            )
        case Action.HANDLE_VISIT:
            return own_visit
        case Action.REGISTER:
            return obj is None or own_visit
    return False


def _sees_network_figures(user: User) -> bool:
    return user.role is Role.COORDINATOR or (
        user.role is Role.ORG_ADMIN and user.organisation.kind is OrganisationKind.MUNICIPALITY
    )


def _can_figures(user: User, obj) -> bool:
    """Figures are counts, never a resident. The network's are for the coordinator and the
    municipality's admins (who fund the desks), who may also look at each organisation and
    location; an organisation's own figures are for its admins and staff; a location's for
    the admins and staff of its host, counting every hours held there. Volunteers work the
    desk and see no figures."""
    if _sees_network_figures(user):
        return obj is None or isinstance(obj, Organisation | Location)
    if user.role not in EDITOR_ROLES:
        return False
    return isinstance(obj, Organisation | Location) and _org_id(obj) == user.organisation_id


def figure_scopes(user: User) -> list[Organisation | Location | None]:
    """The figures a user may open from the menu: the network (None) first, then their own
    organisation and its locations. Empty when they may see none."""
    if not user.is_authenticated or not user.active:
        return []
    organisation = user.organisation
    candidates = [None, organisation, *[p for p in organisation.locations if p.active]]
    return [c for c in candidates if can(user, Action.FIGURES, c)]


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
    query = sa.select(Booking).join(Booking.series).where(Booking.status != BookingStatus.OFFERED)
    own_hours = ConsultationHours.provider_id == user.organisation_id
    if user.role is Role.VOLUNTEER:
        return query.where(Booking.created_by_id == user.id)
    return query.where(sa.or_(own_hours, Booking.created_by_id == user.id))


def visible_visits(user: User) -> sa.Select:
    """Visits whose number, initials and topic the user may see (see ``can_see``)."""
    return (
        sa.select(Visit)
        .join(Visit.location)
        .where(
            sa.or_(
                Visit.organisation_id == user.organisation_id,
                Location.organisation_id == user.organisation_id,
            )
        )
    )


def followable_series(user: User) -> sa.Select:
    """Series the user may follow in a personal feed: those their organisation holds (a
    feed shows them while they are published)."""
    return sa.select(ConsultationHours).where(ConsultationHours.provider_id == user.organisation_id)


def visible_feed_links(user: User) -> sa.Select:
    """The user's own feed links that still work."""
    return sa.select(FeedLink).where(FeedLink.user_id == user.id, FeedLink.revoked_at.is_(None))


def referral_visibility(user: User) -> sa.ColumnElement[bool]:
    """The condition for the referrals a user may see (see ``_sees_referral``)."""
    if not user.is_authenticated or not user.active:
        return sa.false()
    if user.role in AUTHOR_ONLY_ROLES:
        return Referral.created_by_id == user.id
    return sa.or_(
        Referral.from_organisation_id == user.organisation_id,
        Referral.to_organisation_id == user.organisation_id,
    )


def visible_referrals(user: User) -> sa.Select:
    """Referrals the user may see: every list and every referral page goes through this."""
    return sa.select(Referral).where(referral_visibility(user))
