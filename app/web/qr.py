"""QR codes as inline SVG (segno): no image request, no style attribute (the strict CSP)."""

import io

import segno
from markupsafe import Markup, escape


def qr_svg(data: str, label: str) -> Markup:
    """An accessible SVG image of a QR code for ``data``, named ``label``."""
    code = segno.make(data, error="m")
    out = io.BytesIO()
    code.save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=2, svgclass="qr"
    )
    svg = out.getvalue().decode()
    named = Markup('<svg role="img" aria-label="%s" ') % escape(label)
    return Markup(svg.replace("<svg ", str(named), 1))


def card_qr(token: str | None = None) -> Markup:
    """The appointment card's QR code: the appointment's own page (its secret link) when this
    browser was given it, otherwise the page to find an appointment with its code."""
    from flask_babel import gettext as _

    from app.services.notify import external_url

    if token:
        return qr_svg(
            external_url("booking.open_link", token=token),
            _("QR code: scan it to open your appointment on your phone."),
        )
    return qr_svg(
        external_url("booking.find"),
        _("QR code: scan it to find your appointment with your code on your phone."),
    )
