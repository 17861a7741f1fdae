"""Human labels for the domain's enums, translated."""

from flask_babel import lazy_gettext as _l

from app.models import (
    BookingStatus,
    ExceptionKind,
    Mode,
    OrganisationKind,
    Recurrence,
    Role,
    SeriesStatus,
)

MODE = {
    Mode.WALK_IN: _l("Walk in, no appointment needed"),
    Mode.APPOINTMENT: _l("By appointment"),
    Mode.MIXED: _l("Walk in or by appointment"),
}
STATUS = {
    SeriesStatus.DRAFT: _l("Draft"),
    SeriesStatus.PUBLISHED: _l("Published"),
    SeriesStatus.PAUSED: _l("Paused"),
}
ROLE = {
    Role.COORDINATOR: _l("Network coordinator"),
    Role.ORG_ADMIN: _l("Organisation admin"),
    Role.STAFF: _l("Staff"),
    Role.VOLUNTEER: _l("Volunteer"),
}
ORGANISATION_KIND = {
    OrganisationKind.LIBRARY: _l("Library"),
    OrganisationKind.MUNICIPALITY: _l("Municipality"),
    OrganisationKind.PARTNER: _l("Partner organisation"),
}
RECURRENCE = {
    Recurrence.WEEKLY: _l("Every week or every few weeks"),
    Recurrence.MONTHLY: _l("Certain weeks of the month"),
}
EXCEPTION_KIND = {
    ExceptionKind.CANCELLED: _l("Cancelled"),
    ExceptionKind.CHANGED: _l("Other times"),
    ExceptionKind.EXTRA: _l("Extra date"),
}
WEEKDAYS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]
MONTH_WEEKS = {
    1: _l("1st"),
    2: _l("2nd"),
    3: _l("3rd"),
    4: _l("4th"),
    5: _l("5th"),
    -1: _l("last"),
}
BOOKING_STATUS = {
    BookingStatus.BOOKED: _l("Booked"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.ATTENDED: _l("Came"),
    BookingStatus.NO_SHOW: _l("Did not come"),
}
