"""URL converters of the whole app."""

import builtins

from werkzeug.routing import IntegerConverter, Map

from app.web.params import LARGEST_INT


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number larger than an integer column holds matches no
    route (404), so it never reaches the database."""

    def __init__(
        self,
        map: Map,  # noqa: A002 - werkzeug passes the converter arguments by these names
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = None,  # noqa: A002
        signed: bool = False,
    ) -> None:
        largest = LARGEST_INT if max is None else builtins.min(max, LARGEST_INT)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=largest, signed=signed)


def register(app) -> None:
    """Replace Flask's ``int`` converter; before any blueprint adds its routes."""
    app.url_map.converters["int"] = IdConverter
