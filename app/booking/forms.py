"""The resident's booking form and the forms to find, cancel and move an appointment."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app.services.booking import ResidentDetails

# Languages seen in library newcomer material; each named in itself.
RESIDENT_LANGUAGES = [
    ("nl", "Nederlands"),
    ("en", "English"),
    ("ar", "العربية"),
    ("tr", "Türkçe"),
    ("pl", "Polski"),
    ("uk", "Українська"),
    ("ti", "ትግርኛ"),
    ("prs", "دری"),
]


LANGUAGE_CHOICES = [
    SelectChoice(code, label, render_kw={"lang": code}) for code, label in RESIDENT_LANGUAGES
]
LANGUAGE_NAMES = dict(RESIDENT_LANGUAGES)


class BookingForm(FlaskForm):
    name = StringField(
        _l("Your first name or initials"), validators=[DataRequired(), Length(max=60)]
    )
    phone = TelField(_l("Phone number (not required)"), validators=[Optional(), Length(max=32)])
    email = EmailField(
        _l("Email address (not required)"), validators=[Optional(), Email(), Length(max=255)]
    )
    language = SelectField(
        _l("Which language do you prefer?"),
        choices=LANGUAGE_CHOICES,
        default="nl",
    )
    question = TextAreaField(
        _l("What is your question? (not required)"), validators=[Optional(), Length(max=500)]
    )
    needs_interpreter = BooleanField(_l("I need an interpreter"))
    needs_wheelchair = BooleanField(_l("I use a wheelchair"))

    def resident_details(self) -> ResidentDetails:
        """What the booking service needs from a validated form."""
        return ResidentDetails(
            name=self.name.data,
            phone=self.phone.data or "",
            email=self.email.data or "",
            language=self.language.data,
            question=self.question.data or "",
            needs_interpreter=self.needs_interpreter.data,
            needs_wheelchair=self.needs_wheelchair.data,
        )


class FindForm(FlaskForm):
    code = StringField(_l("Appointment code"), validators=[DataRequired(), Length(max=12)])
    phone_or_name = StringField(
        _l("Your phone number, or the name you gave"),
        validators=[DataRequired(), Length(max=60)],
    )


class ActionForm(FlaskForm):
    """Cancel or move: carries the version so that a form from before a change cannot act."""

    version = HiddenField()
    slot = HiddenField()
