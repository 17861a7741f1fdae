"""Referrals between organisations: writing one (consent first), the inbox and the status
loop, a warm handover into a slot, the signposting slip, counts, the audit log.

Every referral is loaded through ``referrals.get_visible`` (the one visibility rule of
``app.permissions``), so a referral that is not the user's to see does not exist for them
(404); actions are then decided by ``authorize`` (403).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup

from app import clock
from app.extensions import db
from app.i18n import RESIDENT_TO_INTERFACE, interface_language
from app.models import (
    ConsentMethod,
    ConsentScope,
    ConsultationHours,
    ContactMethod,
    Course,
    Organisation,
    Referral,
    ReferralKind,
    ReferralStatus,
    Role,
    Topic,
    Urgency,
)
from app.permissions import Action, authorize, can, require, visible_referrals
from app.portal.series_form import apply_domain_error
from app.referrals import labels
from app.referrals.forms import (
    ConsentForm,
    ProfileForm,
    SignpostForm,
    StartForm,
    UpdateForm,
    WarmForm,
    WithdrawForm,
)
from app.services import DomainError, audit, courses, mail, notify, referrals
from app.services.booking import SlotTaken
from app.services.referrals import ConsentAnswers, ReferralDraft
from app.services.schedule import occurrences
from app.web.filters import topic_name
from app.web.htmx import redirect_to, render
from app.web.menus import referral_menu
from app.web.params import parse_slot, query_int, slot_param, whole_number

bp = Blueprint("referrals", __name__, url_prefix="/portal/referrals")
labels.register(bp)

AUDIT_PAGE = 100
HOURS_DAYS_SHOWN = 14


@bp.before_request
@login_required
def require_login() -> None:
    """Referrals are for logged-in staff only."""


@bp.app_context_processor
def inbox_badge() -> dict:
    """The number of new referrals for the staff menu, counted only when a page shows it."""

    def count() -> int:
        if not has_request_context() or not current_user.is_authenticated:
            return 0
        return referrals.inbox_count(current_user)

    return {"referral_inbox_count": count}


bp.context_processor(referral_menu)


# Lists -------------------------------------------------------------------------------------


def _filters(default: str) -> tuple[str, Topic | None]:
    status = request.args.get("status", default)
    if status not in referrals.INBOX_FILTERS:
        status = default
    slug = request.args.get("topic", "")
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == slug)) if slug else None
    return status, topic


def _topics() -> list[Topic]:
    return list(
        db.session.scalars(
            sa.select(Topic).where(Topic.active).order_by(Topic.sort_order, Topic.name_nl)
        )
    )


@bp.route("/")
def inbox():
    """Referrals to the user's organisation, filtered by status and topic."""
    status, topic = _filters("open")
    items = db.session.scalars(referrals.inbox(current_user, status, topic)).all()
    return render(
        "referrals/inbox.html",
        block="results",
        items=items,
        status_filter=status,
        topic=topic,
        topics=_topics(),
        statuses=labels.filter_choices(),
        handles=current_user.role in (Role.ORG_ADMIN, Role.STAFF),
    )


@bp.route("/sent")
def sent():
    """Referrals the user's organisation sent (a volunteer's: their own), with their status."""
    status, topic = _filters("all")
    items = db.session.scalars(referrals.sent(current_user, status, topic)).all()
    return render(
        "referrals/sent.html",
        block="results",
        items=items,
        status_filter=status,
        topic=topic,
        topics=_topics(),
        statuses=labels.filter_choices(),
    )


# Writing a referral ------------------------------------------------------------------------


def _receiver(org_id: int) -> Organisation:
    organisation = db.session.get(Organisation, org_id)
    authorize(current_user, Action.REFER, organisation)
    return organisation


def _course(organisation: Organisation) -> Course | None:
    course_id = query_int("course")
    if course_id is None:
        if organisation.id == current_user.organisation_id:
            abort(404)  # only a course of one's own organisation, never the organisation
        return None
    course = db.session.get(Course, course_id)
    if course is None or course.organisation_id != organisation.id:
        abort(404)
    return course


def _language() -> str:
    language = request.args.get("language", "nl")
    return language if language in labels.LANGUAGE_NAMES else "nl"


def _flow_args(course: Course | None, **values) -> dict:
    if course is not None:
        values["course"] = course.id
    return values


