"""What can go wrong in a use case, in the service's own terms. The web package alone decides what
HTTP status each one is (service.web.errors); the CLI prints them."""


class DomainError(Exception):
    """An error the caller can act on. `errors` maps field paths (e.g. `target.lat`) to messages."""

    def __init__(self, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidInput(DomainError):
    """The request itself is wrong: a bad value, a cursor never issued, a size beyond the tree."""


class NotFound(DomainError):
    """Nothing of that id is visible to the caller."""


class Conflict(DomainError):
    """The request contradicts what is stored (same id, other content; overlapping versions)."""


class Unavailable(DomainError):
    """Nothing was done and the same request can be sent again shortly."""

    def __init__(self, detail: str, errors: dict | None = None, retry_after: int = 5):
        super().__init__(detail, errors)
        self.retry_after = retry_after
