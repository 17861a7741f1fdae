"""Domain operations. Views call these; these never read the request."""


class DomainError(Exception):
    """A rule of the domain was broken; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The user may not do this."""
