"""The registration form: radio buttons and lists only, never free text."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from app import labels
from app.models import Channel, Duration, HowHelped
from app.services.registrations import ContactData, QuestionData
from app.web.fields import choice_number

MAX_QUESTIONS = 10


class QuestionForm(Form):
    """One question of the contact (a sub-form: the registration form holds the token)."""

    topic = RadioField(
        _l("What was the question about?"),
        coerce=choice_number,
        validators=[InputRequired(message=_l("Choose what the question was about."))],
    )
    how_helped = RadioField(
        _l("How was the resident helped?"),
        choices=[SelectChoice(h.value, labels.HOW_HELPED[h]) for h in HowHelped],
        validators=[InputRequired(message=_l("Choose how the resident was helped."))],
    )
    referred_organisation = SelectField(
        _l("Referred to an organisation in the network"), coerce=choice_number, default=0
    )
    outside_body = SelectField(_l("Or referred to"), coerce=choice_number, default=0)
    course_recommended = BooleanField(_l("A course was recommended (such as Digisterker)"))

    def data_for_service(self) -> QuestionData:
        return QuestionData(
            topic_id=self.topic.data,
            how_helped=HowHelped(self.how_helped.data) if self.how_helped.data else None,
            referred_organisation_id=self.referred_organisation.data or None,
            outside_body_id=self.outside_body.data or None,
            course_recommended=bool(self.course_recommended.data),
        )


class RegistrationForm(FlaskForm):
    channel = RadioField(
        _l("How did the contact take place?"),
        choices=[SelectChoice(c.value, labels.CHANNEL[c]) for c in Channel],
        validators=[InputRequired(message=_l("Choose how the contact took place."))],
    )
    location = SelectField(_l("Location"), coerce=choice_number, default=0)
    questions = FieldList(FormField(QuestionForm), min_entries=1, max_entries=MAX_QUESTIONS)
    duration = RadioField(
        _l("How long did it take?"),
        choices=[SelectChoice(d.value, labels.DURATION[d]) for d in Duration],
        validators=[InputRequired(message=_l("Choose how long it took."))],
    )
    back = HiddenField()

    def contact_data(self) -> ContactData:
        return ContactData(
            channel=Channel(self.channel.data),
            duration=Duration(self.duration.data),
            location_id=self.location.data if "location" in self else None,
            questions=[entry.form.data_for_service() for entry in self.questions],
        )
