"""What an SMS provider answers when a message did not go."""


class SmsError(Exception):
    """A message the provider did not accept; ``permanent`` when a retry cannot help (an
    invalid or blocked number), not when the provider is down, busy or too slow."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent
