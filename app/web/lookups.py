"""Finding what a resident has (an appointment, a course sign-up) with its code and their
phone number or name: one page shape, whose failed look-ups count against the rate limits."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm

from app.web import limits
from app.web.htmx import redirect_to, render


def code_lookup_page(
    form: FlaskForm,
    find: Callable,
    *,
    grant: Callable,
    found_url: str,
    not_found: str,
    template: str,
):
    """The look-up form and its answer: on a match the resident's session is granted the
    thing found and sent to ``found_url``; a miss says ``not_found``; too many misses answer
    429 with when to try again."""
    status = 200
    refusal = None
    if form.validate_on_submit():
        try:
            found = find(form.code.data, form.phone_or_name.data)
        except limits.TooManyAttempts as error:
            refusal, status = error, 429
        else:
            if found is not None:
                grant(found)
                return redirect_to(found_url)
            form.code.errors.append(not_found)
            status = 422
    elif form.is_submitted():
        status = 422
    response = render(template, block="find_form", status=status, form=form, refusal=refusal)
    return limits.with_retry_after(response, refusal)
