"""Forms of the referrals area: the steps of writing one, the receiver's loop, the profile."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.booking.forms import RESIDENT_LANGUAGES
from app.models import ConsentMethod, ConsentScope, ContactMethod, ReferralKind, Urgency
from app.referrals import labels
from app.web.fields import optional_choice_number

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def _language_field(label) -> SelectField:
    return SelectField(
        label,
        choices=[
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in RESIDENT_LANGUAGES
        ],
        default="nl",
    )


class StartForm(FlaskForm):
    """Step 1: warm handover or signposting, and the resident's language."""

    kind = RadioField(
        _l("How do you refer?"),
        choices=[SelectChoice(k.value, labels.REFERRAL_KIND[k]) for k in ReferralKind],
        validators=[InputRequired(_l("Please choose warm handover or signposting."))],
    )
    language = _language_field(_l("The resident's language"))


class ConsentForm(FlaskForm):
    """Step 2 of a warm handover: the resident's answers. Nothing is ticked beforehand."""

    share = RadioField(
        _l("Question 1: may we pass on the details and the question?"),
        choices=YES_NO,
        validators=[InputRequired(_l("Please record the resident's answer."))],
    )
    receive = RadioField(
        _l("Question 2: may the organisation receive them?"),
        choices=YES_NO,
        validators=[InputRequired(_l("Please record the resident's answer."))],
    )
    method = RadioField(
        _l("How did the resident give their answers?"),
        choices=[SelectChoice(m.value, labels.CONSENT_METHOD[m]) for m in ConsentMethod],
        validators=[InputRequired(_l("Please say how the resident gave their answers."))],
    )
    scope = RadioField(
        _l("What may we do?"),
        choices=[
            SelectChoice(s.value, labels.CONSENT_SCOPE[s])
            for s in (ConsentScope.CONTACT, ConsentScope.APPOINTMENT)
        ],
        validators=[Optional()],
    )


class SignpostForm(FlaskForm):
    """Signposting: nothing personal, only what the slip and the counts need."""

    # The choices start with an empty "Choose a topic"; the service checks the topic exists.
    topic = SelectField(
        _l("Topic"),
        coerce=optional_choice_number,
        validate_choice=False,
        validators=[DataRequired(_l("Please choose a topic."))],
    )
    language = _language_field(_l("Language of the slip"))


class WarmForm(SignpostForm):
    """A warm handover: what the receiving organisation needs to contact the resident."""

    language = _language_field(_l("The resident's preferred language"))
    urgency = RadioField(
        _l("How urgent is it?"),
        choices=[SelectChoice(u.value, labels.URGENCY[u]) for u in Urgency],
        default=Urgency.NORMAL.value,
    )
    contact_method = RadioField(
        _l("How does the resident want to be contacted?"),
        choices=[SelectChoice(m.value, labels.CONTACT_METHOD[m]) for m in ContactMethod],
        default=ContactMethod.PHONE.value,
    )
    name = StringField(
        _l("The resident's first name or initials"), validators=[DataRequired(), Length(max=60)]
    )
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email address"), validators=[Optional(), Length(max=255)])
    request = TextAreaField(
        _l("What does the resident want? A few lines"),
        validators=[DataRequired(), Length(max=500)],
    )


class UpdateForm(FlaskForm):
    """The receiver's loop: the buttons carry the new status; the note is internal."""

    status = StringField()
    note = TextAreaField(
        _l("Short note (only your organisation sees it)"), validators=[Optional(), Length(max=500)]
    )


class WithdrawForm(FlaskForm):
    confirm = BooleanField(
        _l("The resident withdraws consent. Erase their details now."),
        validators=[InputRequired(_l("Please confirm that the resident withdraws consent."))],
    )


class ProfileForm(FlaskForm):
    not_offered = TextAreaField(_l("What we do not do"), validators=[Optional(), Length(max=2000)])
    how_to_contact = TextAreaField(
        _l("How residents contact us themselves"), validators=[Optional(), Length(max=2000)]
    )
    what_to_bring = TextAreaField(
        _l("What residents bring"), validators=[Optional(), Length(max=2000)]
    )
