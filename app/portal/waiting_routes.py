"""Staff of the organisation that holds the hours see and manage their waiting list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import (
    ConsultationHours,
    OfferStatus,
    SeatOffer,
    WaitingEntry,
    WaitingStatus,
)
from app.permissions import Action, authorize, can
from app.portal.routes import bp
from app.services import mail
from app.services import waiting_list as waiting_service
from app.waiting.forms import ConfirmForm
from app.web.changes import commit_or_explain
from app.web.htmx import redirect_to, render


def _series(series_id: int) -> ConsultationHours:
    series = db.session.get(ConsultationHours, series_id)
    if series is None:
        abort(404)
    authorize(current_user, Action.WAITING_LIST, series)
    return series


def _entry(series: ConsultationHours, entry_id: int) -> WaitingEntry:
    entry = db.session.get(WaitingEntry, entry_id)
    if entry is None or entry.series_id != series.id:
        abort(404)
    return entry


@bp.route("/series/<int:series_id>/waiting-list")
def waiting_list(series_id: int):
    """Who waits since when, and which times are offered to whom until when."""
    series = _series(series_id)
    waiting = db.session.scalars(
        sa.select(WaitingEntry)
        .where(WaitingEntry.series_id == series.id, WaitingEntry.status == WaitingStatus.WAITING)
        .order_by(WaitingEntry.joined_at, WaitingEntry.id)
    ).all()
    offers = db.session.scalars(
        sa.select(SeatOffer)
        .where(SeatOffer.series_id == series.id, SeatOffer.status == OfferStatus.OPEN)
        .order_by(SeatOffer.expires_at, SeatOffer.id)
    ).all()
    return render(
        "portal/waiting_list.html",
        series=series,
        waiting=waiting,
        offers=offers,
        until={o.id: waiting_service.format_moment(o.expires_at) for o in offers},
        since={e.id: waiting_service.format_moment(e.joined_at) for e in waiting},
        form=ConfirmForm(),
        offer_channel=waiting_service.offer_channel,
    )


@bp.route("/series/<int:series_id>/waiting-list/<int:entry_id>/remove", methods=["POST"])
def waiting_list_remove(series_id: int, entry_id: int):
    """Take a resident off the waiting list (a time held for them goes to the next one)."""
    series = _series(series_id)
    entry = _entry(series, entry_id)
    if ConfirmForm().validate_on_submit() and commit_or_explain(
        lambda: waiting_service.remove(entry, current_user),
        lambda _result: _("The resident is no longer on the waiting list."),
    ):
        mail.send_after_response()
    return redirect_to(url_for("portal.waiting_list", series_id=series.id))


@bp.route("/series/<int:series_id>/waiting-list/<int:entry_id>/offer", methods=["POST"])
def waiting_list_offer(series_id: int, entry_id: int):
    """Offer the first free time to this resident now, out of the list's order."""
    series = _series(series_id)
    entry = _entry(series, entry_id)
    if ConfirmForm().validate_on_submit() and commit_or_explain(
        lambda: waiting_service.offer_by_hand(entry, current_user),
        lambda _result: _("The time is offered and held for the resident."),
    ):
        mail.send_after_response()
    return redirect_to(url_for("portal.waiting_list", series_id=series.id))


@bp.app_context_processor
def waiting_list_menu() -> dict:
    """Whether a series page links to its waiting list (only for who may open it)."""

    def may_see_waiting_list(series: ConsultationHours) -> bool:
        return can(current_user, Action.WAITING_LIST, series)

    return {"may_see_waiting_list": may_see_waiting_list}
