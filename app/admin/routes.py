"""Management: organisations, locations, topics and staff accounts."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import labels
from app.admin.forms import (
    LocationForm,
    OrganisationForm,
    OutsideBodyForm,
    UserForm,
    topic_form,
    topic_name_field,
)
from app.extensions import db
from app.models import Location, Organisation, OrganisationKind, OutsideBody, Role, Topic, User
from app.permissions import (
    Action,
    assignable_roles,
    authorize,
    can,
    require,
    visible_users,
)
from app.portal.series_form import apply_domain_error
from app.services import DomainError, accounts, directory
from app.web.htmx import redirect_to, render
from app.web.icons import ICON_LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_manager() -> None:
    """Management is for the coordinator and organisation admins."""
    if current_user.role not in (Role.COORDINATOR, Role.ORG_ADMIN):
        abort(403)


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _is_coordinator() -> bool:
    return current_user.role is Role.COORDINATOR


@bp.route("/")
def index():
    """Show what the user may manage."""
    return render("admin/index.html", is_coordinator=_is_coordinator())


# Organisations ---------------------------------------------------------------------------


@bp.route("/organisations")
def organisations():
    """List all organisations of the network (coordinator)."""
    require(current_user, Action.MANAGE_NETWORK)
    items = db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all()
    return render("admin/organisations.html", organisations=items)


@bp.route("/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
def organisation_edit(org_id: int | None = None):
    """Create an organisation (coordinator) or edit one's profile."""
    org = _get_or_404(Organisation, org_id) if org_id else None
    if org is None:
        require(current_user, Action.MANAGE_NETWORK)
    else:
        authorize(current_user, Action.MANAGE, org)
    form = OrganisationForm(obj=org)
    if not _is_coordinator():
        # Only the coordinator decides what kind an organisation is and whether it takes part.
        del form.kind
        del form.active
    if form.validate_on_submit():
        values = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if "kind" in values:
            values["kind"] = OrganisationKind(values["kind"])
        try:
            saved = directory.save(org or Organisation(), values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("%(name)s has been saved.", name=saved.name), "success")
            target = "admin.organisations" if _is_coordinator() else "admin.index"
            return redirect_to(url_for(target))
    elif org is not None and request.method == "GET" and "kind" in form:
        form.kind.data = org.kind.value
    return _form_page(form, f"{_('Organisation')}: {org.name}" if org else _("New organisation"))


def _form_page(form, heading: str):
    return render(
        "admin/form.html",
        block="admin_form",
        status=422 if form.is_submitted() else 200,
        form=form,
        heading=heading,
    )


# Locations -------------------------------------------------------------------------------


def _manageable_organisations() -> list[Organisation]:
    if _is_coordinator():
        return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all())
    return [current_user.organisation]


@bp.route("/locations")
def locations():
    """List the locations the user manages."""
    query = (
        sa.select(Location).join(Location.organisation).order_by(Organisation.name, Location.name)
    )
    if not _is_coordinator():
        query = query.where(Location.organisation_id == current_user.organisation_id)
    return render("admin/locations.html", locations=db.session.scalars(query).all())


@bp.route("/locations/new", methods=["GET", "POST"])
@bp.route("/locations/<int:location_id>/edit", methods=["GET", "POST"])
def location_edit(location_id: int | None = None):
    """Create or edit a location."""
    location = _get_or_404(Location, location_id) if location_id else None
    if location is not None:
        authorize(current_user, Action.MANAGE, location)
    form = LocationForm(obj=location)
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in _manageable_organisations()]
    if request.method == "GET":
        form.organisation.data = (location or current_user).organisation_id
    if form.validate_on_submit():
        host = db.session.get(Organisation, form.organisation.data)
        authorize(current_user, Action.MANAGE, host)
        values = {k: v for k, v in form.data.items() if k not in ("csrf_token", "organisation")}
        values["organisation"] = host
        try:
            saved = directory.save(location or Location(), values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("%(name)s has been saved.", name=saved.name), "success")
            return redirect_to(url_for("admin.locations"))
    return _form_page(form, f"{_('Location')}: {location.name}" if location else _("New location"))


# Topics ----------------------------------------------------------------------------------


@bp.route("/topics")
def topics():
    """List the topics residents can choose from (coordinator)."""
    require(current_user, Action.MANAGE_NETWORK)
    items = db.session.scalars(sa.select(Topic).order_by(Topic.sort_order, Topic.name_nl)).all()
    return render("admin/topics.html", topics=items, name_languages=current_app.config["LANGUAGES"])


