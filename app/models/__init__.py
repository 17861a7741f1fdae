"""All models, importable from one place (and known to Alembic)."""

from app.models.booking import (
    BookedVia,
    Booking,
    BookingStatus,
    OutboxMessage,
    OutboxStatus,
)
from app.models.course import Course, CourseSession, Enrolment, EnrolmentStatus
from app.models.feed import FeedBookings, FeedKind, FeedLink, feed_link_series
from app.models.organisation import Location, Organisation, OrganisationKind
from app.models.rate_limit import RateLimitCounter
from app.models.referral import (
    AuditAction,
    AuditEntry,
    Consent,
    ConsentMethod,
    ConsentScope,
    ContactMethod,
    Referral,
    ReferralKind,
    ReferralNote,
    ReferralProfile,
    ReferralStatus,
    Urgency,
)
from app.models.schedule import (
    LAST_WEEK,
    ConsultationHours,
    ExceptionKind,
    LocationClosure,
    Mode,
    Recurrence,
    SeriesException,
    SeriesStatus,
    Topic,
    series_topic,
)
from app.models.user import Role, User

__all__ = [
    "AuditAction",
    "AuditEntry",
    "Consent",
    "ConsentMethod",
    "ConsentScope",
    "ContactMethod",
    "Course",
    "CourseSession",
    "Enrolment",
    "EnrolmentStatus",
    "Referral",
    "ReferralKind",
    "ReferralNote",
    "ReferralProfile",
    "ReferralStatus",
    "Urgency",
    "LAST_WEEK",
    "BookedVia",
    "Booking",
    "BookingStatus",
    "OutboxMessage",
    "OutboxStatus",
    "ConsultationHours",
    "ExceptionKind",
    "FeedBookings",
    "FeedKind",
    "FeedLink",
    "Location",
    "LocationClosure",
    "Mode",
    "Organisation",
    "OrganisationKind",
    "RateLimitCounter",
    "Recurrence",
    "Role",
    "SeriesException",
    "SeriesStatus",
    "Topic",
    "User",
    "feed_link_series",
    "series_topic",
]