def _organisation_info(organisation: Organisation) -> dict:
    """What referring staff (and the slip) show about an organisation: profile and hours."""
    hours = referrals.public_hours(organisation)
    today = clock.today()
    coming = occurrences(hours, today, today + timedelta(days=HOURS_DAYS_SHOWN))
    places = list({s.location_id: s.location for s in hours}.values())
    return {
        "profile": referrals.profile(organisation),
        "hours": hours,
        "coming": coming[:8],
        "places": places,
        "bring": [s.what_to_bring for s in hours if s.what_to_bring],
    }


@bp.route("/new")
def new():
    """Choose who can help: the organisations with what they do and do not do, their hours,
    and the courses residents can be referred to."""
    require(current_user, Action.REFER)
    organisations = referrals.receiving_organisations(current_user)
    hours_by_org: dict[int, list[ConsultationHours]] = {}
    for organisation in organisations:
        hours_by_org[organisation.id] = referrals.public_hours(organisation)
    return render(
        "referrals/new.html",
        organisations=organisations,
        profiles={o.id: referrals.profile(o) for o in organisations},
        hours_by_org=hours_by_org,
        open_courses=courses.open_courses(),
        places_left=courses.places_left,
    )


@bp.route("/new/<int:org_id>", methods=["GET", "POST"])
def start(org_id: int):
    """Step 1: warm handover or signposting, and the resident's language."""
    organisation = _receiver(org_id)
    course = _course(organisation)
    form = StartForm(language=_language())
    if form.validate_on_submit():
        args = _flow_args(course, language=form.language.data)
        if form.kind.data == ReferralKind.WARM.value:
            return redirect_to(url_for(".consent", org_id=organisation.id, **args))
        return redirect_to(url_for(".details", org_id=organisation.id, kind="signpost", **args))
    return render(
        "referrals/start.html",
        block="start_form",
        status=422 if form.is_submitted() else 200,
        form=form,
        organisation=organisation,
        course=course,
        **_organisation_info(organisation),
    )


def _consent_script(organisation: Organisation, course: Course | None, language: str) -> Markup:
    """The B1 consent script in the language it can be shown in."""
    with force_locale(language):
        return Markup(
            render_template(
                "referrals/_consent_script.html", organisation=organisation, course=course
            )
        )


@bp.route("/new/<int:org_id>/consent", methods=["GET", "POST"])
def consent(org_id: int):
    """Step 2 of a warm handover: the script and the resident's two answers. Nothing is
    stored here; without two yes's only signposting is possible."""
    organisation = _receiver(org_id)
    course = _course(organisation)
    language = _language()
    shown_in = referrals.script_language(language)
    form = ConsentForm()
    declined = False
    status = 200
    if form.is_submitted():
        valid = form.validate()
        if course is None and not form.scope.data:
            form.scope.errors = [*form.scope.errors, _("Please choose what we may do.")]
            valid = False
        if valid and form.share.data == "yes" and form.receive.data == "yes":
            scope = ConsentScope.COURSE.value if course else form.scope.data
            args = _flow_args(
                course,
                kind="warm",
                language=language,
                method=form.method.data,
                scope=scope,
                share="yes",
                receive="yes",
            )
            return redirect_to(url_for(".details", org_id=organisation.id, **args))
        declined = valid
        status = 200 if valid else 422
    return render(
        "referrals/consent.html",
        block="consent_form",
        status=status,
        form=form,
        organisation=organisation,
        course=course,
        language=language,
        shown_in=shown_in,
        translated=shown_in == RESIDENT_TO_INTERFACE.get(language, language),
        script=_consent_script(organisation, course, shown_in),
        declined=declined,
        signpost_url=url_for(
            ".details",
            org_id=organisation.id,
            **_flow_args(course, kind="signpost", language=language),
        ),
    )


def _consent_answers(course: Course | None, language: str) -> ConsentAnswers | None:
    """The answers carried from the consent step (nothing was stored there)."""
    try:
        method = ConsentMethod(request.args.get("method", ""))
        scope = ConsentScope(request.args.get("scope", ""))
    except ValueError:
        return None
    if (scope is ConsentScope.COURSE) != (course is not None):
        return None
    return ConsentAnswers(
        may_share=request.args.get("share") == "yes",
        may_receive=request.args.get("receive") == "yes",
        method=method,
        scope=scope,
        script_language=referrals.script_language(language),
    )


