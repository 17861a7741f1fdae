"""Forms for managing organisations, locations, topics and staff accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app import labels
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
    name_nl = StringField(_l("Name in Dutch"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=80)])
    slug = StringField(_l("Short code"), validators=[DataRequired(), Length(max=40)])
    icon = SelectField(_l("Icon"))
    sort_order = IntegerField(_l("Order"), default=100, minimum=0, maximum=9999)
    active = BooleanField(_l("Active"), default=True)
    public = BooleanField(
        _l("Shown to residents (otherwise only a category for registering contacts)"),
        default=True,
    )


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