@bp.route("/topics/new", methods=["GET", "POST"])
@bp.route("/topics/<int:topic_id>/edit", methods=["GET", "POST"])
def topic_edit(topic_id: int | None = None):
    """Create or edit a topic (coordinator)."""
    topic = _get_or_404(Topic, topic_id) if topic_id else None
    if topic is None:
        require(current_user, Action.MANAGE_NETWORK)
    else:
        authorize(current_user, Action.MANAGE, topic)
    languages = current_app.config["LANGUAGES"]
    names = {topic_name_field(code): topic.own_name(code) for code in languages} if topic else {}
    form = topic_form(languages, obj=topic, **names)
    form.icon.choices = [
        SelectChoice(name, str(ICON_LABELS[name])) for name in directory.TOPIC_ICONS
    ]
    if form.validate_on_submit():
        values = {k: v for k, v in form.data.items() if k != "csrf_token"}
        topic = topic or Topic()
        for code in languages:
            topic.set_name(code, values.pop(topic_name_field(code)))
        try:
            directory.save(topic, values)
        except DomainError as error:
            apply_domain_error(form, DomainError(error.message, "slug"))
        else:
            flash(_("The topic has been saved."), "success")
            return redirect_to(url_for("admin.topics"))
    return render(
        "admin/topic_form.html",
        block="admin_form",
        status=422 if form.is_submitted() else 200,
        form=form,
        heading=f"{_('Topic')}: {topic.name_nl}" if topic and topic.id else _("New topic"),
        name_languages=languages,
    )


# Outside bodies --------------------------------------------------------------------------


@bp.route("/outside-bodies")
def outside_bodies():
    """List the bodies outside the network residents are referred to (coordinator)."""
    require(current_user, Action.MANAGE_NETWORK)
    items = db.session.scalars(
        sa.select(OutsideBody).order_by(OutsideBody.sort_order, OutsideBody.name)
    ).all()
    return render("admin/outside_bodies.html", bodies=items)


@bp.route("/outside-bodies/new", methods=["GET", "POST"])
@bp.route("/outside-bodies/<int:body_id>/edit", methods=["GET", "POST"])
def outside_body_edit(body_id: int | None = None):
    """Add or edit a body outside the network (coordinator)."""
    body = _get_or_404(OutsideBody, body_id) if body_id else None
    if body is None:
        require(current_user, Action.MANAGE_NETWORK)
    else:
        authorize(current_user, Action.MANAGE, body)
    form = OutsideBodyForm(obj=body)
    if form.validate_on_submit():
        values = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            saved = directory.save(body or OutsideBody(), values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("%(name)s has been saved.", name=saved.name), "success")
            return redirect_to(url_for("admin.outside_bodies"))
    heading = f"{_('Outside body')}: {body.name}" if body else _("New outside body")
    return _form_page(form, heading)


# Staff accounts --------------------------------------------------------------------------


@bp.route("/users")
def users():
    """List the staff accounts the user manages."""
    query = (
        visible_users(current_user).join(User.organisation).order_by(Organisation.name, User.name)
    )
    users = db.session.scalars(query).all()
    # Link only to the accounts the reader may edit.
    editable = {user.id for user in users if can(current_user, Action.MANAGE, user)}
    return render("admin/users.html", users=users, editable=editable)


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    form.organisation.choices = [SelectChoice(o.id, o.name) for o in _manageable_organisations()]
    form.role.choices = [
        SelectChoice(r.value, labels.ROLE[r]) for r in assignable_roles(current_user)
    ]
    if request.method == "GET":
        form.organisation.data = user.organisation_id if user else current_user.organisation_id
        form.role.data = user.role.value if user else Role.STAFF.value
    return form


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create a staff account and show its first password once."""
    form = _user_form(None)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        authorize(current_user, Action.MANAGE_USERS, organisation)
        password = accounts.generate_password()
        try:
            user = accounts.create_user(
                organisation=organisation,
                name=form.name.data,
                email=form.email.data,
                role=Role(form.role.data),
                password=password,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return render("admin/password.html", user=user, password=password, new=True)
    return _form_page(form, _("New account"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Change an account's name, email, organisation or role."""
    user = _get_or_404(User, user_id)
    authorize(current_user, Action.MANAGE, user)
    form = _user_form(user)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        authorize(current_user, Action.MANAGE_USERS, organisation)
        try:
            accounts.update_user(
                user,
                name=form.name.data,
                email=form.email.data,
                organisation=organisation,
                role=Role(form.role.data),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(_("%(name)s has been saved.", name=user.name), "success")
            return redirect_to(url_for("admin.users"))
    return render(
        "admin/form.html",
        block="admin_form",
        status=422 if form.is_submitted() else 200,
        form=form,
        user=user,
        heading=f"{_('Account')}: {user.name}",
        may_manage=can(current_user, Action.MANAGE, user) and user.id != current_user.id,
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int):
    """Deactivate or reactivate an account."""
    user = _get_or_404(User, user_id)
    authorize(current_user, Action.MANAGE, user)
    if user.id == current_user.id:
        abort(403)
    active = request.form.get("active") == "1"
    accounts.set_active(user, active)
    if active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s can no longer log in.", name=user.name), "success")
    return redirect_to(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    """Give an account a new password and show it once."""
    user = _get_or_404(User, user_id)
    authorize(current_user, Action.MANAGE, user)
    password = accounts.reset_password(user)
    return render("admin/password.html", user=user, password=password, new=False)


# The embeddable lists' page registers its routes on this blueprint.
from app.admin import embeds as _embeds  # noqa: E402, F401
