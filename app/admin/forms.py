"""Forms for managing organisations, locations, topics and staff accounts."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app import labels
from app.i18n import text_direction
from app.models import OrganisationKind
from app.web.fields import IntegerField, choice_number


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k.value, labels.ORGANISATION_KIND[k]) for k in OrganisationKind],
    )
    description = TextAreaField(
        _l("What you help with, in plain language"), validators=[Optional(), Length(max=2000)]
    )
    referral_info = TextAreaField(
        _l("How other organisations refer residents to you"),
        validators=[Optional(), Length(max=2000)],
    )
    website = StringField(_l("Website"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("Email address"), validators=[Optional(), Email(), Length(max=255)])
    active = BooleanField(_l("Active"), default=True)


class LocationForm(FlaskForm):
    organisation = SelectField(_l("Host organisation"), coerce=choice_number)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    street = StringField(_l("Street and number"), validators=[DataRequired(), Length(max=160)])
    postcode = StringField(_l("Postcode"), validators=[DataRequired(), Length(max=16)])
    city = StringField(_l("Town or city"), validators=[DataRequired(), Length(max=80)])
    accessibility = TextAreaField(_l("Accessibility"), validators=[Optional(), Length(max=1000)])
    active = BooleanField(_l("Active"), default=True)


class TopicForm(FlaskForm):
    """A topic; its names come from ``topic_form``, one field per language."""

    slug = StringField(_l("Short code"), validators=[DataRequired(), Length(max=40)])
    icon = SelectField(_l("Icon"))
    sort_order = IntegerField(_l("Order"), default=100, minimum=0, maximum=9999)
    active = BooleanField(_l("Active"), default=True)
    public = BooleanField(
        _l("Shown to residents (otherwise only a category for registering contacts)"),
        default=True,
    )


def topic_name_field(language: str) -> str:
    return f"name_{language}"


def topic_form(languages: dict[str, str], **kwargs) -> TopicForm:
    """The topic form with a name field per language (``name_nl``, ``name_ar``, ...), each
    labelled with the language named in itself; only the Dutch name is required."""
    fields = {}
    for language, own_name in languages.items():
        label = Markup('<span lang="%s" dir="%s">%s</span>') % (
            language,
            text_direction(language),
            own_name,
        )
        if language == "nl":
            validators = [DataRequired(), Length(max=80)]
        else:
            label += Markup(" ") + _("(optional)")
            validators = [Optional(), Length(max=80)]
        fields[topic_name_field(language)] = StringField(
            label,
            validators=validators,
            render_kw={"lang": language, "dir": "auto", "maxlength": 80},
        )
    form_class = type("NamedTopicForm", (TopicForm,), fields)
    return form_class(**kwargs)


class OutsideBodyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    sort_order = IntegerField(_l("Order"), default=100, minimum=0, maximum=9999)
    active = BooleanField(_l("Active"), default=True)


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=255)])
    organisation = SelectField(_l("Organisation"), coerce=choice_number)
    role = SelectField(_l("Role"))


class EmbedOriginForm(FlaskForm):
    origin = StringField(_l("Address of the website"), validators=[DataRequired(), Length(max=255)])
    label = StringField(_l("Whose website (optional)"), validators=[Optional(), Length(max=120)])
