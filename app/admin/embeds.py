"""The coordinator's page for embedding the public lists on other websites."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, current_app, flash, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape

from app.admin.forms import EmbedOriginForm
from app.admin.routes import bp
from app.extensions import db
from app.models import EmbedOrigin, Location, Organisation, Topic
from app.permissions import Action, require
from app.portal.series_form import apply_domain_error
from app.services import DomainError, embeds
from app.web import embed
from app.web.htmx import redirect_to, render


@dataclass
class EmbedCode:
    title: str
    url: str

    @property
    def code(self) -> str:
        """The ``<iframe>`` to copy into a page of the other website."""
        return (
            f'<iframe src="{escape(self.url)}" title="{escape(self.title)}" width="100%" '
            f'height="600" loading="lazy"></iframe>'
        )


def _codes() -> list[EmbedCode]:
    """Every embeddable list: the lists without parameters, then per place, topic and
    organisation."""
    codes = [
        EmbedCode(item.label(), embed.embed_url(item.endpoint))
        for item in embed.LISTS.values()
        if item.label is not None and f"{item.endpoint}_embedded" in current_app.view_functions
    ]
    cities = db.session.scalars(
        sa.select(Location.city).where(Location.active).distinct().order_by(Location.city)
    )
    codes += [
        EmbedCode(
            _("Help sessions in %(place)s", place=city),
            embed.embed_url("public.hours_in_place", slug=embeds.slugify(city)),
        )
        for city in cities
    ]
    language = get_locale().language
    topics = db.session.scalars(
        sa.select(Topic).where(Topic.active, Topic.public).order_by(Topic.sort_order, Topic.slug)
    )
    codes += [
        EmbedCode(
            _("Help with %(topic)s", topic=topic.name(language)),
            embed.embed_url("public.hours_on_topic", slug=topic.slug),
        )
        for topic in topics
    ]
    organisations = db.session.scalars(
        sa.select(Organisation).where(Organisation.active).order_by(Organisation.name)
    )
    codes += [
        EmbedCode(
            _("Help sessions of %(organisation)s", organisation=organisation.name),
            embed.embed_url(
                "public.hours_of_organisation", slug=embeds.organisation_slug(organisation)
            ),
        )
        for organisation in organisations
    ]
    return codes


def _page(form: EmbedOriginForm, status: int = 200):
    return render(
        "admin/embeds.html",
        status=status,
        form=form,
        origins=embeds.allowed_origins(),
        codes=_codes(),
    )


@bp.route("/embeds", methods=["GET", "POST"])
def embed_lists():
    """Manage the websites that may show the lists, and show the code to embed each list."""
    require(current_user, Action.MANAGE_NETWORK)
    form = EmbedOriginForm()
    if form.validate_on_submit():
        try:
            added = embeds.add_origin(form.origin.data, form.label.data or "")
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("%(origin)s may now show the lists.", origin=added.origin), "success")
            return redirect_to(url_for("admin.embed_lists"))
    return _page(form, 422 if form.is_submitted() else 200)


@bp.route("/embeds/<int:origin_id>/remove", methods=["POST"])
def embed_origin_remove(origin_id: int):
    """Take a website off the list: its frames stay empty from the next page view on."""
    require(current_user, Action.MANAGE_NETWORK)
    item = db.session.get(EmbedOrigin, origin_id)
    if item is None:
        abort(404)
    embeds.remove_origin(item)
    flash(_("%(origin)s may no longer show the lists.", origin=item.origin), "success")
    return redirect_to(url_for("admin.embed_lists"))
