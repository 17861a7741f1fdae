"""Human labels for the domain's enums, translated."""

from flask_babel import lazy_gettext as _l

from app.models import (
    BookingStatus,
    Channel,
    Duration,
    ExceptionKind,
    HowHelped,
    Mode,
    OrganisationKind,
    Recurrence,
    Role,
    SeriesStatus,
    VisitStatus,
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
    BookingStatus.OFFERED: _l("Offered from the waiting list"),
}
VISIT_STATUS = {
    VisitStatus.WAITING: _l("Waiting"),
    VisitStatus.BEING_HELPED: _l("Being helped"),
    VisitStatus.FINISHED: _l("Helped"),
    VisitStatus.LEFT: _l("Left without help"),
}
CHANNEL = {
    Channel.DESK: _l("Walk-in at the desk"),
    Channel.APPOINTMENT: _l("Appointment"),
    Channel.PHONE: _l("Phone"),
    Channel.ONLINE: _l("E-mail or online"),
    Channel.PARTNER_LOCATION: _l("At a partner's location"),
}
DURATION = {
    Duration.UNDER_10: _l("Under 10 minutes"),
    Duration.FROM_10_TO_20: _l("10 to 20 minutes"),
    Duration.FROM_20_TO_30: _l("20 to 30 minutes"),
    Duration.OVER_30: _l("Over 30 minutes"),
}
HOW_HELPED = {
    HowHelped.INFORMATION: _l("Gave information"),
    HowHelped.SHOWN_HOW: _l("Showed how"),
    HowHelped.STEP_BY_STEP: _l("Helped step by step"),
    HowHelped.REFERRED: _l("Referred"),
}
