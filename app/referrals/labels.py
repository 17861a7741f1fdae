"""Human labels for the referral and course enums, translated (template filters)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l

from app.booking.forms import RESIDENT_LANGUAGES
from app.models import (
    AuditAction,
    ConsentMethod,
    ConsentScope,
    ContactMethod,
    EnrolmentStatus,
    ReferralKind,
    ReferralStatus,
    Urgency,
)

REFERRAL_KIND = {
    ReferralKind.WARM: _l("Warm handover"),
    ReferralKind.SIGNPOST: _l("Signposting"),
}
REFERRAL_STATUS = {
    ReferralStatus.RECEIVED: _l("Received"),
    ReferralStatus.IN_CONTACT: _l("In contact"),
    ReferralStatus.DONE: _l("Done"),
    ReferralStatus.NOT_REACHED: _l("Not reached"),
    ReferralStatus.DECLINED: _l("Declined"),
    ReferralStatus.SIGNPOSTED: _l("Signposted"),
    ReferralStatus.WITHDRAWN: _l("Consent withdrawn"),
}
# What the receiver's buttons say: the status they move the referral to.
STATUS_ACTIONS = {
    ReferralStatus.IN_CONTACT: _l("In contact"),
    ReferralStatus.DONE: _l("Done: helped"),
    ReferralStatus.NOT_REACHED: _l("Not reached"),
    ReferralStatus.DECLINED: _l("Declined"),
}
URGENCY = {
    Urgency.NORMAL: _l("No hurry"),
    Urgency.SOON: _l("This week"),
    Urgency.URGENT: _l("Urgent: within two working days"),
}
CONTACT_METHOD = {
    ContactMethod.PHONE: _l("Phone call"),
    ContactMethod.TEXT_MESSAGE: _l("Text message (SMS or WhatsApp)"),
    ContactMethod.EMAIL: _l("Email"),
}
CONSENT_METHOD = {
    ConsentMethod.SPOKEN: _l("Spoken: I read the text aloud"),
    ConsentMethod.ON_SCREEN: _l("On screen: the resident read the text"),
    ConsentMethod.SIGNED_FORM: _l("Signed form"),
}
CONSENT_SCOPE = {
    ConsentScope.CONTACT: _l("Pass on the details; they contact the resident"),
    ConsentScope.APPOINTMENT: _l("Pass on the details and make an appointment"),
    ConsentScope.COURSE: _l("Pass on the details and put the resident on the course list"),
}
AUDIT_ACTION = {
    AuditAction.VIEW: _l("Viewed"),
    AuditAction.CREATE: _l("Written"),
    AuditAction.STATUS: _l("Status changed"),
    AuditAction.NOTE: _l("Note added"),
    AuditAction.WITHDRAW: _l("Consent withdrawn, details erased"),
    AuditAction.BOOK: _l("Appointment made"),
    AuditAction.ENROL: _l("Put on course list"),
    AuditAction.PRINT: _l("Printed"),
    AuditAction.ERASE: _l("Details erased (retention period)"),
}
ENROLMENT_STATUS = {
    EnrolmentStatus.PARTICIPANT: _l("On the participant list"),
    EnrolmentStatus.WAITING: _l("On the waiting list"),
    EnrolmentStatus.REMOVED: _l("Off the lists"),
}
LANGUAGE_NAMES = dict(RESIDENT_LANGUAGES)


def filter_choices() -> list[tuple[str, str]]:
    """The status filter of the referral lists (see ``referrals.INBOX_FILTERS``)."""
    return [
        ("open", _l("Open: received or in contact")),
        ("received", REFERRAL_STATUS[ReferralStatus.RECEIVED]),
        ("in_contact", REFERRAL_STATUS[ReferralStatus.IN_CONTACT]),
        ("closed", _l("Closed")),
        ("signposted", REFERRAL_STATUS[ReferralStatus.SIGNPOSTED]),
        ("all", _l("All")),
    ]


def in_local_time(value: datetime) -> datetime:
    """An instant on the network's wall clock (Europe/Amsterdam), for showing it."""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


PRINTED = {"card": _l("Appointment card"), "slip": _l("Signposting slip")}
VIEWED = {"course list": _l("On the course list")}


def audit_detail(entry) -> str:
    """An audit entry's detail in words (it is stored as a short code: a status, a time)."""
    from flask_babel import gettext as _

    from app.web.filters import format_short_date

    detail = entry.detail or ""
    try:
        match entry.action:
            case AuditAction.CREATE:
                return str(REFERRAL_KIND[ReferralKind(detail)])
            case AuditAction.ENROL:
                return str(ENROLMENT_STATUS[EnrolmentStatus(detail)])
            case AuditAction.STATUS:
                old, new = (ReferralStatus(part.strip()) for part in detail.split(">"))
                return _(
                    "From %(old)s to %(new)s", old=REFERRAL_STATUS[old], new=REFERRAL_STATUS[new]
                )
            case AuditAction.PRINT:
                return str(PRINTED[detail])
            case AuditAction.VIEW if detail:
                return str(VIEWED[detail])
            case AuditAction.BOOK:
                moment = in_local_time(datetime.fromisoformat(detail))
                return f"{format_short_date(moment.date())} {moment.strftime('%H:%M')}"
            case AuditAction.ERASE:
                days = int("".join(c for c in detail if c.isdigit()))
                if "open" in detail:
                    return _("No change for %(days)s days", days=days)
                return _("%(days)s days after it was closed", days=days)
    except (KeyError, ValueError):
        pass
    return detail


def register(bp: Blueprint) -> None:
    """Make the labels template filters of the whole app."""
    for name, mapping in {
        "referral_kind_label": REFERRAL_KIND,
        "referral_status_label": REFERRAL_STATUS,
        "urgency_label": URGENCY,
        "contact_method_label": CONTACT_METHOD,
        "consent_method_label": CONSENT_METHOD,
        "consent_scope_label": CONSENT_SCOPE,
        "audit_action_label": AUDIT_ACTION,
        "enrolment_status_label": ENROLMENT_STATUS,
    }.items():
        bp.add_app_template_filter(lambda value, m=mapping: m[value], name)
    bp.add_app_template_filter(lambda code: LANGUAGE_NAMES.get(code, code), "language_name")
    bp.add_app_template_filter(in_local_time, "in_local_time")
    bp.add_app_template_filter(audit_detail, "audit_detail")
