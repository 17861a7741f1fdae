"""All models, importable from one place (and known to Alembic)."""

from app.models.booking import (
    BookedVia,
    Booking,
    BookingStatus,
    OutboxMessage,
    OutboxStatus,
)
from app.models.organisation import Location, Organisation, OrganisationKind
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
    "LAST_WEEK",
    "BookedVia",
    "Booking",
    "BookingStatus",
    "OutboxMessage",
    "OutboxStatus",
    "ConsultationHours",
    "ExceptionKind",
    "Location",
    "LocationClosure",
    "Mode",
    "Organisation",
    "OrganisationKind",
    "Recurrence",
    "Role",
    "SeriesException",
    "SeriesStatus",
    "Topic",
    "User",
    "series_topic",
]