@bp.route("/new/<int:org_id>/details", methods=["GET", "POST"])
def details(org_id: int):
    """Step 3: what the receiver needs (warm handover) or only the topic (signposting)."""
    organisation = _receiver(org_id)
    course = _course(organisation)
    language = _language()
    try:
        kind = ReferralKind(request.args.get("kind", ""))
    except ValueError:
        abort(404)
    answers = None
    if kind is ReferralKind.WARM:
        answers = _consent_answers(course, language)
        if answers is None or not answers.given:
            flash(_("First ask the resident for consent."), "error")
            return redirect_to(
                url_for(".consent", org_id=organisation.id, **_flow_args(course, language=language))
            )
        form = WarmForm(language=language)
    else:
        form = SignpostForm(language=language)
    form.topic.choices = [("", _("Choose a topic"))] + [(t.id, topic_name(t)) for t in _topics()]
    status = 200
    if form.validate_on_submit():
        draft = ReferralDraft(
            to_organisation=organisation,
            kind=kind,
            topic=db.session.get(Topic, form.topic.data or 0),
            language=form.language.data,
            course=course,
        )
        if kind is ReferralKind.WARM:
            draft.urgency = Urgency(form.urgency.data)
            draft.contact_method = ContactMethod(form.contact_method.data)
            draft.resident_name = form.name.data or ""
            draft.phone = form.phone.data or ""
            draft.email = form.email.data or ""
            draft.request = form.request.data or ""
        try:
            referral = referrals.create(draft, current_user, answers)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            if kind is ReferralKind.WARM:
                flash(_("The referral has been sent to %(org)s.", org=organisation.name), "success")
            else:
                flash(_("Saved. Print the slip for the resident."), "success")
            return redirect_to(url_for(".detail", referral_id=referral.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "referrals/details.html",
        block="details_form",
        status=status,
        form=form,
        organisation=organisation,
        course=course,
        kind=kind,
        answers=answers,
    )


# One referral ------------------------------------------------------------------------------


def _get(referral_id: int) -> Referral:
    """The referral through the one visibility rule: 404 when it is not the user's to see."""
    referral = referrals.get_visible(current_user, referral_id)
    if referral is None:
        abort(404)
    return referral


def _render_detail(referral: Referral, update_form: UpdateForm, status: int = 200):
    may_handle = can(current_user, Action.HANDLE_REFERRAL, referral)
    may_book = can(current_user, Action.BOOK_FROM_REFERRAL, referral)
    try:
        referrals.check_can_book(referral)
    except DomainError:
        may_book = False
    enrolment = referral.enrolment
    return render(
        "referrals/detail.html",
        block="loop" if status == 422 else None,
        status=status,
        referral=referral,
        may_handle=may_handle,
        notes=[n for n in referral.notes if n.text] if may_handle else [],
        history=referrals.status_history(referral),
        next_statuses=referrals.ALLOWED_STATUS_CHANGES.get(referral.status, [])
        if may_handle
        else [],
        may_withdraw=referral.consent_active
        and can(current_user, Action.WITHDRAW_CONSENT, referral),
        may_book=may_book,
        update_form=update_form,
        withdraw_form=WithdrawForm(),
        enrolment=enrolment,
        queue_place=courses.queue_place(enrolment) if enrolment else None,
        status_actions=labels.STATUS_ACTIONS,
    )


@bp.route("/<int:referral_id>")
def detail(referral_id: int):
    """One referral: the resident's details for both sides, the status loop, the receiver's
    notes for the receiver only. Each view is in the audit log."""
    referral = _get(referral_id)
    referrals.record_view(referral, current_user)
    db.session.commit()
    return _render_detail(referral, UpdateForm())


@bp.route("/<int:referral_id>/update", methods=["POST"])
def update(referral_id: int):
    """The receiver moves the referral on and/or keeps a short internal note."""
    referral = _get(referral_id)
    authorize(current_user, Action.HANDLE_REFERRAL, referral)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            status = ReferralStatus(form.status.data) if form.status.data else None
        except ValueError:
            abort(400)
        try:
            referrals.update(referral, current_user, status, form.note.data or "")
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            if status is not None:
                flash(_("Status: %(status)s.", status=labels.REFERRAL_STATUS[status]), "success")
            else:
                flash(_("The note has been saved."), "success")
            return redirect_to(url_for(".detail", referral_id=referral.id))
    return _render_detail(referral, form, status=422)


@bp.route("/<int:referral_id>/withdraw", methods=["POST"])
def withdraw(referral_id: int):
    """The resident withdrew consent: their details are erased at once."""
    referral = _get(referral_id)
    authorize(current_user, Action.WITHDRAW_CONSENT, referral)
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Please confirm that the resident withdraws consent."), "error")
        return redirect_to(url_for(".detail", referral_id=referral.id))
    try:
        referrals.withdraw_consent(referral, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Consent withdrawn. The resident's details have been erased."), "success")
    return redirect_to(url_for(".detail", referral_id=referral_id))


@bp.route("/<int:referral_id>/book", methods=["GET", "POST"])
def book(referral_id: int):
    """Warm handover into a slot: book the resident into the receiver's free time."""
    referral = _get(referral_id)
    authorize(current_user, Action.BOOK_FROM_REFERRAL, referral)
    back = url_for(".detail", referral_id=referral.id)
    try:
        referrals.check_can_book(referral)
    except DomainError as error:
        flash(error.message, "error")
        return redirect_to(back)
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        series_id = whole_number(request.form.get("series"), minimum=1)
        series = db.session.get(ConsultationHours, series_id) if series_id else None
        start = parse_slot(request.form.get("tijd"))
        if series is None or start is None:
            flash(_("Please choose a time."), "error")
            return redirect_to(url_for(".book", referral_id=referral.id))
        try:
            booking, token = referrals.book_slot(referral, series, start, current_user)
        except (SlotTaken, DomainError) as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect_to(url_for(".book", referral_id=referral_id))
        notify.booking_confirmed(booking, token)
        db.session.commit()
        mail.send_after_response()
        flash(_("The appointment is made. Print the card for the resident."), "success")
        return redirect_to(back)
    free = referrals.free_times(referral)
    groups = [
        (series, list(items))
        for series, items in groupby(
            sorted(free, key=lambda f: (f.occurrence.series.title, f.occurrence.series.id)),
            key=lambda f: f.occurrence.series,
        )
    ]
    return render(
        "referrals/book.html", referral=referral, groups=groups, form=form, slot_param=slot_param
    )


@bp.route("/<int:referral_id>/card")
def card(referral_id: int):
    """The appointment card of the time booked from the referral, in the resident's language."""
    referral = _get(referral_id)
    booking = referral.booking
    if booking is None or booking.personal_data_erased_at is not None:
        abort(404)
    referrals.record_print(referral, current_user, "card")
    db.session.commit()
    with force_locale(interface_language(booking.language)):
        return render(
            "booking/card.html",
            booking=booking,
            back=url_for(".detail", referral_id=referral_id),
        )


@bp.route("/<int:referral_id>/slip")
def slip(referral_id: int):
    """The slip for the resident: who, where, when, how to contact them, what to bring."""
    referral = _get(referral_id)
    referrals.record_print(referral, current_user, "slip")
    db.session.commit()
    organisation = referral.to_organisation
    language = referrals.script_language(referral.language)
    with force_locale(language):
        return render(
            "referrals/slip.html",
            referral=referral,
            organisation=organisation,
            back=url_for(".detail", referral_id=referral_id),
            **_organisation_info(organisation),
        )


# Counts, audit log, profile ----------------------------------------------------------------


@bp.route("/counts")
def counts():
    """How many referrals went where and how they ended: numbers only (coordinator)."""
    require(current_user, Action.REFERRAL_COUNTS)
    return render(
        "referrals/counts.html",
        rows=referrals.network_counts(),
        topic_rows=referrals.topic_counts(),
        statuses=list(ReferralStatus),
    )


@bp.route("/audit")
def audit_log():
    """Who viewed and changed the referrals the organisation sent or received."""
    organisation = current_user.organisation
    authorize(current_user, Action.READ_AUDIT_LOG, organisation)
    page = query_int("page", 1, minimum=1)
    entries = db.session.scalars(
        audit.organisation_log(organisation).limit(AUDIT_PAGE + 1).offset((page - 1) * AUDIT_PAGE)
    ).all()
    if page > 1 and not entries:
        abort(404)  # after the last page
    has_more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    # Link only to the referrals the reader may open (the one visibility rule).
    openable = set(
        db.session.scalars(
            visible_referrals(current_user)
            .where(Referral.id.in_({e.referral_id for e in entries}))
            .with_only_columns(Referral.id)
        )
    )
    return render(
        "referrals/audit.html",
        entries=entries,
        openable=openable,
        page=page,
        has_more=has_more,
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """What the organisation does not do, how residents reach it, what they bring."""
    organisation = current_user.organisation
    authorize(current_user, Action.MANAGE, organisation)
    current = referrals.profile(organisation)
    form = ProfileForm(obj=current)
    if form.validate_on_submit():
        referrals.save_profile(
            organisation,
            form.not_offered.data or "",
            form.how_to_contact.data or "",
            form.what_to_bring.data or "",
        )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect_to(url_for(".profile"))
    return render(
        "referrals/profile.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        organisation=organisation,
    )
